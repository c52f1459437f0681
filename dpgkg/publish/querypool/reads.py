"""The site's and the resources' own queries, run in the query pool like /sparql's.

Oxigraph cannot stop a query, so a page query run in the web process would run as
long as it takes. `PooledReads` is a read-only `Store` whose queries go to the pool's
worker processes under the query timeout (the worker is killed when it passes it)
and come back as SPARQL JSON results or N-Triples, parsed into the same pyoxigraph
objects the store itself returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyoxigraph as ox

from dpgkg.publish.querypool.pool import QueryPool
from dpgkg.publish.sparql import QueryBusy, QueryError, QueryTimeout
from dpgkg.store.base import Store, StoreError, StoreTimeout, StoreWriter


class PooledReads(Store):
    """Queries of `store` run by the pool `pool()` within `timeout` s; `client()` names
    who asked (the pool's per-client share), None outside a request."""

    def __init__(self, store: Store, pool: Callable[[], QueryPool], timeout: float,
                 client: Callable[[], str | None] = lambda: None):
        self.store = store
        self._pool = pool
        self.timeout = timeout
        self._client = client

    def query(self, sparql, *, default_graph_uris=None, named_graph_uris=None):
        try:
            answer = self._pool().run(sparql, timeout=self.timeout,
                                      default_graph_uris=default_graph_uris,
                                      named_graph_uris=named_graph_uris,
                                      result_format="json", graph_format="ntriples",
                                      client=self._client())
            body = b"".join(answer.body)
        except (QueryTimeout, QueryBusy) as exc:
            raise StoreTimeout(str(exc)) from None
        except QueryError as exc:
            raise StoreError(f"a page query failed: {exc}") from None
        if answer.format.name == "ntriples":
            return _triples(body)
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

    def version(self) -> str:
        return self.store.version()

    def writer(self) -> StoreWriter:
        raise StoreError("the web process's page reads cannot write a version")

    def close(self) -> None:
        self.store.close()


def _triples(body: bytes) -> Iterator[ox.Triple]:
    for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
        yield quad.triple
