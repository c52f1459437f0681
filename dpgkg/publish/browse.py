"""The browse list: every solution in name order with what the list shows, kept per store
version, and the solutions a filter matches.

Framework-free. Sorting every match by name on each request made a page of the browse
list cost a sort of the whole graph's solutions (tens of ms at 1x, growing with the
graph); the order and the columns only change with a build, so they are read once per
store version (one query, under the query timeout like every page query). Each pattern
of a filter is then one query for the IRIs it matches, kept per store version for the
patterns last asked for: the pages of a filtered list, and the filters sharing a
pattern, read it once; a filter of several patterns is the intersection of their sets.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from dpgkg.publish.cache import per_version
from dpgkg.rdf import sparql_prefixes

# Words of a description the list keeps (it shows 40 and an ellipsis when there are more).
DESCRIPTION_WORDS = 41
FILTERS_KEPT = 128

# Not grouped: oxigraph streams it (a GROUP BY with SAMPLEs took twice as long at 10x);
# the first row of each solution stands for it, as SAMPLE would.
_INDEX = """
SELECT ?s ?name ?desc ?type ?stage WHERE {
  ?s a dpg:Solution ; schema:name ?name .
  OPTIONAL { ?s schema:description ?desc } OPTIONAL { ?s dpg:solutionType ?type }
  OPTIONAL { ?s dpg:stage ?stage }
}"""


@dataclass(frozen=True, slots=True)
class Entry:
    iri: str
    name: str
    description: str  # its first DESCRIPTION_WORDS words
    type: str | None  # IRI
    stage: str | None  # IRI


def _index(store) -> list[Entry]:
    found: dict[str, Entry] = {}
    for r in store.query(sparql_prefixes() + _INDEX):  # rows as they come: no dict each
        iri = r["s"].value
        if iri not in found:
            desc, kind, stage = r["desc"], r["type"], r["stage"]
            found[iri] = Entry(
                iri, r["name"].value,
                " ".join(desc.value.split()[:DESCRIPTION_WORDS]) if desc is not None else "",
                kind.value if kind is not None else None,
                stage.value if stage is not None else None)
    # as the list was sorted in SPARQL: ORDER BY LCASE(STR(?name)) ?s
    return sorted(found.values(), key=lambda e: (e.name.lower(), e.iri))


def index(store) -> list[Entry]:
    """Every named solution in the browse list's order (name, then IRI)."""
    return per_version(store, "browse-index", _index)


def _positions(store) -> dict[str, int]:
    return {e.iri: i for i, e in enumerate(index(store))}


class _Kept:
    """The last `size` values computed per key (store, version, ...), thread-safe."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, compute):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


_sets = _Kept(FILTERS_KEPT)  # pattern -> the IRIs it matches
_lists = _Kept(FILTERS_KEPT)  # patterns -> the matching entries in order


def _matches(store, pattern: str) -> frozenset[str]:
    """The solutions one pattern matches: the set is shared by every filter that uses
    it (the DPGs, a goal: /dpgs?sdg=3, /dpgs?sdg=3&type=Software, /sdg/3)."""
    def compute() -> frozenset[str]:
        query = sparql_prefixes() + f"SELECT DISTINCT ?s WHERE {{ {pattern} }}"
        return frozenset(r["s"].value for r in store.query(query))

    return _sets.get((id(store), store.version(), pattern), compute)


def matching(store, patterns: list[str]) -> list[Entry]:
    """The solutions that match every SPARQL pattern (each binding ?s on its own), in the
    list's order."""
    entries = index(store)
    if not patterns:
        return entries

    def compute() -> list[Entry]:
        sets = sorted((_matches(store, p) for p in dict.fromkeys(patterns)), key=len)
        common = sets[0].intersection(*sets[1:])
        where = per_version(store, "browse-positions", _positions)
        return [entries[i] for i in sorted(where[iri] for iri in common if iri in where)]

    return _lists.get((id(store), store.version(), tuple(patterns)), compute)
