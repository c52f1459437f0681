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

_INDEX = """
SELECT ?s (SAMPLE(?n) AS ?name) (SAMPLE(?d) AS ?desc) (SAMPLE(?ty) AS ?type)
       (SAMPLE(?st) AS ?stage) WHERE {
  ?s a dpg:Solution ; schema:name ?n .
  OPTIONAL { ?s schema:description ?d } OPTIONAL { ?s dpg:solutionType ?ty }
  OPTIONAL { ?s dpg:stage ?st }
} GROUP BY ?s"""


@dataclass(frozen=True, slots=True)
class Entry:
    iri: str
    name: str
    description: str  # its first DESCRIPTION_WORDS words
    type: str | None  # IRI
    stage: str | None  # IRI


def _index(store) -> list[Entry]:
    entries = [
        Entry(r["s"].value, r["name"].value,
              " ".join(r["desc"].value.split()[:DESCRIPTION_WORDS]) if "desc" in r else "",
              r["type"].value if "type" in r else None,
              r["stage"].value if "stage" in r else None)
        for r in store.select(sparql_prefixes() + _INDEX)
    ]
    # as the list was sorted in SPARQL: ORDER BY LCASE(STR(?name)) ?s
    entries.sort(key=lambda e: (e.name.lower(), e.iri))
    return entries


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
