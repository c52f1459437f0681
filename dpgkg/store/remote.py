"""A remote SPARQL 1.1 store (Oxigraph server, Virtuoso, Fuseki, GraphDB, ...) behind `Store`.

Spec strings (see docs/remote-stores.md)::

    oxigraph+http://host:7878                      /query, /update, /store
    virtuoso+http://host:8890                      /sparql (reads), /sparql-auth (writes)
    sparql+https://host/ds?query=Q&update=U&gsp=G  any SPARQL 1.1 Protocol endpoints
    https://host/ds                                one endpoint for query and update

Reads go over the SPARQL 1.1 Protocol and come back as genuine pyoxigraph objects
(`QuerySolutions`, `QueryTriples`, `QueryBoolean`), so callers cannot tell this
store from the embedded one.

Writes: a writer stages the new version in a local in-memory pyoxigraph store
(the build's reasoning and counting queries run there, fast), and `commit()`
publishes it with ONE SPARQL Update request that drops the graphs of the version
now served, fills every named graph and rewrites the control graph. SPARQL 1.1
Update says a request SHOULD be applied atomically; the Oxigraph server (and
Fuseki/TDB2, GraphDB) run a request in one transaction, so readers see the old
version or the new one, and a build or server killed mid-request leaves the old
version serving with nothing to clean up. How the triples get into that request:

* ``publish=request``: as ``INSERT DATA`` (the Oxigraph server up to
  REQUEST_MAX_TRIPLES, its request body limit being 128 MB);
* ``publish=load``: as one ``LOAD <url> INTO GRAPH <g>`` a graph, the store
  fetching each graph's N-Triples from a short-lived HTTP server in this process
  (the Oxigraph server above REQUEST_MAX_TRIPLES);
* ``publish=staged`` (Virtuoso, which refuses large requests): uploaded first to
  staging graphs, which readers can see until the swap request copies them in.

Virtuoso's read-committed readers can see a large transaction half committed, so
reads of a Virtuoso store are guarded (`RemoteStore._guarded`): the control graph
is read before and after each query, and the query runs again if a swap
committed in between.

The control graph `urn:dpgkg:control` holds the version id (what `version()`
returns), the list of graphs that version wrote, which the next commit drops
(graphs dpgkg did not write, e.g. Virtuoso's system graphs, are never touched),
the staging records of unfinished staged uploads, and on Virtuoso the swap
marker.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Self

import pyoxigraph as ox

from dpgkg.store.base import Store, StoreTimeout, StoreUnavailable, StoreWriter
from dpgkg.store.embedded import _new_version_id

log = logging.getLogger(__name__)

CONTROL = ox.NamedNode("urn:dpgkg:control")
VERSION = ox.NamedNode("urn:dpgkg:version")
GRAPHS = ox.NamedNode("urn:dpgkg:graphs")
STAGING = ox.NamedNode("urn:dpgkg:staging")
CLEARS = ox.NamedNode("urn:dpgkg:clears")
STAGES = ox.NamedNode("urn:dpgkg:stages")
# Present from the commit of a swap until the writer has seen that commit complete
# (guarded stores only): readers wait while it is there.
SWAPPED = ox.NamedNode("urn:dpgkg:swapped")
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

BATCH_TRIPLES = 500  # triples per INSERT DATA operation (Virtuoso fails at ~2000)
GSP_TRIPLES = 20000  # triples per Graph Store Protocol POST
WRITE_TIMEOUT = 3600.0  # seconds: publishing a whole version can take a while
# A version in one update request is ~170 bytes a triple; the Oxigraph server refuses
# a SPARQL body over 128 MB. Larger versions go by LOAD (Oxigraph) or staged (other
# stores with a Graph Store endpoint): `Endpoints.large`.
REQUEST_MAX_TRIPLES = 500_000

PUBLISH_MODES = ("request", "load", "staged")

SELECT_JSON = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.8, application/rdf+xml;q=0.5"

_PROLOGUE = re.compile(r"(?:\s*(?:(?:#[^\n]*\n?)|(?:PREFIX\s+[^:\s]*:\s*<[^>]*>)|(?:BASE\s*<[^>]*>)"
                       r"|(?:DEFINE\s+\S+\s+(?:\"[^\"]*\"|'[^']*'|<[^>]*>|\S+))))*\s*", re.IGNORECASE)
_DEADLOCK = re.compile(r"\b(40001|SR172)\b|[Dd]eadlock")
DEADLOCK_RETRIES = 8
# Virtuoso: the swap marker is read serializable (so the read waits for a swap that is
# adding or removing it), the rest of the control graph read committed (never waits, so
# it cannot deadlock with a swap deleting the version triple).
_SERIALIZABLE = 'OPTION (TABLE_OPTION "isolation serializable")'
# A swap marker still there this long after a reader first saw it was left by a build
# that died between its swap and the confirmation (seconds).
STALE_SWAP = 10.0
GUARD_POLL = 0.05  # seconds between control reads while a swap commits
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


class StoreError(RuntimeError):
    """The store answered, but not with what we asked for (e.g. truncated results)."""


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read after the prologue."""
    m = _FORM.match(sparql, _PROLOGUE.match(sparql).end())
    if not m:
        raise SyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return m.group(1).upper()


def redact(url: str) -> str:
    """The URL without user:password@, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _strip_userinfo(url: str) -> tuple[str, str | None, str | None]:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return (urllib.parse.urlunsplit(parts._replace(netloc=host)),
            urllib.parse.unquote(user) or None, urllib.parse.unquote(password) or None)


@dataclass
class Endpoints:
    """Where one kind of store answers, and what it needs besides the standard."""

    kind: str
    query: str
    update: str
    gsp: str | None = None
    # form parameters that make the default graph the union of the named graphs
    union_params: dict = field(default_factory=dict)
    url: str = ""
    # "request": a version in one update request (INSERT DATA);
    # "load": one update request of LOADs, fetching each graph from this process;
    # "staged": staging graphs + one swap request
    publish: str = "request"
    # how a "request" version too large for one request body goes: "load" or "staged"
    large: str = "staged"
    # Readers check the control graph before and after each query (Virtuoso, whose
    # read-committed readers can see a large transaction half committed).
    guard: bool = False


@dataclass
class Control:
    """What the control graph says: the version served, its graphs, unfinished uploads."""

    version: str | None = None
    graphs: list[str] = field(default_factory=list)
    staging: list[str] = field(default_factory=list)
    swapped: str | None = None


def parse_spec(spec: str, *, authenticated: bool = False) -> Endpoints:
    """The endpoints named by a spec string (without credentials)."""
    kind, sep, url = spec.partition("+")
    if not sep or not url.startswith(("http://", "https://")):
        kind, url = "sparql", spec
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not a remote store spec: {redact(spec)!r}")
    kind = kind.lower()
    if kind in ("oxigraph", "virtuoso"):
        parts = urllib.parse.urlsplit(url)
        params = dict(urllib.parse.parse_qsl(parts.query))
        publish = params.pop("publish", None)
        if params:
            raise ValueError(f"unknown spec parameters {sorted(params)} in {redact(spec)!r}")
        base = urllib.parse.urlunsplit(parts._replace(query="")).rstrip("/")
    if kind == "oxigraph":
        e = Endpoints(kind, f"{base}/query", f"{base}/update", f"{base}/store",
                      {"union-default-graph": ""}, base, large="load")
        e.publish = _publish_mode(publish or e.publish)
        return e
    if kind == "virtuoso":
        # Anonymous /sparql cannot write; /sparql-auth takes digest auth (e.g. dba).
        auth = "-auth" if authenticated else ""
        e = Endpoints(kind, f"{base}/sparql", f"{base}/sparql{auth}",
                      f"{base}/sparql-graph-crud{auth}", {}, base, "staged", guard=True)
        e.publish = _publish_mode(publish or e.publish)
        if e.publish == "load":  # its LOAD commits on its own, outside the request
            raise ValueError("publish=load: Virtuoso's LOAD is not part of the update "
                             "request's transaction (use staged or request)")
        return e
    if kind == "sparql":
        parts = urllib.parse.urlsplit(url)
        params = dict(urllib.parse.parse_qsl(parts.query))
        base = urllib.parse.urlunsplit(parts._replace(query=""))
        query = params.pop("query", base)
        update = params.pop("update", query)
        gsp = params.pop("gsp", None)
        publish = _publish_mode(params.pop("publish", "request"))
        if params:
            raise ValueError(f"unknown spec parameters {sorted(params)} in {redact(spec)!r}")
        return Endpoints(kind, query, update, gsp, {}, base, publish)
    raise ValueError(f"unknown store kind {kind!r} in {redact(spec)!r} "
                     "(oxigraph+, virtuoso+, sparql+ or a plain http(s) URL)")


def _publish_mode(publish: str) -> str:
    if publish not in PUBLISH_MODES:
        raise ValueError(f"publish={publish!r}: expected request, load or staged")
    return publish


def _nt(term) -> str:
    return str(term)  # pyoxigraph terms print as N-Triples, which SPARQL accepts


class RemoteStore(Store):
    """A SPARQL 1.1 Protocol store. Keeps no connection state: a store that comes back works."""

    def __init__(self, spec: str, *, timeout: float | None = None, user: str | None = None,
                 password: str | None = None, write_timeout: float = WRITE_TIMEOUT,
                 publish: str | None = None):
        spec, spec_user, spec_password = _strip_userinfo(spec)
        self.user = user or os.environ.get("DPGKG_STORE_USER") or spec_user
        self.password = password or os.environ.get("DPGKG_STORE_PASSWORD") or spec_password
        self.endpoints = parse_spec(spec, authenticated=bool(self.user))
        if publish is not None:
            self.endpoints.publish = _publish_mode(publish)
        self.spec = spec
        if timeout is None:
            timeout = float(os.environ.get("DPGKG_QUERY_TIMEOUT", "10"))
        self.timeout = timeout
        self.write_timeout = write_timeout
        # guarded reads: the last control graph read, when each swap marker was first
        # seen, and how long one may stay before it is taken as left by a dead build
        self._last_control: Control | None = None
        self._swap_seen: dict[str, float] = {}
        self.stale_swap = STALE_SWAP

    def __repr__(self) -> str:
        return f"RemoteStore({self.spec!r})"

    # HTTP
    def _opener(self) -> urllib.request.OpenerDirector:
        # A fresh opener per request: urllib's auth handlers count retries on
        # themselves, which is not safe to share between threads.
        if not self.user:
            return urllib.request.build_opener()
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, self.endpoints.url or self.endpoints.query,
                               self.user, self.password or "")
        for url in (self.endpoints.query, self.endpoints.update, self.endpoints.gsp):
            if url:
                passwords.add_password(None, url, self.user, self.password or "")
        return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords),
                                           urllib.request.HTTPBasicAuthHandler(passwords))

    def _scrub(self, text: str) -> str:
        if self.password:
            text = text.replace(self.password, "***")
        return text

    def _post(self, url: str, body: bytes, content_type: str, accept: str | None,
              timeout: float) -> tuple[bytes, str, dict]:
        headers = {"Content-Type": content_type, "User-Agent": "dpgkg"}
        if accept:
            headers["Accept"] = accept
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        where = redact(url)
        try:
            with self._opener().open(req, timeout=timeout) as resp:
                data = resp.read()
                return data, resp.headers.get_content_type(), dict(resp.headers.items())
        except urllib.error.HTTPError as exc:
            text = self._scrub(exc.read().decode("utf-8", "replace").strip())
            first = text[:500]
            if "estimated execution time" in text:  # Virtuoso refuses before running
                raise StoreTimeout(f"{where} refused a query expected to run too long: "
                                   f"{first.splitlines()[0]}") from None
            if exc.code == 400 or (exc.code >= 500 and _is_query_error(text)):
                raise SyntaxError(f"{where} rejected the request: {first}") from None
            if exc.code in (401, 403):
                raise StoreUnavailable(f"{where} refused the credentials (HTTP {exc.code})"
                                       ) from None
            if exc.code == 413:
                raise StoreError(f"{where}: request too large (HTTP 413); "
                                 "raise the server's request size limit") from None
            if exc.code >= 500:
                raise StoreUnavailable(f"{where} failed (HTTP {exc.code}): {first}") from None
            raise StoreError(f"{where} answered HTTP {exc.code}: {first}") from None
        except TimeoutError:
            raise StoreTimeout(f"{where} did not answer within {timeout:g}s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise StoreTimeout(f"{where} did not answer within {timeout:g}s") from None
            raise StoreUnavailable(f"cannot reach {where}: {self._scrub(str(exc.reason))}"
                                   ) from None
        except (ConnectionError, OSError) as exc:  # reset mid-response, broken pipe
            raise StoreUnavailable(f"lost connection to {where}: {self._scrub(str(exc))}"
                                   ) from None

    # Reading
    def query(self, sparql, *, default_graph_uris=None, named_graph_uris=None):
        form = query_form(sparql)
        if not self.endpoints.guard:
            return self._query(sparql, form, default_graph_uris, named_graph_uris)
        return self._guarded(lambda: self._query(sparql, form, default_graph_uris,
                                                 named_graph_uris))

    def _guarded(self, run):
        """`run()` between two control graph reads that agree, with no swap committing.

        Virtuoso's read-committed readers never wait, but a large transaction commits
        row by row, so a query running while a swap commits can count half the old
        version and half the new. A swap rewrites the version triple and adds a swap
        marker, which the writer removes once the swap request has returned (committed
        in full). The marker is read at serializable isolation, so a control read waits
        while a swap holds it (from the swap's last operation to the end of its commit).
        So if a query overlapped any part of a swap's commit, the control read after it
        differs from the one before it (the marker, or after it the new version), and
        the query runs again; while the marker is there, queries wait. The data query
        itself runs read-committed and never waits for a swap.
        """
        deadline = time.monotonic() + self.timeout
        before = self._last_control  # any read completed before run() starts will do
        while True:
            if before is None or self._swapping(before):
                before = self._control()
                while self._swapping(before):
                    if time.monotonic() > deadline:
                        raise StoreTimeout(f"{redact(self.endpoints.query)}: a new version was "
                                           f"still being swapped in after {self.timeout:g}s")
                    time.sleep(GUARD_POLL)
                    before = self._control()
            result = run()
            after = self._control()
            if (after.version, after.swapped) == (before.version, before.swapped) \
                    and not self._swapping(after):
                return result
            if time.monotonic() > deadline:
                raise StoreTimeout(f"{redact(self.endpoints.query)}: the version served kept "
                                   f"changing for {self.timeout:g}s")
            log.info("a new version was swapped in during a query: running it again")
            before = after

    def _swapping(self, state: Control) -> bool:
        """A swap marker is there, and not one left behind by a build that died."""
        if state.swapped is None:
            return False
        first = self._swap_seen.get(state.swapped)
        if first is None:
            if len(self._swap_seen) > 100:
                self._swap_seen.clear()
            first = self._swap_seen[state.swapped] = time.monotonic()
        return time.monotonic() - first < self.stale_swap

    def _query(self, sparql, form, default_graph_uris=None, named_graph_uris=None):
        params: list[tuple[str, str]] = [("query", sparql)]
        if named_graph_uris and not default_graph_uris and self.endpoints.union_params:
            # Oxigraph refuses union-default-graph with a dataset: name the union instead.
            default_graph_uris = self._graphs() or ["urn:dpgkg:none"]
        if default_graph_uris or named_graph_uris:
            params += [("default-graph-uri", u) for u in default_graph_uris or []]
            params += [("named-graph-uri", u) for u in named_graph_uris or []]
        else:
            params += list(self.endpoints.union_params.items())
        if self.endpoints.kind == "virtuoso" and self.timeout:
            params.append(("timeout", str(int(self.timeout * 1000))))
        accept = SELECT_JSON if form in ("SELECT", "ASK") else GRAPH_ACCEPT
        body, ctype, headers = self._post(
            self.endpoints.query, urllib.parse.urlencode(params).encode(),
            "application/x-www-form-urlencoded", accept, self.timeout + 1)
        self._check_complete(headers)
        if form in ("SELECT", "ASK"):
            return self._results(body, ctype, form)
        return _triples(body, ctype)

    def _check_complete(self, headers: dict) -> None:
        # Virtuoso's "anytime" queries return partial results with 200 and say so in
        # a header; partial results must not pass for the answer.
        lower = {k.lower(): v for k, v in headers.items()}
        state = lower.get("x-sql-state")
        if state:
            msg = lower.get("x-sql-message", "")
            if state == "S1TAT":
                raise StoreTimeout(f"{redact(self.endpoints.query)} timed out after "
                                   f"{self.timeout:g}s ({msg})")
            raise StoreError(f"{redact(self.endpoints.query)}: incomplete results "
                             f"({state} {msg})")
        if "x-sparql-maxrows" in lower:
            raise StoreError(f"{redact(self.endpoints.query)} truncated the results at "
                             f"{lower['x-sparql-maxrows']} rows (Virtuoso ResultSetMaxRows)")

    def _results(self, body: bytes, ctype: str, form: str):
        if ctype in ("application/sparql-results+json", "application/json"):
            if self.endpoints.kind == "virtuoso" or b"nodeID://" in body:
                body = _fix_virtuoso_json(body)
            return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        fmt = ox.QueryResultsFormat.from_media_type(ctype)
        if fmt is None:
            if form == "ASK" and body.strip().lower() in (b"true", b"false", b"1", b"0"):
                return ox.parse_query_results(
                    json.dumps({"head": {}, "boolean": body.strip().lower() in (b"true", b"1")}),
                    ox.QueryResultsFormat.JSON)
            raise StoreError(f"{redact(self.endpoints.query)} answered {ctype}, "
                             "not SPARQL results")
        return ox.parse_query_results(body, fmt)

    def _control(self) -> Control:
        sparql = f"SELECT ?p ?o {{ GRAPH {CONTROL} {{ {CONTROL} ?p ?o }} }}"
        if self.endpoints.guard:
            sparql = (f"SELECT ?p ?o {{ {{ GRAPH {CONTROL} {{ {CONTROL} {SWAPPED} ?o "
                      f"{_SERIALIZABLE} }} BIND({SWAPPED} AS ?p) }} UNION "
                      f"{{ GRAPH {CONTROL} {{ {CONTROL} ?p ?o }} }} }}")
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                rows = [(row["p"], row["o"]) for row in self._query(sparql, "SELECT")]
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
            raise StoreUnavailable(f"no graph built yet at {redact(self.spec)} (run `dpgkg build`)")
        return version

    # Writing
    def update(self, sparql: str) -> None:
        """Run one SPARQL Update request (one transaction on the stores we know)."""
        if self.endpoints.kind == "virtuoso":
            # Virtuoso's endpoint may commit row by row (log-enable 2/3); 1 makes the
            # request one transaction, which the atomic swap needs.
            sparql = "DEFINE sql:log-enable 1\n" + sparql
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                self._post(self.endpoints.update, sparql.encode("utf-8"),
                           "application/sparql-update", None, self.write_timeout)
                return
            except StoreUnavailable as exc:
                # A deadlock with concurrent readers rolls the request back: run it again.
                if attempt == DEADLOCK_RETRIES or not _DEADLOCK.search(str(exc)):
                    raise
                log.info("update deadlocked with readers, retrying (%d)", attempt + 1)
                time.sleep(0.05 * 2 ** attempt)

    def writer(self) -> RemoteWriter:
        return RemoteWriter(self)

    def publish(self, dataset: ox.Store, version: str) -> None:
        """Replace every graph dpgkg wrote with the named graphs of `dataset`, atomically."""
        state = self._control()
        graphs = sorted({g.value for g in dataset.named_graphs()} - {CONTROL.value})
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
        ops += _control_ops(version, graphs)
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
        marker = f"INSERT DATA {{ GRAPH {CONTROL} {{ {CONTROL} {SWAPPED} {ox.Literal(version)} }} }}"
        clear = f"DELETE WHERE {{ GRAPH {CONTROL} {{ {CONTROL} {SWAPPED} ?v }} }}"
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
            ops += _control_ops(version, graphs)
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
        configured = os.environ.get("DPGKG_LOAD_ADDRESS", "").strip()
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
        self.update(f"INSERT DATA {{ GRAPH {CONTROL} {{ {CONTROL} {STAGING} "
                    f"{ox.Literal(record)} }} }}")
        mapping = _staging_name(version, "map")
        try:
            for g in graphs:
                self._upload(_staging_name(version, g), _triples_of(dataset, g))
            # Which live graphs to empty and which staging graph fills which live one,
            # as triples, so the swap is five operations however many graphs there are
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
                *_control_ops(version, graphs)], version)
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
        self.update(_delete_staging_record(record))

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
                           "application/n-triples", None, self.write_timeout)

    def replace_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> str:
        """Replace one named graph on its own (one request); returns the new version id."""
        graphs = self._control().graphs
        new_version = _new_version_id()
        ops = [f"DROP SILENT GRAPH {graph}", *_insert_ops(graph, triples),
               *_control_ops(new_version, sorted(set(graphs) | {graph.value}))]
        self._swap(ops, new_version)
        return new_version


class _GraphServer:
    """Serves each named graph of a dataset as N-Triples at an unguessable URL, for LOAD.

    Lives for one publish; a request for anything else gets 404.
    """

    def __init__(self, dataset: ox.Store, graphs: list[str], address: tuple[str, int]):
        token = secrets.token_urlsafe(16)
        self.paths = {f"/{token}/{i}.nt": ox.NamedNode(g) for i, g in enumerate(graphs)}
        self.served = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, for stores that reuse connections

            def do_GET(self):
                graph = outer.paths.get(self.path)
                if graph is None:
                    self.send_error(404)
                    return
                body = ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in
                                     dataset.quads_for_pattern(None, None, None, graph)),
                                    format=ox.RdfFormat.N_TRIPLES)
                self.send_response(200)
                self.send_header("Content-Type", "application/n-triples")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.served += 1

            timeout = 60  # an idle kept-alive connection is closed after this

            def log_message(self, format, *args):
                pass  # quiet

        host, port = address
        server_class = type("Server", (http.server.ThreadingHTTPServer,), {
            "address_family": socket.AF_INET6 if ":" in host else socket.AF_INET,
            "daemon_threads": True})
        self.httpd = server_class((host, port), Handler)
        bound = self.httpd.server_address[1]
        self.base = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
        self.token = token
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="dpgkg-load",
                                       daemon=True)

    def url(self, i: int) -> str:
        return f"{self.base}/{self.token}/{i}.nt"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


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
            # The remote default graph is the union: triples there would be invisible
            # to GRAPH queries and are not replaced by the next build.
            raise ValueError("the remote store takes named graphs only")
        self.store.bulk_extend(quads)

    def query(self, sparql: str):
        return self.store.query(sparql, use_default_graph_as_union=True)

    def commit(self) -> str:
        if self._done:
            raise RuntimeError("writer already committed or aborted")
        self.remote.publish(self.store, self.version_id)
        self._done = True
        self.committed, self.store = self.store, ox.Store()
        return self.version_id

    def abort(self) -> None:
        # Nothing reached the server before commit(): dropping the local copy is enough.
        self._done = True
        self.store = ox.Store()


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


def _control_ops(version: str, graphs: list[str]) -> list[str]:
    listing = ox.Literal("\n".join(graphs))
    triples = f"{CONTROL} {VERSION} {ox.Literal(version)} . {CONTROL} {GRAPHS} {listing} ."
    return [f"DELETE WHERE {{ GRAPH {CONTROL} {{ {CONTROL} {VERSION} ?v }} }}",
            f"DELETE WHERE {{ GRAPH {CONTROL} {{ {CONTROL} {GRAPHS} ?g }} }}",
            # a swap marker a dead build left behind
            f"DELETE WHERE {{ GRAPH {CONTROL} {{ {CONTROL} {SWAPPED} ?m }} }}",
            f"INSERT DATA {{ GRAPH {CONTROL} {{ {triples} }} }}"]


def _delete_staging_record(record: str) -> str:
    return f"DELETE DATA {{ GRAPH {CONTROL} {{ {CONTROL} {STAGING} {ox.Literal(record)} }} }}"


def _staging_name(version: str, graph: str) -> str:
    return f"urn:dpgkg:staging:{version}:{graph}"


def _has_bnode(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def _triples_of(dataset: ox.Store, graph: str) -> Iterator[ox.Triple]:
    for q in dataset.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        yield ox.Triple(q.subject, q.predicate, q.object)


def _triples(body: bytes, ctype: str) -> ox.QueryTriples:
    fmt = ox.RdfFormat.from_media_type(ctype) or ox.RdfFormat.N_TRIPLES
    if ctype == "text/plain":
        fmt = ox.RdfFormat.N_TRIPLES
    # A throwaway store turns the parsed triples into a genuine QueryTriples.
    tmp = ox.Store()
    tmp.bulk_extend(ox.parse(body, fmt))
    return tmp.query("CONSTRUCT WHERE { ?s ?p ?o }")


def _is_query_error(text: str) -> bool:
    # Virtuoso answers some query errors (compiler, SQL state 37000/42000/22xxx) with 500.
    return bool(re.match(r"Virtuoso (37000|42000|22\w{3}|42S\d\d|SP\d+)", text))


def _fix_virtuoso_json(body: bytes) -> bytes:
    """Virtuoso JSON results made standard: booleans as 0/1, blank nodes as nodeID://."""
    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", []):
        for value in row.values():
            if value.get("type") == "bnode" and value["value"].startswith("nodeID://"):
                value["value"] = value["value"][len("nodeID://"):]
            elif value.get("datatype") == XSD_BOOLEAN and value.get("value") in ("0", "1"):
                value["value"] = "true" if value["value"] == "1" else "false"
    if "results" not in data and "boolean" not in data:
        raise StoreError("SPARQL JSON results without results or boolean")
    return json.dumps(data).encode()
