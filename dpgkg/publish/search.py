"""Full-text search over names and descriptions.

The index is built in memory from one query the first time a store version is
searched (about a second for the full graph) and then reused until the next build.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

from dpgkg.rdf import sparql_prefixes

KINDS = {  # class -> kind shown in results, most specific first
    "https://w3id.org/dpgkg/ontology#DigitalPublicGood": "DPG",
    "https://w3id.org/dpgkg/ontology#Nominee": "Nominee",
    "https://w3id.org/dpgkg/ontology#ArchivedSolution": "Archived solution",
    "https://w3id.org/dpgkg/ontology#ExcludedSolution": "Excluded solution",
    "https://w3id.org/dpgkg/ontology#Solution": "Solution",
    "https://w3id.org/dpgkg/ontology#Alliance": "Organisation",
    "https://w3id.org/dpgkg/ontology#Organisation": "Organisation",
    "http://metadata.un.org/sdg/ontology#Goal": "SDG goal",
    "http://metadata.un.org/sdg/ontology#Target": "SDG target",
    "https://w3id.org/dpgkg/ontology#Country": "Country",
    "https://w3id.org/dpgkg/ontology#Recommendation": "Recommendation",
    "https://w3id.org/dpgkg/ontology#RoadmapArea": "Roadmap area",
    "https://w3id.org/dpgkg/ontology#CompactObjective": "Compact objective",
}
_RANK = {k: i for i, k in enumerate(dict.fromkeys(KINDS.values()))}

_TYPES = " ".join(f"<{k}>" for k in KINDS)
_QUERY = """
SELECT ?s ?type ?name ?rank ?desc WHERE {
  VALUES ?type { TYPES }
  ?s a ?type .
  { ?s schema:name ?name BIND(1 AS ?rank) }
  UNION { ?s skos:prefLabel ?name FILTER(LANG(?name) IN ("", "en")) BIND(2 AS ?rank) }
  UNION { ?s schema:description|dct:description ?desc }
  UNION { ?s schema:alternateName ?name BIND(3 AS ?rank) }
}""".replace("TYPES", _TYPES)

_WORD = re.compile(r"\w+")

# Page sizes of the site's lists (served by dpgkg.web.lists, stated in /openapi.json).
BROWSE_PAGE_SIZE = 50
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500


def fold(text: str) -> str:
    """Lower case without accents, for matching."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@dataclass
class Entry:
    iri: str
    kind: str
    name: str
    description: str
    name_folded: str
    text_folded: str
    name_words: frozenset[str]


@dataclass
class Hit:
    iri: str
    kind: str
    name: str
    description: str
    score: float


class SearchIndex:
    def __init__(self, entries: list[Entry]):
        self.entries = entries

    @classmethod
    def build(cls, store) -> SearchIndex:
        found: dict[str, dict] = {}
        for row in store.select(sparql_prefixes() + _QUERY):
            e = found.setdefault(row["s"].value, {"kinds": set(), "names": [], "descs": []})
            e["kinds"].add(KINDS[row["type"].value])
            if "name" in row and row["name"].value not in (n for _, n in e["names"]):
                e["names"].append((int(row["rank"].value), row["name"].value))
            if "desc" in row and row["desc"].value not in e["descs"]:
                e["descs"].append(row["desc"].value)
        entries = []
        for iri, e in found.items():
            if not e["names"]:
                continue
            kind = min(e["kinds"], key=_RANK.__getitem__)
            # The name the browse list shows (schema:name), never an alias.
            e["names"].sort(key=lambda x: x[0])
            name, desc = e["names"][0][1], " ".join(e["descs"])
            names = " ".join(n for _, n in e["names"])
            entries.append(Entry(iri, kind, name, desc, fold(names),
                                 fold(names + " " + desc),
                                 frozenset(_WORD.findall(fold(names)))))
        return cls(entries)

    def search(self, q: str, *, kind: str | None = None, limit: int | None = 50) -> list[Hit]:
        """Entries whose name or description contains every word of `q`, best first."""
        words = _WORD.findall(fold(q))
        if not words:
            return []
        hits = []
        for e in self.entries:
            if kind and e.kind != kind:
                continue
            score = 0.0
            for w in words:
                if w in e.name_words:
                    score += 10
                elif w in e.name_folded:
                    score += 5
                elif w in e.text_folded:
                    score += 1
                else:
                    break
            else:
                if e.name_folded == " ".join(words):
                    score += 20
                score -= _RANK[e.kind] * 0.1  # DPGs before nominees before the rest
                hits.append(Hit(e.iri, e.kind, e.name, e.description, score))
        hits.sort(key=lambda h: (-h.score, h.name.lower()))
        return hits if limit is None else hits[:limit]


_cache: dict[int, tuple[str, SearchIndex]] = {}
_lock = threading.Lock()


def search(store, q: str, *, kind: str | None = None, limit: int | None = 50) -> list[Hit]:
    """Search the graph now served by `store` (the index follows store versions); every
    hit with `limit=None`."""
    return index_for(store).search(q, kind=kind, limit=limit)


def index_for(store) -> SearchIndex:
    version = store.version()
    cached = _cache.get(id(store))
    if cached and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _cache.get(id(store))
        if not cached or cached[0] != version:
            cached = (version, SearchIndex.build(store))
            _cache[id(store)] = cached
    return cached[1]
