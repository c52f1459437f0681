"""What every store offers: read queries, and versioned, atomically swapped writes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from pyoxigraph import NamedNode, Quad


class StoreUnavailable(Exception):
    """The store cannot be reached or holds no graph yet."""


class NoGraph(StoreUnavailable):
    """The store answers but serves no graph yet (nothing was built into it)."""


class StoreTimeout(StoreUnavailable):
    """The store did not answer within the query timeout."""


class StoreError(RuntimeError):
    """The store answered, but not with what we asked for (e.g. truncated results)."""


class Store(ABC):
    @abstractmethod
    def query(self, sparql: str, *, default_graph_uris: list[str] | None = None,
              named_graph_uris: list[str] | None = None):
        """Run a read query; returns pyoxigraph QuerySolutions, QueryTriples or QueryBoolean.

        Without dataset IRIs the default graph is the union (the RDF merge) of all graphs.
        """

    @abstractmethod
    def version(self) -> str:
        """An id of the graph now served; changes with every successful build."""

    @abstractmethod
    def writer(self) -> StoreWriter:
        """A writer for a new version; nothing is visible until `commit()`."""

    def select(self, sparql: str) -> list[dict]:
        """A SELECT as a list of {variable: pyoxigraph term} rows (unbound variables left out)."""
        results = self.query(sparql)
        names = [v.value for v in results.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in results]

    def ask(self, sparql: str) -> bool:
        return bool(self.query(sparql))

    def close(self) -> None:
        pass

    def preload(self) -> bool:
        """Copy the served version into memory now, if this store copies it at all; False
        when there is nothing to copy (nothing is opened then)."""
        return False

    def stale(self) -> bool:
        """A copy in memory whose version is no longer the one served."""
        return False

    def copied_version(self) -> str | None:
        """The version copied into memory, if any."""
        return None


class StoreWriter(ABC):
    """Loads one new version of the graph; `commit` swaps it in, `abort` throws it away."""

    #: After `commit`, the committed version as an in-memory pyoxigraph store, when the
    #: writer staged it in memory: dumps are written from it instead of reading it back.
    committed = None
    #: ...and, when the writer stored it, the RDF merge of its named graphs (each distinct
    #: triple once) as N-Triples bytes.
    merged_nt = None

    @abstractmethod
    def add_graph(self, graph: NamedNode, triples: Iterable) -> None:
        """Add triples (pyoxigraph Triples) into named graph `graph`."""

    @abstractmethod
    def add_quads(self, quads: Iterable[Quad]) -> None: ...

    def add_graph_nt(self, graph: NamedNode, data: bytes) -> None:
        """Add the triples of N-Triples `data` into named graph `graph` (a writer that
        can parses them itself, faster than Python makes the terms)."""
        import pyoxigraph as ox

        self.add_graph(graph, ox.parse(data, format=ox.RdfFormat.N_TRIPLES))

    @abstractmethod
    def query(self, sparql: str):
        """Query what has been loaded so far (union default graph)."""

    @abstractmethod
    def commit(self, before_swap=None) -> str:
        """Make this version the one served; returns its version id.

        `before_swap(version, staged, merged_nt)`, when given, runs once the new version
        is complete (in the store, or staged in memory while it is written to the store)
        and before it is served (with the version staged in memory and its merge as
        N-Triples, or None); if it raises, nothing is swapped in.
        """

    @abstractmethod
    def abort(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.abort()
        return False
