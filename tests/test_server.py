"""The production server over real HTTP: time limit, streaming, CORS, health, a real
SPARQL client, logs, and the pieces serve() is made of."""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import rdflib
import requests

from dpgkg.config import Settings
from dpgkg.publish.querypool import QueryPool
from dpgkg.publish.sparql import QueryTimeout
from dpgkg.store import open_store
from tests.webserver import live_server, live_server_url, session_from  # noqa: F401

RUNAWAY = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
RUNAWAY_COUNT = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PAIRS = "SELECT * { ?a ?b ?c . ?d ?e ?f }"  # 110 x 110 rows, about 2 MB of JSON


@pytest.fixture(scope="module")
def name_count(mini_settings) -> int:
    """Named resources of the mini graph, each name once (some are in two record graphs)."""
    return len(open_store(mini_settings.store).select(
        "SELECT DISTINCT ?s ?n { GRAPH ?g { ?s <http://schema.org/name> ?n } }"))


@pytest.fixture(scope="module")
def one_second(mini_settings):
    """A server with a 1 s query limit."""
    with live_server(mini_settings, query_timeout=1.0) as url:
        yield url


@pytest.fixture(scope="module")
def streaming(mini_settings):
    """A 1 s limit, and answers past 64 KiB streamed rather than held back."""
    with live_server(mini_settings, query_timeout=1.0,
                     env={"DPGKG_HOLD_BYTES": str(64 * 1024)}) as url:
        yield url


# Another client than the one sending runaways: one client address may hold only its
# share of the query processes (half of them), so it would wait behind its own runaway.
OTHER = session_from("127.0.0.2")


def _ask(url: str) -> tuple[bool, float]:
    start = time.perf_counter()
    resp = OTHER.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10)
    return resp.json()["boolean"], time.perf_counter() - start


# The time limit -------------------------------------------------------------------

@pytest.mark.parametrize("query", [RUNAWAY, RUNAWAY_COUNT], ids=["select-star", "count"])
def test_runaway_query_is_stopped_at_the_limit_while_others_are_answered(one_second, query, name_count):
    with ThreadPoolExecutor(1) as ex:
        start = time.perf_counter()
        slow = ex.submit(requests.get, one_second + "/sparql", params={"query": query},
                         timeout=30)
        time.sleep(0.2)
        answers = [_ask(one_second) for _ in range(5)]  # while the runaway runs
        resp = slow.result()
        elapsed = time.perf_counter() - start
    assert resp.status_code == 503
    body = resp.json()["error"]
    assert body["status"] == 503 and "1 s limit" in body["detail"]
    assert 0.9 <= elapsed < 3.0, elapsed
    assert all(ok for ok, _ in answers)
    assert max(t for _, t in answers) < 0.5, answers
    # The killed worker is replaced: the server keeps answering, queries too.
    assert _ask(one_second)[0]
    names = requests.get(one_second + "/sparql", timeout=10,
                         params={"query": "SELECT ?n { ?s <http://schema.org/name> ?n }"})
    assert len(names.json()["results"]["bindings"]) == name_count


def test_several_runaways_in_a_row_do_not_wear_the_server_down(one_second):
    with ThreadPoolExecutor(2) as ex:
        slow = [ex.submit(requests.get, one_second + "/sparql", params={"query": RUNAWAY_COUNT},
                          timeout=30) for _ in range(2)]
        statuses = [f.result().status_code for f in slow]
    assert statuses == [503, 503]
    for _ in range(3):
        assert requests.get(one_second + "/sparql", params={"query": RUNAWAY_COUNT},
                            timeout=30).status_code == 503
    deadline = time.monotonic() + 10
    while not _ask(one_second)[0] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ask(one_second)[1] < 0.5


# Streaming ---------------------------------------------------------------------------

def test_large_answers_are_streamed_in_chunks_and_complete(streaming, mini_settings):
    resp = requests.get(streaming + "/sparql", params={"query": PAIRS}, stream=True, timeout=30)
    assert resp.status_code == 200
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in resp.headers
    data = json.loads(b"".join(resp.iter_content(65536)))
    triples = len(open_store(mini_settings.store).select("SELECT * { ?s ?p ?o }"))
    assert len(data["results"]["bindings"]) == triples * triples


def test_small_answers_have_a_length(streaming):
    resp = requests.get(streaming + "/sparql", params={"query": "ASK {}"}, timeout=10)
    assert int(resp.headers["Content-Length"]) == len(resp.content)


def test_a_stream_past_the_limit_is_cut_never_passed_off_as_complete(streaming):
    start = time.perf_counter()
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError)):
        resp = requests.get(streaming + "/sparql", params={"query": RUNAWAY}, stream=True,
                            timeout=30)
        assert resp.status_code == 200  # the status went out with the first chunk
        for _ in resp.iter_content(1 << 20):
            pass
    assert time.perf_counter() - start < 5
    assert _ask(streaming)[0]


# CORS, health ------------------------------------------------------------------------

def test_cors_headers_on_answers_and_errors(live_server_url):  # noqa: F811
    for resp in (requests.get(live_server_url + "/sparql", params={"query": "ASK {}"},
                              timeout=10),
                 requests.get(live_server_url + "/sparql", params={"query": "SELECT"},
                              timeout=10),
                 requests.get(live_server_url + "/no/such/page", timeout=10),
                 requests.get(live_server_url + "/health", timeout=10)):
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {h.strip() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"Link", "ETag"} <= exposed


def test_cors_preflight(live_server_url):  # noqa: F811
    resp = requests.options(live_server_url + "/sparql", timeout=10, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, accept"})
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()
    assert int(resp.headers["Access-Control-Max-Age"]) > 0


def test_health(live_server_url, mini_settings):  # noqa: F811
    from dpgkg.store import open_store

    resp = requests.get(live_server_url + "/health", timeout=10)
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": open_store(mini_settings.store).version()}


def test_404_is_json_for_clients(live_server_url):  # noqa: F811
    resp = requests.get(live_server_url + "/no/such/page", timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["status"] == 404


# A real client ----------------------------------------------------------------------

def test_sparqlwrapper_select_and_construct(live_server_url):  # noqa: F811
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(live_server_url + "/sparql")
    client.setQuery("SELECT ?name { <https://w3id.org/dpgkg/id/dpg/healthapp> "
                    "<http://schema.org/name> ?name }")
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]
    assert [r["name"]["value"] for r in rows] == ["HealthApp"]

    client.setMethod(POST)
    client.setQuery("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH "
                    "<https://w3id.org/dpgkg/id/graph/countries> { ?s ?p ?o } }")
    client.setReturnFormat(TURTLE)
    data = client.queryAndConvert()
    g = rdflib.Graph().parse(data=data, format="turtle")
    assert len(g) == 5
    assert (rdflib.URIRef("https://w3id.org/dpgkg/id/country/KE"), None, None) in g


# Logs ---------------------------------------------------------------------------------

def test_logs_carry_no_query_text_results_or_client_address(mini_settings):
    marker = "personal-data-marker-4711"
    with live_server(mini_settings) as url:
        requests.get(url + "/sparql", params={"query": f'SELECT ?x {{ BIND("{marker}" AS ?x) }}'},
                     timeout=10)
        requests.post(url + "/sparql", data={"query": f'SELECT ?x {{ BIND("{marker}" AS ?x)'},
                      timeout=10)
        requests.get(url + "/health", timeout=10)
    log = live_server.last_log
    assert '"GET /sparql" 200' in log and '"POST /sparql" 400' in log
    assert marker not in log
    access = [line for line in log.splitlines() if '"GET ' in line or '"POST ' in line]
    assert access and not any("127.0.0.1" in line for line in access)
    assert "SIGSEGV" not in log and "Traceback" not in log


# The pieces ---------------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_process_outlives_the_server(mini_settings, shared, sig):
    """Workers, their query processes and the validation process all end with the
    server: on SIGTERM by shutting down, on SIGKILL because each dies with its parent
    (an orphaned worker would go on answering on the port, unsupervised)."""
    record = {"name": "X", "description": "y", "stage": "nominee"}
    # validation reads the registry's schemas and licence list from the sources
    with live_server(mini_settings, workers=2, sources=str(shared)) as url:
        assert requests.post(url + "/validate", json=record, timeout=60).status_code in (200,
                                                                                       422)
        assert requests.get(url + "/sparql", params={"query": "ASK {}"},
                            timeout=10).status_code == 200
        proc = live_server.proc
        tree = _descendants(proc.pid)
        assert len(tree) >= 2 * 3  # two workers, each with query processes
        proc.send_signal(sig)
        proc.wait(timeout=30)
        end = time.monotonic() + 30
        while _running(tree) and time.monotonic() < end:
            time.sleep(0.2)
        assert _running(tree) == set()


def test_server_runs_the_gateway_which_logs_each_request_without_query_strings():
    from granian.constants import Interfaces

    from dpgkg.web.server import server_options

    opts = server_options(Settings(query_timeout=10), "127.0.0.1", 8080, 3)
    assert opts["interface"] == Interfaces.ASGI
    assert opts["workers"] == 3 and (opts["address"], opts["port"]) == ("127.0.0.1", 8080)
    assert not opts["log_access"]  # the gateway logs, escaped (tests/test_hostile.py)
    assert opts["http1_settings"].header_read_timeout > 0


def test_serve_builds_when_there_is_no_graph(tmp_path, mini_settings, monkeypatch):
    import dpgkg.build
    from dpgkg.web.server import ensure_graph

    calls = []
    monkeypatch.setattr(dpgkg.build, "build", lambda settings: calls.append(settings))
    ensure_graph(mini_settings)
    assert calls == []
    empty = Settings(store=str(tmp_path / "empty"))
    ensure_graph(empty)
    assert calls == [empty]


def test_query_pool_kills_and_replaces_a_worker(mini_settings):
    pool = QueryPool(mini_settings.store, size=2)
    try:
        assert pool.wait_ready(60)
        with pytest.raises(QueryTimeout):
            pool.run(RUNAWAY_COUNT, timeout=0.5, result_format="json")
        answer = pool.run("ASK {}", timeout=5, result_format="json")
        assert json.loads(b"".join(answer.body)) == {"head": {}, "boolean": True}
        assert pool.wait_ready(60)  # back to two warm workers
    finally:
        pool.close()


def test_query_pool_in_memory_answers_like_the_disk(mini_settings, name_count):
    disk, mem = QueryPool(mini_settings.store, size=1), QueryPool(mini_settings.store, size=1,
                                                                   in_memory=True)
    try:
        q = "SELECT ?s ?n { ?s <http://schema.org/name> ?n } ORDER BY ?s ?n"
        a = b"".join(disk.run(q, timeout=10, result_format="json").body)
        b = b"".join(mem.run(q, timeout=10, result_format="json").body)
        assert json.loads(a) == json.loads(b) and len(json.loads(a)["results"]["bindings"]) == name_count
    finally:
        disk.close()
        mem.close()


def test_pool_queries_run_side_by_side(mini_settings):
    pool = QueryPool(mini_settings.store, size=2)
    try:
        assert pool.wait_ready(60)
        results = {}

        def slow():
            try:
                pool.run(RUNAWAY_COUNT, timeout=1.0, result_format="json", client="a")
            except QueryTimeout:
                results["slow"] = "timeout"

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.1)
        start = time.perf_counter()
        b"".join(pool.run("ASK {}", timeout=5, result_format="json", client="b").body)
        results["fast"] = time.perf_counter() - start
        t.join()
        assert results["slow"] == "timeout" and results["fast"] < 0.2
    finally:
        pool.close()
