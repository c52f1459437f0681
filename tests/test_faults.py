"""Faults, on real servers over loopback: stores killed mid-build and mid-serve, a build
stopped by SIGTERM, and two web processes in front of one store.

Every server here is a real process: the Oxigraph server and Virtuoso from
`tests/stores.py` (killed with SIGKILL, as a crash would), `dpgkg serve` from
`tests/webserver.py`, and `python -m dpgkg build` as a subprocess.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from dpgkg.build import build
from dpgkg.config import Settings
from dpgkg.publish.examples import EXAMPLES
from dpgkg.rdf import sparql_prefixes
from dpgkg.store import open_store
from tests.stores import SERVERS, VIRTUOSO_PASSWORD, VIRTUOSO_USER, OxigraphServer
from tests.webserver import ROOT, live_server, settings_env

JSON_RESULTS = "application/sparql-results+json"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } " \
        "FILTER(STRSTARTS(STR(?g), \"https://w3id.org/dpgkg/id/\")) }"
BUILD_ID = sparql_prefixes() + "SELECT ?id WHERE { ?b a prov:Activity ; dct:identifier ?id }"


# Helpers ----------------------------------------------------------------------

def http(url: str, accept: str = "application/json", timeout: float = 30
         ) -> tuple[int, Message, bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def sparql(base: str, query: str) -> tuple[int, Message, bytes]:
    return http(f"{base}/sparql?" + urllib.parse.urlencode({"query": query}), JSON_RESULTS)


def rows(body: bytes) -> list:
    """SELECT results as a sorted list of rows (value strings), order-free."""
    data = json.loads(body)
    names = data["head"]["vars"]
    return sorted(tuple(b.get(n, {}).get("value", "") for n in names)
                  for b in data["results"]["bindings"])


def served_version(base: str) -> str:
    status, _, body = http(f"{base}/health")
    assert status == 200, body
    return json.loads(body)["version"]


def count(base: str) -> int:
    status, _, body = sparql(base, COUNT)
    assert status == 200, body
    return int(rows(body)[0][0])


def build_ids(base: str) -> list[str]:
    status, _, body = sparql(base, BUILD_ID)
    assert status == 200, body
    return [r[0] for r in rows(body)]


def a_dpg_page(store_spec: str, settings: Settings) -> str:
    """The path of one DPG's resource page, e.g. /id/dpg/dhis2."""
    store = open_store(store_spec, settings=settings)
    dpg = store.select(sparql_prefixes() + "SELECT ?d { ?d a dpg:DigitalPublicGood } "
                       "ORDER BY ?d LIMIT 1")[0]["d"].value
    return "/id/" + dpg.split("/id/", 1)[1]


def wait_until(check, seconds: float = 20, every: float = 0.1):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


class BuildProcess:
    """`python -m dpgkg build` as a subprocess; its stderr lines read as they come."""

    def __init__(self, settings: Settings, *extra: str):
        env = {**os.environ, **settings_env(settings),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dpgkg", "build", "--no-validate", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self.done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)
        self.lines.put(None)
        self.done.set()

    def wait_for(self, marker: str, seconds: float = 120) -> None:
        """Block until a progress line containing `marker` is printed."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {marker!r} line within {seconds}s") from None
            if line is None:
                raise AssertionError(f"build ended before {marker!r}: {self.text}")
            if marker in line:
                return

    def finish(self, seconds: float = 300) -> tuple[int, str, str]:
        out = self.proc.stdout.read()  # stderr is the reader thread's
        self.proc.wait(seconds)
        self.done.wait(10)
        return self.proc.returncode, out, self.text

    @property
    def text(self) -> str:
        return "".join(self.stderr)


def start_remote(kind: str, root: Path, shared: Path):
    """A real store server of `kind` holding the full build from ../shared."""
    cls = SERVERS[kind]
    if not cls.available():
        pytest.skip(f"{cls.binary} is not installed (run .ci/stores.sh)")
    srv = cls(root).start()
    creds = {"store_user": VIRTUOSO_USER, "store_password": VIRTUOSO_PASSWORD} \
        if kind == "virtuoso" else {}
    settings = Settings(store=srv.spec, sources=str(shared), **creds)
    build(settings, validate=False)
    return srv, settings


@pytest.fixture(scope="module", params=sorted(SERVERS))
def remote(request, shared, tmp_path_factory):
    srv, settings = start_remote(request.param, tmp_path_factory.mktemp(request.param), shared)
    yield srv, settings
    srv.stop()


# The remote store killed mid-build ------------------------------------------------

def test_store_killed_mid_build_previous_graph_keeps_serving(remote):
    srv, settings = remote
    with live_server(settings) as base:
        before, n_before = served_version(base), count(base)
        page = a_dpg_page(settings.store, settings)
        _, _, page_before = http(base + page, "application/ld+json")

        b = BuildProcess(settings)
        b.wait_for("... swap")  # publishing the new version to the store
        time.sleep(0.3)
        srv.kill()
        rc, out, err = b.finish()
        assert rc == 1, err
        assert "build failed: StoreUnavailable" in err, err
        assert f"127.0.0.1:{srv.port}" in err  # says which store
        assert "previous graph" in err

        srv.start()  # crash recovery on the same data; dpgkg serve is not restarted
        assert served_version(base) == before
        assert count(base) == n_before
        status, _, body = http(base + page, "application/ld+json")
        assert status == 200 and json.loads(body) == json.loads(page_before)

        b = BuildProcess(settings)
        rc, out, err = b.finish()
        assert rc == 0, err
        after = json.loads(out)["version"]
        assert after != before
        assert served_version(base) == after
        assert build_ids(base) == [after]
        assert count(base) == n_before  # the same sources: the same graph
        store = open_store(settings.store, settings=settings)
        assert not bool(store.raw_query('ASK { GRAPH ?g { ?s ?p ?o } '
                                        'FILTER(STRSTARTS(STR(?g), "urn:dpgkg:staging")) }'))


# The remote store down while dpgkg serve fronts it -----------------------------------

def test_store_down_then_back_while_serving(remote):
    srv, settings = remote
    query = EXAMPLES[0][1]
    with live_server(settings) as base:
        page = a_dpg_page(settings.store, settings)
        status, _, answer = sparql(base, query)
        assert status == 200
        status, _, page_body = http(base + page, "application/ld+json")
        assert status == 200

        srv.kill()
        try:
            for name, (status, headers, body) in {
                "query": sparql(base, query),
                "page": http(base + page, "application/ld+json"),
                "health": http(f"{base}/health"),
            }.items():
                assert status == 503, (name, status, body[:300])
                assert headers["Content-Type"].startswith("application/json"), name
                error = json.loads(body)["error"]
                assert error["status"] == 503
                # a message a user can act on: which store could not be reached
                assert f"127.0.0.1:{srv.port}" in error["detail"], (name, error)
            assert headers.get("Retry-After")
        finally:
            srv.start()

        # The same requests work again, with no restart of dpgkg.
        status, _, body = sparql(base, query)
        assert status == 200, body
        assert rows(body) == rows(answer)
        status, _, body = http(base + page, "application/ld+json")
        assert status == 200 and json.loads(body) == json.loads(page_body)


# A build stopped by SIGTERM (and by SIGKILL) on the embedded store --------------------

def test_build_interrupted_leaves_the_store_consistent(shared, tmp_path):
    settings = Settings(store=str(tmp_path / "store"), sources=str(shared))
    versions = tmp_path / "store" / "versions"
    first = build(settings, validate=False).version
    with live_server(settings) as base:
        n = count(base)
        assert served_version(base) == first

        b = BuildProcess(settings)
        b.wait_for("... reason")
        b.proc.send_signal(signal.SIGTERM)
        rc, out, err = b.finish()
        assert rc == 130, err
        assert "build interrupted" in err and "previous graph" in err
        assert out == ""
        # Nothing swapped in, and the writer threw its half version away.
        assert os.readlink(tmp_path / "store" / "current").endswith(first)
        assert sorted(p.name for p in versions.iterdir()) == [first]
        assert served_version(base) == first and count(base) == n
        assert build_ids(base) == [first]

        # SIGKILL gives no chance to clean up, but the build stages in memory until its
        # commit: nothing of it reached the disk.
        b = BuildProcess(settings)
        b.wait_for("... reason")
        b.proc.kill()
        b.finish()
        assert sorted(p.name for p in versions.iterdir()) == [first]
        assert os.readlink(tmp_path / "store" / "current").endswith(first)
        assert served_version(base) == first and count(base) == n

        # The next build succeeds and is served at once.
        rc, out, err = BuildProcess(settings).finish()
        assert rc == 0, err
        second = json.loads(out)["version"]
        assert sorted(p.name for p in versions.iterdir()) == [first, second]
        assert served_version(base) == second
        assert wait_until(lambda: build_ids(base) == [second], 10)
        assert count(base) == n


# Two web processes, one store ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["embedded", "oxigraph"])
def test_two_servers_one_store(kind, shared, tmp_path):
    srv = None
    if kind == "embedded":
        settings = Settings(store=str(tmp_path / "store"), sources=str(shared))
        build(settings, validate=False)
    else:
        if not OxigraphServer.available():
            pytest.skip("oxigraph is not installed (run .ci/stores.sh)")
        srv, settings = start_remote(kind, tmp_path / kind, shared)
    try:
        page = a_dpg_page(settings.store, settings)
        with live_server(settings) as one, live_server(settings) as two:
            assert served_version(one) == served_version(two)
            for title, query in EXAMPLES:
                s1, _, b1 = sparql(one, query)
                s2, _, b2 = sparql(two, query)
                assert s1 == s2 == 200, title
                assert rows(b1) == rows(b2), title
                assert rows(b1), title
            s1, _, b1 = http(one + page, "text/turtle")
            s2, _, b2 = http(two + page, "text/turtle")
            assert s1 == s2 == 200 and b1 == b2
            s1, _, b1 = http(one + page, "application/ld+json")
            s2, _, b2 = http(two + page, "application/ld+json")
            assert s1 == s2 == 200
            # the same but for the context's address, which names the server asked
            d1, d2 = json.loads(b1), json.loads(b2)
            assert d1.pop("@context").replace(one, two) == d2.pop("@context")
            assert d1 == d2

            # A new build: both serve it, with no restart and nothing to invalidate.
            old = served_version(one)
            new = build(settings, validate=False).version
            assert new != old
            for base in (one, two):
                assert wait_until(lambda b=base: served_version(b) == new, 10)
                assert wait_until(lambda b=base: build_ids(b) == [new], 10), base
            s1, _, b1 = sparql(one, EXAMPLES[0][1])
            s2, _, b2 = sparql(two, EXAMPLES[0][1])
            assert s1 == s2 == 200 and rows(b1) == rows(b2)
    finally:
        if srv is not None:
            srv.stop()
