"""The control graph `urn:dpgkg:control`: the version served, the graphs it wrote,
unfinished staged uploads and (Virtuoso) the swap marker; and (the Oxigraph server) the
merge graph `urn:dpgkg:merge`, the RDF merge of the version's graphs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from dpgkg.store.base import NoGraph, StoreUnavailable
from dpgkg.store.remote.client import (
    StoreError,
)
from dpgkg.store.remote.spec import Endpoints, redact
from dpgkg.store.remote.virtuoso import (
    _DEADLOCK,
    _SERIALIZABLE,
    DEADLOCK_RETRIES,
)

CONTROL = ox.NamedNode("urn:dpgkg:control")


# Each distinct triple of the version's graphs once (`bookkeeping="merge"`): the default
# graph of queries, as the embedded store's stored default graph is.
MERGE = ox.NamedNode("urn:dpgkg:merge")


VERSION = ox.NamedNode("urn:dpgkg:version")


GRAPHS = ox.NamedNode("urn:dpgkg:graphs")


STAGING = ox.NamedNode("urn:dpgkg:staging")


CLEARS = ox.NamedNode("urn:dpgkg:clears")


STAGES = ox.NamedNode("urn:dpgkg:stages")


# In the control triples of a version published with its merge graph.
MERGED = ox.NamedNode("urn:dpgkg:merged")


# Present from the commit of a swap until the writer has seen that commit complete
# (guarded stores only): readers wait while it is there.
SWAPPED = ox.NamedNode("urn:dpgkg:swapped")


@dataclass
class Control:
    """What the control graph says: the version served, its graphs, unfinished uploads."""

    version: str | None = None
    graphs: list[str] = field(default_factory=list)
    staging: list[str] = field(default_factory=list)
    swapped: str | None = None
    # The version was published with its merge graph (a store an earlier dpgkg wrote is
    # queried the earlier way until the next publish)
    merged: bool = False


class ControlGraph:
    """Reading the control graph (mixed into RemoteStore)."""

    def _control(self) -> Control:
        sparql = f"SELECT ?p ?o {{ {in_control(f'{CONTROL} ?p ?o')} }}"
        if self.endpoints.kind == "oxigraph":  # and where an earlier dpgkg kept them
            sparql = (f"SELECT ?p ?o {{ {{ {in_control(f'{CONTROL} ?p ?o')} }} "
                      f"UNION {{ {CONTROL} ?p ?o }} }}")
        if self.endpoints.guard:
            sparql = (f"SELECT ?p ?o {{ {{ GRAPH {CONTROL} {{ {CONTROL} {SWAPPED} ?o "
                      f"{_SERIALIZABLE} }} BIND({SWAPPED} AS ?p) }} UNION "
                      f"{{ GRAPH {CONTROL} {{ {CONTROL} ?p ?o }} }} }}")
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                rows = [(row["p"], row["o"])
                        for row in self._query(sparql, "SELECT", raw=True)]
            except StoreUnavailable as exc:
                # A serializable read can deadlock with a swap (which wins): read again.
                if attempt == DEADLOCK_RETRIES or not _DEADLOCK.search(str(exc)):
                    raise
                time.sleep(0.02 * 2 ** attempt)
                continue
            # Virtuoso, reading while a swap commits, can leave ?o unbound: read again.
            if all(p is not None and o is not None for p, o in rows):
                break
            time.sleep(0.02 * 2 ** attempt)
        else:
            raise StoreError(f"{redact(self.endpoints.query)}: the control graph could not be "
                             "read whole")
        state = Control()
        for p, o in rows:
            if p == VERSION:
                state.version = o.value
            elif p == GRAPHS:
                state.graphs = o.value.split()
            elif p == STAGING:
                state.staging.append(o.value)
            elif p == SWAPPED:
                state.swapped = o.value
            elif p == MERGED:
                state.merged = True
        self._last_control = state
        return state

    def _graphs(self) -> list[str]:
        return self._control().graphs

    def version(self) -> str:
        version = self._control().version
        if version is None:
            raise NoGraph(f"no graph built yet at {redact(self.spec)} (run `dpgkg build`)")
        return version


def in_control(triples: str) -> str:
    """`triples` (a pattern, or data to insert or delete) in the control graph."""
    return f"GRAPH {CONTROL} {{ {triples} }}"


def _control_ops(endpoints: Endpoints, version: str, graphs: list[str],
                 merge_from: str | None = None) -> list[str]:
    """The operations that end a swap request: the control triples of `version`, and
    (`bookkeeping="merge"`) the merge of its `graphs`, made by the store from the graphs
    the request has just written (`merge_from`: a pattern binding ?s ?p ?o to their
    triples, by default one naming each graph)."""
    merge = endpoints.bookkeeping == "merge"
    listing = ox.Literal("\n".join(graphs))
    triples = f"{CONTROL} {VERSION} {ox.Literal(version)} . {CONTROL} {GRAPHS} {listing} ."
    if merge:
        triples += f" {CONTROL} {MERGED} {MERGE} ."
    ops = [f"DELETE WHERE {{ {in_control(f'{CONTROL} {VERSION} ?v')} }}",
           f"DELETE WHERE {{ {in_control(f'{CONTROL} {GRAPHS} ?g')} }}",
           f"DELETE WHERE {{ {in_control(f'{CONTROL} {MERGED} ?m')} }}",
           # a swap marker a dead build left behind
           f"DELETE WHERE {{ {in_control(f'{CONTROL} {SWAPPED} ?m')} }}",
           f"INSERT DATA {{ {in_control(triples)} }}"]
    if not merge:
        return ops
    values = " ".join(f"<{g}>" for g in graphs)
    source = merge_from or f"VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }}"
    if endpoints.kind == "virtuoso":
        # Only what changed: Virtuoso's crash recovery loses rows deleted and inserted
        # again in one transaction.
        return [*ops,
                (f"DELETE {{ GRAPH {MERGE} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {MERGE} "
                 f"{{ ?s ?p ?o }} FILTER NOT EXISTS {{ {source} }} }}"),
                (f"INSERT {{ GRAPH {MERGE} {{ ?s ?p ?o }} }} WHERE {{ {source} "
                 f"FILTER NOT EXISTS {{ GRAPH {MERGE} {{ ?s ?p ?o }} }} }}")]
    return [
        # control triples where an earlier dpgkg kept them on the Oxigraph server (its
        # own default graph) moved first, so that staging records survive
        (f"DELETE {{ {CONTROL} ?p ?o }} INSERT {{ {in_control(f'{CONTROL} ?p ?o')} }} "
         f"WHERE {{ {CONTROL} ?p ?o }}"),
        *ops,
        f"DROP SILENT GRAPH {MERGE}",
        f"INSERT {{ GRAPH {MERGE} {{ ?s ?p ?o }} }} WHERE {{ {source} }}"]


def _staging_record(record: str) -> str:
    """The control triple of an unfinished staged upload (data for INSERT/DELETE DATA)."""
    return in_control(f"{CONTROL} {STAGING} {ox.Literal(record)}")


def _staging_name(version: str, graph: str) -> str:
    return f"urn:dpgkg:staging:{version}:{graph}"
