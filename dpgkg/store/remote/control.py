"""The control graph `urn:dpgkg:control`: the version served, the graphs it wrote,
unfinished staged uploads and (Virtuoso) the swap marker."""

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


VERSION = ox.NamedNode("urn:dpgkg:version")


GRAPHS = ox.NamedNode("urn:dpgkg:graphs")


STAGING = ox.NamedNode("urn:dpgkg:staging")


CLEARS = ox.NamedNode("urn:dpgkg:clears")


STAGES = ox.NamedNode("urn:dpgkg:stages")


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


class ControlGraph:
    """Reading the control graph (mixed into RemoteStore)."""

    def _control(self) -> Control:
        sparql = f"SELECT ?p ?o {{ {in_control(self.endpoints, f'{CONTROL} ?p ?o')} }}"
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
        self._last_control = state
        return state

    def _graphs(self) -> list[str]:
        return self._control().graphs

    def version(self) -> str:
        version = self._control().version
        if version is None:
            raise NoGraph(f"no graph built yet at {redact(self.spec)} (run `dpgkg build`)")
        return version


def in_control(endpoints: Endpoints, triples: str) -> str:
    """`triples` (a pattern, or data to insert or delete) where the control triples are:
    the store's own default graph, or the named graph CONTROL (`Endpoints.bookkeeping`)."""
    if endpoints.bookkeeping == "default":
        return triples
    return f"GRAPH {CONTROL} {{ {triples} }}"


def _control_ops(endpoints: Endpoints, version: str, graphs: list[str]) -> list[str]:
    listing = ox.Literal("\n".join(graphs))
    triples = f"{CONTROL} {VERSION} {ox.Literal(version)} . {CONTROL} {GRAPHS} {listing} ."
    ops = [f"DELETE WHERE {{ {in_control(endpoints, f'{CONTROL} {VERSION} ?v')} }}",
           f"DELETE WHERE {{ {in_control(endpoints, f'{CONTROL} {GRAPHS} ?g')} }}",
           # a swap marker a dead build left behind
           f"DELETE WHERE {{ {in_control(endpoints, f'{CONTROL} {SWAPPED} ?m')} }}",
           f"INSERT DATA {{ {in_control(endpoints, triples)} }}"]
    if endpoints.bookkeeping == "default":  # where an earlier dpgkg kept it
        ops.insert(0, f"DROP SILENT GRAPH {CONTROL}")
    return ops


def _staging_record(endpoints: Endpoints, record: str) -> str:
    """The control triple of an unfinished staged upload (data for INSERT/DELETE DATA)."""
    return in_control(endpoints, f"{CONTROL} {STAGING} {ox.Literal(record)}")


def _staging_name(version: str, graph: str) -> str:
    return f"urn:dpgkg:staging:{version}:{graph}"
