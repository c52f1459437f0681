"""The remote store's writer: a version staged locally, published on commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from dpgkg.store.base import StoreWriter
from dpgkg.store.embedded import _new_version_id

if TYPE_CHECKING:  # the store makes its writers
    from dpgkg.store.remote.store import RemoteStore


class RemoteWriter(StoreWriter):
    """Stages a version locally; `commit` publishes it in one update request."""

    def __init__(self, store: RemoteStore):
        self.remote = store
        self.version_id = _new_version_id()
        self.store = ox.Store()
        self._done = False

    def add_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        if any(isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
            # Queries' default graph is the version's merge (or union): triples in the
            # store's own default graph would be seen by no query and never replaced.
            raise ValueError("the remote store takes named graphs only")
        self.store.bulk_extend(quads)

    def query(self, sparql: str):
        return self.store.query(sparql, use_default_graph_as_union=True)

    def commit(self, before_swap=None) -> str:
        if self._done:
            raise RuntimeError("writer already committed or aborted")
        if before_swap is not None:  # the remote swap is the publishing request itself
            before_swap(self.version_id, self.store, None)
        self.remote.publish(self.store, self.version_id)
        self._done = True
        self.committed, self.store = self.store, ox.Store()
        return self.version_id

    def abort(self) -> None:
        # Nothing reached the server before commit(): dropping the local copy is enough.
        self._done = True
        self.store = ox.Store()
