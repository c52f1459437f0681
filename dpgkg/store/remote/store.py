"""RemoteStore: a SPARQL 1.1 Protocol store behind `Store`."""

from __future__ import annotations

import logging
import time

from dpgkg.config import Settings
from dpgkg.store.base import Store, StoreUnavailable
from dpgkg.store.remote.client import ProtocolClient, _triples
from dpgkg.store.remote.control import (
    MERGE,
    Control,
    ControlGraph,
)
from dpgkg.store.remote.publish import Publisher
from dpgkg.store.remote.spec import (
    _publish_mode,
    _strip_userinfo,
    names_dataset,
    parse_spec,
    query_form,
    uses_graph,
)
from dpgkg.store.remote.virtuoso import (
    _DEADLOCK,
    STALE_SWAP,
    UPDATE_DEADLOCK_SECONDS,
    VirtuosoGuard,
    _dataset_defines,
    deadlock_pause,
)
from dpgkg.store.remote.writer import RemoteWriter

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 3600.0  # seconds: publishing a whole version can take a while


NO_GRAPH = "urn:dpgkg:none"  # a dataset of no graph (a store with no version yet)


UNION = ([], None)  # the store's union default graph (`Endpoints.union_params`)


def _dataset_params(default: list[str], named: list[str] | None) -> list[tuple[str, str]]:
    return [*(("default-graph-uri", g) for g in default),
            *(("named-graph-uri", g) for g in named or [])]


class RemoteStore(ProtocolClient, VirtuosoGuard, ControlGraph, Publisher, Store):
    """A SPARQL 1.1 Protocol store. Keeps no connection state: a store that comes back works."""

    def __init__(self, spec: str, *, timeout: float | None = None, user: str | None = None,
                 password: str | None = None, write_timeout: float = WRITE_TIMEOUT,
                 publish: str | None = None, settings: Settings | None = None):
        # Unset options come from the settings (by default from the environment: the
        # query worker processes get the credentials that way).
        settings = settings if settings is not None else Settings.from_env()
        spec, spec_user, spec_password = _strip_userinfo(spec)
        self.user = user or settings.store_user or spec_user
        self.password = password or settings.store_password or spec_password
        self.load_address = settings.load_address
        self.endpoints = parse_spec(spec, authenticated=bool(self.user))
        if publish is not None:
            self.endpoints.publish = _publish_mode(publish)
        self.spec = spec
        if timeout is None:
            timeout = settings.query_timeout
        self.timeout = timeout
        self.write_timeout = write_timeout
        # guarded reads: the last control graph read, when each swap marker was first
        # seen, and how long one may stay before it is taken as left by a dead build
        self._last_control: Control | None = None
        self._swap_seen: dict[str, float] = {}
        self.stale_swap = STALE_SWAP
        # the merge graph has been seen published (bookkeeping="merge")
        self._merged = False

    def __repr__(self) -> str:
        return f"RemoteStore({self.spec!r})"

    # Reading
    def query(self, sparql, *, default_graph_uris=None, named_graph_uris=None):
        form = query_form(sparql)
        if not (self.endpoints.guard or self._lists_graphs(sparql, default_graph_uris,
                                                           named_graph_uris)):
            return self._query(sparql, form, default_graph_uris, named_graph_uris)
        # Between two control reads that show the same version: the graph list read
        # before the query is that of the version it ran on (see `_guarded`).
        return self._guarded(lambda state: self._query(sparql, form, default_graph_uris,
                                                       named_graph_uris, state))

    def _lists_graphs(self, sparql, default_graph_uris, named_graph_uris) -> bool:
        """Whether the query may be given the version's graphs, read from the control graph."""
        if default_graph_uris:
            return False
        if self.endpoints.bookkeeping != "merge":
            return True
        return not named_graph_uris and uses_graph(sparql) and not names_dataset(sparql)

    def raw_query(self, sparql: str):
        """A query over all the store holds, dpgkg's bookkeeping and other clients' graphs
        included (for inspection: `query` never shows them)."""
        return self._query(sparql, query_form(sparql), raw=True)

    def _query(self, sparql, form, default_graph_uris=None, named_graph_uris=None,
               state: Control | None = None, *, raw: bool = False):
        """Run a query over the dataset it names, else over the version served (its
        bookkeeping left out); `raw`: over the store's own default graph and named graphs
        (to read the control triples). `state`: the control graph just read, if any."""
        params: list[tuple[str, str]] = []
        dataset = None if raw else self._dataset(sparql, default_graph_uris, named_graph_uris,
                                                 state)
        if dataset is UNION:
            params += list(self.endpoints.union_params.items())
        elif dataset is not None:
            if self.endpoints.kind == "virtuoso":  # it echoes each as an HTTP header
                sparql = _dataset_defines(*dataset) + sparql
            else:
                params += _dataset_params(*dataset)
        if self.endpoints.kind == "virtuoso" and self.timeout:
            params.append(("timeout", str(int(self.timeout * 1000))))
        body, ctype, headers = self._sparql(sparql, form, params, self.timeout + 1)
        self._check_complete(headers)
        if form in ("SELECT", "ASK"):
            return self._results(body, ctype, form)
        return _triples(body, ctype)

    def _dataset(self, sparql, default_graph_uris, named_graph_uris,
                 state: Control | None) -> tuple[list[str], list[str] | None] | None:
        """The default and named graphs a query is given (None: none, UNION: the store's
        union default graph).

        A dataset of the caller's own stays; a store that keeps the merge graph makes it
        the default graph, as on the embedded store, with the version's graphs as named
        graphs only when the query may use GRAPH (that costs a control read, and listing
        the registry's ~770 graphs made the example questions 1-10x slower); a query that
        names its own dataset gets none, which would replace it. Other stores, and one an
        earlier dpgkg wrote, get the version's graphs as both.
        """
        merge = self.endpoints.bookkeeping == "merge"
        if default_graph_uris:
            return default_graph_uris, named_graph_uris
        if merge and names_dataset(sparql) and not named_graph_uris:
            return None
        graph = bool(named_graph_uris) or not merge or uses_graph(sparql)
        if merge and self._merged and not graph:
            return [MERGE.value], None
        if merge and self._merged and named_graph_uris:
            return [MERGE.value], named_graph_uris
        state = state or self._control()
        if merge and state.merged:
            # A store once seen with the merge keeps it (only dpgkg publishes to it).
            self._merged = True
            return [MERGE.value], named_graph_uris or (
                (state.graphs or [NO_GRAPH]) if graph else None)
        # The version's graphs (the store's own union holds graphs not ours)
        if self.endpoints.union_params and state.version is not None \
                and not named_graph_uris:
            return UNION  # the earlier layout of the Oxigraph server
        graphs = state.graphs or [NO_GRAPH]
        return graphs, named_graph_uris or graphs

    # Writing
    def update(self, sparql: str) -> None:
        """Run one SPARQL Update request (one transaction on the stores we know)."""
        if self.endpoints.kind == "virtuoso":
            # Virtuoso's endpoint may commit row by row (log-enable 2/3); 1 makes the
            # request one transaction, which the atomic swap needs.
            sparql = "DEFINE sql:log-enable 1\n" + sparql
        give_up = time.monotonic() + UPDATE_DEADLOCK_SECONDS
        attempt = 0
        while True:
            try:
                self._sparql(sparql, None, [], self.write_timeout)
                return
            except StoreUnavailable as exc:
                # A deadlock with concurrent readers rolls the request back: run it again.
                pause = deadlock_pause(attempt)
                if time.monotonic() + pause > give_up or not _DEADLOCK.search(str(exc)):
                    raise
                attempt += 1
                log.info("update deadlocked with readers, retrying (%d)", attempt)
                time.sleep(pause)

    def writer(self) -> RemoteWriter:
        return RemoteWriter(self)
