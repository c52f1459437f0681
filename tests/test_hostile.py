"""Hostile queries and hostile clients against the real server and CLI.

A real HTTP listener on loopback stands for a host the endpoint must never reach: every
SERVICE spelling below is refused before it runs, and a query process cannot open a
connection even when a check is bypassed. Stalled and non-reading clients hold no app
thread, so /health and cheap queries keep answering.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from dpgkg.publish.querypool import QueryPool
from dpgkg.publish.querypool.pool import YIELD_AFTER
from dpgkg.publish.sparql import QueryError
from tests.webserver import ROOT, live_server, session_from

SECRET = "SECRET-PAYLOAD-FROM-THE-TARGET"


class _Listener(http.server.ThreadingHTTPServer):
    """Counts every request; answers 500 with a payload that must never be echoed."""

    def __init__(self):
        self.hits: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                listener.hits.append(self.path)
                body = SECRET.encode()
                self.send_response(500)
                self.send_header("Content-Type", "text/x-secret")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def listener():
    server = _Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def service_spellings(url: str) -> dict[str, str]:
    """SERVICE calls to `url` written every way the grammar allows."""
    host = url.removesuffix("/")
    escaped = host.replace("127", "\\u0031\\u0032\\u0037", 1)
    return {
        "plain": f"SELECT * {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
        "escaped-iri": f"SELECT * {{ SERVICE <{host}/\\u0041> {{ ?x ?y ?z }} }}",
        "escaped-host": f"SELECT * {{ SERVICE <{escaped}/> {{ ?x ?y ?z }} }}",
        "escaped-hash-hides-second": (f"SELECT * {{ SERVICE <{host}/a\\u0023b> {{ ?x ?y ?z }}"
                                      f" SERVICE <{url}> {{ ?a ?b ?c }} }}"),
        "prefixed": f"PREFIX t: <{url}> SELECT * {{ SERVICE t:sparql {{ ?x ?y ?z }} }}",
        "base": f"BASE <{url}> SELECT * {{ SERVICE <sparql> {{ ?x ?y ?z }} }}",
        "comment-between": f"SELECT * {{ SERVICE # note\n <{url}> {{ ?x ?y ?z }} }}",
        "lower-silent": f"select * {{ service silent <{url}> {{ ?x ?y ?z }} }}",
        "variable": f"SELECT * {{ VALUES ?t {{ <{url}> }} SERVICE ?t {{ ?x ?y ?z }} }}",
        "subquery": f"SELECT * {{ {{ SELECT * {{ OPTIONAL {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }} }} }}",
        "exists": f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }}",
        "escaped-keyword": f"SELECT * {{ \\u0053ERVICE <{url}> {{ ?x ?y ?z }} }}",
    }


SPELLINGS = list(service_spellings("http://127.0.0.1:1/"))


@pytest.fixture(scope="module")
def server(mini_settings):
    with live_server(mini_settings, query_timeout=3.0, body_timeout=2.0, write_timeout=2.0,
                     query_memory_mb=200) as url:
        yield url


def _send(url: str, how: str, query: str) -> requests.Response:
    if how == "get":
        return requests.get(url + "/sparql", params={"query": query}, timeout=30)
    if how == "form":
        return requests.post(url + "/sparql", data={"query": query}, timeout=30)
    return requests.post(url + "/sparql", data=query.encode(), timeout=30,
                         headers={"Content-Type": "application/sparql-query"})


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_service_in_any_spelling_reaches_no_listener(server, listener, how, spelling):
    query = service_spellings(listener.url)[spelling]
    resp = _send(server, how, query)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert SECRET not in resp.text
    time.sleep(0.05)
    assert listener.hits == []


def test_refusal_names_the_endpoint(server, listener):
    resp = _send(server, "get", service_spellings(listener.url)["escaped-iri"])
    detail = resp.json()["error"]["detail"]
    assert f"SERVICE <{listener.url}A> is not allowed" in detail


@pytest.mark.parametrize("spelling", ["escaped-iri", "prefixed", "base", "variable"])
def test_cli_query_refuses_service(mini_settings, listener, spelling):
    proc = subprocess.run([sys.executable, "-m", "dpgkg", "query", "--store",
                           mini_settings.store, service_spellings(listener.url)[spelling]],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "SERVICE" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert listener.hits == []


def test_query_processes_have_no_network_even_past_the_checks(mini_settings, listener):
    """Defence in depth: the pool runs what it is given (the checks are the endpoint's),
    so this sends SERVICE straight to it. Isolated, nothing leaves; not isolated, the
    call is made (so the test can fail) and its answer is still not passed on."""
    query = f"SELECT * {{ SERVICE <{listener.url}> {{ ?x ?y ?z }} }}"
    closed = QueryPool(mini_settings.store, size=1, no_network=True)
    open_ = QueryPool(mini_settings.store, size=1)
    try:
        assert closed.wait_ready(60) and open_.wait_ready(60)
        with pytest.raises(QueryError) as refused:
            closed.run(query, timeout=5, result_format="json", services=[listener.url])
        assert listener.hits == []
        with pytest.raises(QueryError) as failed:
            open_.run(query, timeout=5, result_format="json", services=[listener.url])
        assert listener.hits, "the open pool should have made the call"
        for exc in (refused.value, failed.value):
            assert exc.status == 502 and SECRET not in str(exc)
            assert "refused" not in str(exc).lower()
    finally:
        closed.close()
        open_.close()


def test_allowed_service_failure_repeats_nothing_of_the_target(mini_settings, listener):
    closed_port = socket.socket()
    closed_port.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed_port.getsockname()[1]}/"
    closed_port.close()
    with live_server(mini_settings, service_allow_list=(listener.url, dead)) as url:
        for target in (listener.url, dead):
            resp = _send(url, "get", f"SELECT * {{ SERVICE <{target}> {{ ?x ?y ?z }} }}")
            assert resp.status_code == 502, resp.text
            text = resp.text.lower()
            assert SECRET.lower() not in text and "refused" not in text
            assert "x-secret" not in text and "500" not in resp.json()["error"]["detail"]
    assert listener.hits  # the allowed call was made


# Bounded queries -------------------------------------------------------------------

DEEP = "SELECT * " + "{" * 10000 + " ?s ?p ?o " + "}" * 10000


def test_deeply_nested_query_is_refused_before_the_engine(server):
    resp = _send(server, "body", DEEP)
    assert resp.status_code == 400
    assert "deeper than 64 levels" in resp.json()["error"]["detail"]
    # The query processes are untouched: a cheap query answers at once.
    assert requests.get(server + "/sparql", params={"query": "ASK {}"}, timeout=5).ok


def test_cli_refuses_the_deep_query_without_crashing(mini_settings):
    proc = subprocess.run([sys.executable, "-m", "dpgkg", "query", "--store",
                           mini_settings.store, "-"], input=DEEP, capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 2 and "deeper than" in proc.stderr, (proc.returncode, proc.stderr)


def _doubling(steps: int) -> str:
    binds = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(steps))
    return f'SELECT (STRLEN(?a{steps}) AS ?n) {{ BIND("0123456789" AS ?a0) {binds} }}'


def test_memory_bomb_is_stopped_within_the_timeout(server):
    start = time.monotonic()
    resp = requests.get(server + "/sparql", params={"query": _doubling(30)}, timeout=30)
    elapsed = time.monotonic() - start
    assert resp.status_code == 503, resp.text[:300]
    assert "memory" in resp.json()["error"]["detail"] and elapsed < 3.0 + 1.0, elapsed
    assert requests.get(server + "/sparql", params={"query": "ASK {}"}, timeout=5).ok


def test_a_client_holds_at_most_its_share_of_query_processes(mini_settings):
    pool = QueryPool(mini_settings.store, size=2)
    runaway = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    try:
        assert pool.wait_ready(60)
        with ThreadPoolExecutor(3) as ex:
            floods = [ex.submit(pool.run, runaway, timeout=1.5, result_format="json",
                                client="flood") for _ in range(2)]
            time.sleep(0.2)
            start = time.monotonic()
            ask = pool.run("ASK {}", timeout=1.0, result_format="json", client="other")
            assert b"".join(ask.body) and time.monotonic() - start < 0.5
            # The flood's second query waited for the flood's own share: it got a
            # process only when the first was killed, at its own deadline.
            for f in floods:
                with pytest.raises(QueryError) as stopped:
                    f.result()
                assert stopped.value.status == 503
    finally:
        pool.close()


def test_long_queries_of_two_clients_leave_the_others_a_process(mini_settings):
    """Two clients' long queries hold both processes of the pool: once they have run past
    the point where they count as long, the standby answers the others meanwhile, and
    goes back to standby when they end (the pool does not grow)."""
    pool = QueryPool(mini_settings.store, size=2)
    runaway = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    try:
        assert pool.wait_ready(60)
        end = time.monotonic() + 60
        while pool.processes() != (2, 1) and time.monotonic() < end:  # the standby starts
            time.sleep(0.05)
        with ThreadPoolExecutor(2) as ex:
            floods = [ex.submit(pool.run, runaway, timeout=3.0, result_format="json",
                                client=c) for c in ("a", "b")]
            time.sleep(YIELD_AFTER + 0.3)
            start = time.monotonic()
            for _ in range(3):
                ask = pool.run("ASK {}", timeout=3.0, result_format="json", client="other")
                assert json.loads(b"".join(ask.body))["boolean"] is True
            # Answered beside the long queries, not after their 3 s limit.
            assert not any(f.done() for f in floods), time.monotonic() - start
            for f in floods:
                with pytest.raises(QueryError):
                    f.result()
        end = time.monotonic() + 60  # the two killed are replaced, the standby is back
        while pool.processes() != (2, 1) and time.monotonic() < end:
            b"".join(pool.run("ASK {}", timeout=3.0, result_format="json").body)
            time.sleep(0.1)
        assert pool.processes() == (2, 1)
    finally:
        pool.close()


# Slow and abusive clients ------------------------------------------------------------

def _stall_body(url: str, n: int, source: str = "127.0.0.1") -> list[socket.socket]:
    port = int(url.rsplit(":", 1)[1])
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query"
                  b"\r\nContent-Length: 100000\r\n\r\nSELECT")
        socks.append(s)
    return socks


BIG = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } LIMIT 60000"  # ~15 MB of JSON


def _never_read(url: str, n: int, source: str) -> list[socket.socket]:
    port = int(url.rsplit(":", 1)[1])
    target = "/sparql?" + requests.compat.urlencode({"query": BIG})
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"
                  .encode())
        socks.append(s)
    return socks


def _timed(session, url: str, **params) -> float:
    start = time.monotonic()
    resp = session.get(url, params=params, timeout=5)
    assert resp.ok, resp.text
    return time.monotonic() - start


def test_stalled_and_non_reading_clients_leave_the_server_answering(server):
    other = session_from("127.0.0.2")
    held = _stall_body(server, 32, "127.0.0.3") + _never_read(server, 20, "127.0.0.4")
    try:
        time.sleep(1.0)  # every stalled request is in, every big answer computed or queued
        for _ in range(5):
            assert _timed(other, server + "/health") < 1.0
            assert _timed(other, server + "/sparql", query="ASK {}") < 1.0
        # Past the body timeout the stalled ones are answered 408 and let go.
        time.sleep(2.5)
        s = held[0]
        s.settimeout(5)
        assert s.recv(100).startswith(b"HTTP/1.1 408")
    finally:
        for s in held:
            s.close()


def test_body_over_the_limit_is_refused_announced_or_chunked(mini_settings):
    with live_server(mini_settings, max_body_bytes=1000) as url:
        big = "ASK { " + "#" * 2000 + "\n }"
        resp = requests.post(url + "/sparql", data=big.encode(), timeout=10,
                             headers={"Content-Type": "application/sparql-query"})
        assert resp.status_code == 413

        def chunks():
            yield big[:600].encode()
            yield big[600:].encode()

        resp = requests.post(url + "/sparql", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/sparql-query"})
        assert resp.status_code == 413, resp.text
        small = requests.post(url + "/sparql", data=b"ASK {}", timeout=10,
                              headers={"Content-Type": "application/sparql-query"})
        assert small.json()["boolean"] is True


def test_one_address_cannot_open_more_than_its_requests(mini_settings):
    with live_server(mini_settings, max_client_requests=4) as url:
        held = _stall_body(url, 4, source="127.0.0.3")
        try:
            time.sleep(0.5)
            resp = session_from("127.0.0.3").get(url + "/health", timeout=5)
            assert resp.status_code == 429 and resp.headers["Retry-After"]
            assert session_from("127.0.0.2").get(url + "/health", timeout=5).ok
        finally:
            for s in held:
                s.close()


def test_access_log_lines_cannot_be_forged(mini_settings):
    with live_server(mini_settings) as url:
        requests.get(url + "/id/x%0A%22GET%20/forged%22%20200%200.1ms", timeout=5)
        requests.get(url + "/health", timeout=5)
    lines = [ln for ln in live_server.last_log.splitlines() if "dpgkg.access" in ln]
    assert any("/id/x\\n" in ln for ln in lines), lines
    assert not any(ln.lstrip().startswith('"GET /forged') for ln in
                   live_server.last_log.splitlines())
    assert all("query=" not in ln for ln in lines)


def test_query_answer_json_is_parseable_after_the_gateway(server):
    """A held answer of many write chunks arrives whole through the gateway."""
    query = BIG.replace("60000", "12000")  # ~3 MB, twelve of the gateway's writes
    resp = requests.get(server + "/sparql", params={"query": query}, timeout=30,
                        headers={"Accept": "application/json"})
    assert resp.ok and len(json.loads(resp.content)["results"]["bindings"]) == 12000
