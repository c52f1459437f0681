"""Publishing a version: in one update request (INSERT DATA), by LOAD from this
process, or staged then swapped in; each leaves readers the old version or the new."""

from __future__ import annotations

import logging
import re
import socket
import urllib.parse
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from dpgkg.store.base import StoreUnavailable
from dpgkg.store.embedded import _new_version_id
from dpgkg.store.remote.client import (
    StoreError,
)
from dpgkg.store.remote.control import (
    CLEARS,
    CONTROL,
    MERGE,
    STAGES,
    SWAPPED,
    Control,
    _control_ops,
    _staging_name,
    _staging_record,
    in_control,
)
from dpgkg.store.remote.graph_server import _GraphServer
from dpgkg.store.remote.spec import (
    REQUEST_MAX_TRIPLES,
    redact,
)

log = logging.getLogger(__name__)


BATCH_TRIPLES = 500  # triples per INSERT DATA operation (Virtuoso fails at ~2000)


GSP_TRIPLES = 20000  # triples per Graph Store Protocol POST


class Publisher:
    """The publish strategies (mixed into RemoteStore)."""

    def publish(self, dataset: ox.Store, version: str) -> None:
        """Replace every graph dpgkg wrote with the named graphs of `dataset`, atomically."""
        state = self._control()
        graphs = sorted({g.value for g in dataset.named_graphs()} - {CONTROL.value, MERGE.value})
        mode = self.endpoints.publish
        if mode == "request" and len(dataset) > REQUEST_MAX_TRIPLES:
            mode = self.endpoints.large
            if mode == "staged" and not self.endpoints.gsp:
                mode = "request"  # no other way: one request, whatever its size
            elif mode == "staged":
                log.warning("%d triples: too many for one update request, publishing staged "
                            "(the staging graphs are visible to readers until the swap)",
                            len(dataset))
        if mode == "staged":
            return self._publish_staged(dataset, version, graphs, state)
        if mode == "load":
            return self._publish_load(dataset, version, graphs, state)
        ops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(set(state.graphs) | set(graphs))]
        for g in graphs:
            ops += _insert_ops(ox.NamedNode(g), _triples_of(dataset, g))
        ops += _control_ops(self.endpoints, version, graphs)
        self._swap(ops, version)

    def _swap(self, ops: list[str], version: str) -> None:
        """Run the one request that makes `version` the version served.

        On a guarded store the request also adds the swap marker, and once it has
        returned (committed in full, or rolled back) the marker is removed: readers
        wait while it is there (see `_guarded`).
        """
        if not self.endpoints.guard:
            self.update(" ;\n".join(ops))
            return
        marker = f"INSERT DATA {{ {in_control(f'{CONTROL} {SWAPPED} {ox.Literal(version)}')} }}"
        clear = f"DELETE WHERE {{ {in_control(f'{CONTROL} {SWAPPED} ?v')} }}"
        try:
            self.update(" ;\n".join([*ops, marker]))
        except BaseException:
            try:  # the request may have committed before the connection failed
                self.update(clear)
            except Exception:  # noqa: BLE001 - readers take it as stale after STALE_SWAP
                log.warning("could not remove the swap marker of %s", version)
            raise
        self.update(clear)

    def _publish_load(self, dataset: ox.Store, version: str, graphs: list[str],
                      state: Control) -> None:
        """One update request: drop the old graphs, `LOAD` each new graph, rewrite control.

        The request stays small (two short operations a graph) however large the
        version, and runs in one transaction like `publish=request`: readers see the old
        version or the new one, and a failure anywhere (a LOAD the store could not
        fetch, a build or server killed) leaves the old one. The store fetches each
        graph's N-Triples from a short-lived HTTP server in this process, bound to the
        address it can reach us at (`DPGKG_LOAD_ADDRESS`, else our address on the route
        to it: 127.0.0.1 for a store on loopback).
        """
        with _GraphServer(dataset, graphs, self._load_address()) as server:
            ops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(set(state.graphs) | set(graphs))]
            ops += [f"LOAD <{server.url(i)}> INTO GRAPH <{g}>" for i, g in enumerate(graphs)]
            ops += _control_ops(self.endpoints, version, graphs)
            try:
                self._swap(ops, version)
            except StoreUnavailable as exc:
                if server.base not in str(exc):
                    raise
                raise StoreError(f"{redact(self.endpoints.update)} could not fetch the graphs "
                                 f"from {server.base} (set DPGKG_LOAD_ADDRESS to an address it "
                                 f"can reach, or publish staged): {exc}") from None
            log.info("published %d graphs by LOAD from %s (%d requests served)",
                     len(graphs), server.base, server.served)

    def _load_address(self) -> tuple[str, int]:
        """(host, port) for the LOAD server: DPGKG_LOAD_ADDRESS, else our side of the
        route to the store on a free port."""
        configured = (self.load_address or "").strip()
        if configured:  # host, host:port, IPv6, [IPv6]:port
            m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:]+)(?::(\d+))?|([0-9A-Fa-f:]+)",
                             configured)
            if not m:
                raise ValueError(f"DPGKG_LOAD_ADDRESS={configured!r}: expected host[:port]")
            host = m.group(1) or m.group(3) or m.group(5)
            return host, int(m.group(2) or m.group(4) or 0)
        parts = urllib.parse.urlsplit(self.endpoints.update)
        family, _, _, _, addr = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(addr)  # no packet sent: only picks the local address of the route
            return probe.getsockname()[0], 0

    def _publish_staged(self, dataset: ox.Store, version: str, graphs: list[str],
                        state: Control) -> None:
        """Upload into staging graphs (many requests), then swap them in with one request.

        For stores that cannot take a whole version in one request (Virtuoso compiles
        INSERT DATA to SQL and gives up at ~1000 triples). The staging graphs are listed
        in the control graph before the upload, so a build killed mid-upload is cleaned
        up by the next one.
        """
        for record in state.staging:
            self._drop_staging(record)
        record = "\n".join([version, *graphs])
        self.update(f"INSERT DATA {{ {_staging_record(record)} }}")
        mapping = _staging_name(version, "map")
        try:
            for g in graphs:
                self._upload(_staging_name(version, g), _triples_of(dataset, g))
            # Which live graphs to empty and which staging graph fills which live one,
            # as triples, so the swap is a few operations however many graphs there are
            # (Virtuoso compiles a request into one SQL statement and gives up at ~1000).
            self._upload(mapping, [
                *(ox.Triple(ox.NamedNode(g), CLEARS, ox.NamedNode(g))
                  for g in sorted(set(state.graphs) | set(graphs))),
                *(ox.Triple(ox.NamedNode(_staging_name(version, g)), STAGES, ox.NamedNode(g))
                  for g in graphs)])
            self._swap([
                # Only what changed: less to write, and no row deleted and re-inserted
                # in one transaction (which Virtuoso's crash recovery gets wrong).
                (f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{mapping}> "
                 f"{{ ?g {CLEARS} ?g }} GRAPH ?g {{ ?s ?p ?o }} FILTER NOT EXISTS {{ "
                 f"GRAPH <{mapping}> {{ ?staged {STAGES} ?g }} GRAPH ?staged {{ ?s ?p ?o }} }} }}"),
                (f"INSERT {{ GRAPH ?live {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{mapping}> "
                 f"{{ ?staged {STAGES} ?live }} GRAPH ?staged {{ ?s ?p ?o }} }}"),
                *_control_ops(self.endpoints, version, graphs, merge_from=(
                    f"GRAPH <{mapping}> {{ ?staged {STAGES} ?g }} GRAPH ?g {{ ?s ?p ?o }}"))],
                version)
        except BaseException:
            try:
                self._drop_staging(record)
            except Exception:  # noqa: BLE001 - the next build cleans up
                log.warning("could not drop the staging graphs of %s", version)
            raise
        # Swapped in: the staging copies are garbage now, and visible until dropped.
        self._drop_staging(record)

    def _drop_staging(self, record: str) -> None:
        version, *graphs = record.split("\n")
        graphs.append("map")
        for i in range(0, len(graphs), 200):
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{_staging_name(version, g)}>"
                                     for g in graphs[i:i + 200]))
        self.update(f"DELETE DATA {{ {_staging_record(record)} }}")

    def _upload(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Add triples to `graph`: Graph Store Protocol POSTs, else INSERT DATA requests."""
        triples = list(triples)
        if not self.endpoints.gsp:
            for op in _insert_ops(ox.NamedNode(graph), triples):
                self.update(op)
            return
        # Blank nodes are scoped to one payload: keep a graph's together in the first.
        bnodes = [t for t in triples if _has_bnode(t)]
        plain = [t for t in triples if not _has_bnode(t)]
        chunks = [bnodes + plain[:GSP_TRIPLES]] + [plain[i:i + GSP_TRIPLES] for i in
                                                    range(GSP_TRIPLES, len(plain), GSP_TRIPLES)]
        url = self.endpoints.gsp + "?" + urllib.parse.urlencode({"graph": graph})
        for chunk in chunks:
            if chunk:
                self._post(url, ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES),
                           "application/n-triples", self.write_timeout)

    def replace_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> str:
        """Replace one named graph on its own (one request); returns the new version id."""
        graphs = self._control().graphs
        new_version = _new_version_id()
        ops = [f"DROP SILENT GRAPH {graph}", *_insert_ops(graph, triples),
               *_control_ops(self.endpoints, new_version, sorted(set(graphs) | {graph.value}))]
        self._swap(ops, new_version)
        return new_version


def _nt(term) -> str:
    return str(term)  # pyoxigraph terms print as N-Triples, which SPARQL accepts


def _insert_ops(graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> Iterator[str]:
    """INSERT DATA operations of at most BATCH_TRIPLES triples for one graph.

    Triples with blank nodes go into one `INSERT {...} WHERE {}` per graph: Virtuoso
    refuses blank nodes in INSERT DATA, and labels must not span operations.
    """
    batch: list[str] = []
    with_bnodes: list[str] = []
    for t in triples:
        line = f"{_nt(t.subject)} {_nt(t.predicate)} {_nt(t.object)} ."
        if _has_bnode(t):
            with_bnodes.append(line)
            continue
        batch.append(line)
        if len(batch) >= BATCH_TRIPLES:
            yield _insert_data(graph, batch)
            batch = []
    if batch:
        yield _insert_data(graph, batch)
    if with_bnodes:
        body = "\n".join(with_bnodes)
        yield f"INSERT {{ GRAPH {graph} {{\n{body}\n}} }} WHERE {{}}"


def _insert_data(graph: ox.NamedNode, lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"INSERT DATA {{ GRAPH {graph} {{\n{body}\n}} }}"


def _has_bnode(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def _triples_of(dataset: ox.Store, graph: str) -> Iterator[ox.Triple]:
    for q in dataset.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        yield ox.Triple(q.subject, q.predicate, q.object)
