"""The browse list: every solution in name order with what the list shows, kept per store
version, and the solutions a filter matches.

Framework-free. Sorting every match by name on each request made a page of the browse
list cost a sort of the whole graph's solutions (tens of ms at 1x, growing with the
graph); the order and the columns only change with a build, so they are read once per
store version (one query, under the query timeout like every page query). A filter is
then one query for the matching solutions' IRIs, also kept per store version for the
filters last asked for, so every page of a filtered list reads it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from dpgkg.publish.cache import per_version
from dpgkg.rdf import sparql_prefixes

# Words of a description the list keeps (it shows 40 and an ellipsis when there are more).
DESCRIPTION_WORDS = 41
FILTERS_KEPT = 64

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


_matches: OrderedDict[tuple, list[Entry]] = OrderedDict()
_lock = threading.Lock()


def matching(store, patterns: list[str]) -> list[Entry]:
    """The solutions that match every SPARQL pattern (binding ?s), in the list's order."""
    entries = index(store)
    if not patterns:
        return entries
    key = (id(store), store.version(), tuple(patterns))
    with _lock:
        found = _matches.get(key)
        if found is not None:
            _matches.move_to_end(key)
            return found
    where = "\n".join(patterns)
    iris = {r["s"].value for r in store.select(
        sparql_prefixes() + f"SELECT DISTINCT ?s WHERE {{ {where} }}")}
    found = [e for e in entries if e.iri in iris]
    with _lock:
        _matches[key] = found
        while len(_matches) > FILTERS_KEPT:
            _matches.popitem(last=False)
    return found
