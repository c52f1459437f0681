"""Load: 16 concurrent clients on `dpgkg serve` over the full build; then the same with
one more client sending a runaway query over and over; then with four abusive clients.

Each client is a thread with one keep-alive `http.client` connection that cycles
through a mix: the example queries, DPG resource pages (JSON-LD and HTML) and
validations (`POST /validate` with a registry record). Every loop is bounded in
time and in count.

The run lasts `DPGKG_LOAD_SECONDS` per phase: 15 s in the test suite (so the suite
stays short), 60 s (the issue's figure) when run by hand:

    python tests/test_load.py             # 2 x 60 s, prints and writes bench/results/load.json
    DPGKG_LOAD_SECONDS=60 python -m pytest -q tests/test_load.py

Each client has an address of its own on the loopback (127.0.0.10, ...), as real
clients do: the server's per-client limits (a client holds at most its share of
query processes and app threads) apply per address. The abusive clients, each
from its own address: one keeps 8 request bodies stalled, one sends runaway
queries, one sends queries nested 10,000 deep, one asks for large answers and
never reads them.

The server runs the deployed defaults (query processes reading the store on disk,
64 MiB held back) but for a 2 s query timeout. Checks: no errors without the
runaway; with it, every runaway ends in a 503 after running 2 s (and waiting at most
2 s for a query process), the others see no
errors and their p95 stays within 2x of the run without it; with the abusive
clients, the same for the well-behaved ones, every deep query a 400. The numbers
are printed; the script (not the suite) also writes them to bench/results/load.json.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.load

CLIENTS = 16
TIMEOUT = 2.0
MAX_REQUESTS = 200_000  # per client: the count bound beside the time bound
# Counts a join of every triple with every other three times: no answer bytes to hold,
# so it runs until the time limit stops it.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DEEP = "SELECT * " + "{" * 10000 + " ?s ?p ?o " + "}" * 10000
LARGE = "SELECT * { ?s ?p ?o } LIMIT 100000"  # ~20 MB of JSON, never read
STALLED = 8  # request bodies one abusive client keeps stalled at once
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "load.json"


def load_seconds(default: float) -> float:
    return float(os.environ.get("DPGKG_LOAD_SECONDS", default))


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]


class Request:
    def __init__(self, name: str, method: str, path: str, accept: str,
                 body: bytes | None = None, content_type: str | None = None):
        self.name, self.method, self.path, self.accept = name, method, path, accept
        self.body, self.content_type = body, content_type


def the_mix(port: int, store_spec: str, shared: Path | None) -> tuple[list[Request], str]:
    """Requests the clients cycle through, and a note on what was left out."""
    from dpgkg.publish.examples import EXAMPLES
    from dpgkg.rdf import sparql_prefixes
    from dpgkg.store import open_store

    json_results = "application/sparql-results+json"
    mix = [Request(f"ex{i + 1}", "GET", "/sparql?" + urllib.parse.urlencode({"query": q}),
                   json_results) for i, (_, q) in enumerate(EXAMPLES)]
    dpgs = [r["d"].value for r in open_store(store_spec).select(
        sparql_prefixes() + "SELECT ?d { ?d a dpg:DigitalPublicGood } ORDER BY ?d LIMIT 6")]
    for i, dpg in enumerate(dpgs):
        path = "/id/" + dpg.split("/id/", 1)[1]
        mix.append(Request(f"page-jsonld-{i}", "GET", path, "application/ld+json"))
        mix.append(Request(f"page-html-{i}", "GET", path, "text/html"))
    note = ""
    record = _a_registry_record(shared)
    if record is None:
        note = "validations left out: no registry record (../shared) to send"
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/validate", body=record, headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        status = c.getresponse().status
        c.close()
        if status == 200:
            mix.append(Request("validate", "POST", "/validate", "application/json", record,
                               "application/json"))
        else:
            note = f"validations left out: POST /validate answered {status}"
    return mix, note


def _kind(name: str) -> str:
    return name.rsplit("-", 1)[0] if name.startswith("page") else name


def _a_registry_record(shared: Path | None) -> bytes | None:
    if shared is None:
        return None
    files = sorted((shared / "registry" / "nominees").glob("*.json"))
    return files[0].read_bytes() if files else None


class Tally:
    """What the clients saw, added up over the blocks of one phase."""

    def __init__(self):
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.runaways: list[tuple[int, float, str]] = []
        self.abusive: dict[str, list[int]] = {}  # statuses the abusive clients saw
        self.wall = 0.0

    def summary(self) -> dict:
        xs = self.latencies
        out = {
            "clients": CLIENTS, "seconds": round(self.wall, 1), "requests": len(xs),
            "errors": len(self.errors), "error_samples": self.errors[:10],
            "requests_per_s": round(len(xs) / self.wall, 1) if self.wall else None,
            "p50_ms": _ms(statistics.median(xs)) if xs else None,
            "p95_ms": _ms(percentile(xs, 95)) if xs else None,
            "p99_ms": _ms(percentile(xs, 99)) if xs else None,
            "max_ms": _ms(max(xs)) if xs else None,
            "by_kind": {k: {"requests": len(v), "p50_ms": _ms(statistics.median(v)),
                            "p95_ms": _ms(percentile(v, 95))}
                        for k, v in sorted(self.by_kind.items())},
        }
        if self.runaways:
            durations = [d for _, d, _ in self.runaways]
            out["runaway"] = {
                "requests": len(self.runaways),
                "statuses": sorted({st for st, _, _ in self.runaways}),
                "seconds_min": round(min(durations), 2),
                "seconds_max": round(max(durations), 2),
                "sample": self.runaways[0][2],
                "unexpected": [f"{st} after {d:.2f} s: {b}" for st, d, b in self.runaways
                               if st != 503][:5],
            }
        if self.abusive:
            out["abusive"] = {k: {"requests": len(v), "statuses": sorted(set(v))}
                              for k, v in sorted(self.abusive.items())}
        return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _connection(port: int, address: str) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                      source_address=(address, 0))


def _raw(port: int, address: str, request: bytes, rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((address, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    return s


def abusers(port: int, stop: float, tally: Tally) -> list[threading.Thread]:
    """The four abusive clients, each from an address of its own, until `stop`."""

    def stalled_bodies() -> None:
        head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query"
                b"\r\nContent-Length: 100000\r\n\r\nSELECT")
        held: list[socket.socket] = []
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= stop:
                break
            while len(held) < STALLED:
                held.append(_raw(port, "127.0.0.202", head))
            time.sleep(0.5)
            for s in [s for s in held if _answered(s)]:  # timed out (408): stall again
                held.remove(s)
                s.close()
        for s in held:
            s.close()

    def deep_queries() -> None:
        conn = _connection(port, "127.0.0.203")
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= stop:
                break
            conn.request("POST", "/sparql", body=DEEP.encode(),
                         headers={"Content-Type": "application/sparql-query"})
            resp = conn.getresponse()
            resp.read()
            tally.abusive.setdefault("deep", []).append(resp.status)

    def never_read() -> None:
        target = "/sparql?" + urllib.parse.urlencode({"query": LARGE})
        request = (f"GET {target} HTTP/1.1\r\nHost: x\r\n"
                   "Accept: application/sparql-results+json\r\n\r\n").encode()
        held: list[socket.socket] = []
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= stop:
                break
            if len(held) < 4:
                held.append(_raw(port, "127.0.0.204", request, rcvbuf=4096))
                tally.abusive.setdefault("never_read", []).append(0)
            time.sleep(0.5)
        for s in held:
            s.close()

    return [threading.Thread(target=runaway_client, args=(port, stop, tally, "127.0.0.201")),
            threading.Thread(target=stalled_bodies), threading.Thread(target=deep_queries),
            threading.Thread(target=never_read)]


def _answered(s: socket.socket) -> bool:
    s.setblocking(False)
    try:
        return bool(s.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def runaway_client(port: int, stop: float, tally: Tally, address: str) -> None:
    conn = _connection(port, address)
    path = "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
    for _ in range(MAX_REQUESTS):
        if time.monotonic() >= stop:
            break
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            tally.runaways.append((0, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"))
            conn.close()
            conn = _connection(port, address)
            continue
        tally.runaways.append((resp.status, time.perf_counter() - t0,
                               body[:300].decode("utf-8", "replace")))
    conn.close()


def run_clients(port: int, mix: list[Request], seconds: float, extra: str | None,
                tally: Tally) -> None:
    """CLIENTS threads for `seconds` (and at most MAX_REQUESTS each); with `extra`
    "runaway" one more sends the runaway query again and again, with "abusive" the four
    abusive clients run beside them."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(i: int) -> None:
        address = f"127.0.0.{10 + i}"
        conn = _connection(port, address)
        n = i  # each client starts at a different place in the mix
        for _ in range(MAX_REQUESTS):
            if time.monotonic() >= stop:
                break
            req = mix[n % len(mix)]
            n += 1
            headers = {"Accept": req.accept}
            if req.content_type:
                headers["Content-Type"] = req.content_type
            t0 = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    tally.errors.append(f"{req.name}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = _connection(port, address)
                continue
            dt = time.perf_counter() - t0
            with lock:
                tally.latencies.append(dt)
                tally.by_kind.setdefault(_kind(req.name), []).append(dt)
                if resp.status != 200:
                    tally.errors.append(f"{req.name}: HTTP {resp.status} "
                                        f"{body[:200].decode('utf-8', 'replace')}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    if extra == "runaway":
        threads.append(threading.Thread(target=runaway_client,
                                        args=(port, stop, tally, "127.0.0.200")))
    elif extra == "abusive":
        threads += abusers(port, stop, tally)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    tally.wall += time.monotonic() - t0


def measure(port: int, store_spec: str, shared: Path | None, seconds: float,
            blocks: int = 3, results: Path | None = None) -> dict:
    """`seconds` without and `seconds` with the runaway, in alternating blocks so that
    whatever else the machine does falls on both alike; written to `results` if given
    (the script does, so the suite's short run never replaces the committed figures)."""
    mix, note = the_mix(port, store_spec, shared)
    # Warm-up: every request once, so the first of each is not timed.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for req in mix:
        headers = {"Accept": req.accept, **({"Content-Type": req.content_type}
                                            if req.content_type else {})}
        c.request(req.method, req.path, body=req.body, headers=headers)
        c.getresponse().read()
    c.close()
    base, loaded, abused = Tally(), Tally(), Tally()
    for _ in range(blocks):
        run_clients(port, mix, seconds / blocks, None, base)
        run_clients(port, mix, seconds / blocks, "runaway", loaded)
        run_clients(port, mix, seconds / blocks, "abusive", abused)
    base_s, loaded_s, abused_s = base.summary(), loaded.summary(), abused.summary()
    result = {
        "stamp": _stamp(),
        "query_timeout_s": TIMEOUT, "seconds_per_phase": seconds, "blocks": blocks,
        "cpu_count": os.cpu_count(),
        "mix": sorted({_kind(r.name) for r in mix}),
        "note": note,
        "without_runaway": base_s, "with_runaway": loaded_s, "with_abusive": abused_s,
        "p95_ratio": round(loaded_s["p95_ms"] / base_s["p95_ms"], 2),
        "p95_ratio_abusive": round(abused_s["p95_ms"] / base_s["p95_ms"], 2),
    }
    if results is not None:  # load.json and load.md (bench/report.py)
        _report().save(results.stem, result, results.parent)
    print(f"\nload, {CLIENTS} clients, {seconds:g} s per phase in {blocks} blocks, "
          f"timeout {TIMEOUT:g} s" + (f" ({note})" if note else ""))
    for name in ("without_runaway", "with_runaway", "with_abusive"):
        r = result[name]
        print(f"  {name}: {r['requests']} requests, {r['requests_per_s']}/s, errors "
              f"{r['errors']}, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
              f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms")
    ra = loaded_s.get("runaway", {})
    print(f"  runaway: {ra.get('requests')} sent, statuses {ra.get('statuses')}, "
          f"{ra.get('seconds_min')}-{ra.get('seconds_max')} s each; "
          f"p95 ratio {result['p95_ratio']}")
    print(f"  abusive: {abused_s.get('abusive')}, runaways "
          f"{abused_s.get('runaway', {}).get('statuses')}; p95 ratio "
          f"{result['p95_ratio_abusive']}")
    return result


def _bench_module(name: str):
    import importlib
    import sys

    bench = str(ROOT / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    return importlib.import_module(name)


def _stamp() -> dict:
    """Commit, date, machine, load average and command (bench/stamp.py)."""
    return _bench_module("stamp").stamp()


def _report():
    return _bench_module("report")


def check(result: dict) -> None:
    base, loaded = result["without_runaway"], result["with_runaway"]
    assert base["errors"] == 0, base["error_samples"]
    assert loaded["errors"] == 0, loaded["error_samples"]
    ra = loaded["runaway"]
    assert ra["requests"] >= 3
    assert ra["statuses"] == [503], ra
    assert "limit" in ra["sample"]  # the timeout's message, as JSON
    # At most TIMEOUT waiting for a query process, then TIMEOUT running.
    assert TIMEOUT * 0.9 <= ra["seconds_min"] and ra["seconds_max"] <= 2 * TIMEOUT + 1.5, ra
    abused = result["with_abusive"]
    assert abused["errors"] == 0, abused["error_samples"]
    assert abused["runaway"]["statuses"] == [503], abused["runaway"]
    assert abused["abusive"]["deep"]["statuses"] == [400], abused["abusive"]


# The issues' targets for the p95 ratios: measured by the benchmark run (`python
# tests/test_load.py`, 60 s a phase, its stamped result in bench/results/load.json),
# never asserted in the suite, whose 15 s phases share the machine with other tests.
TARGETS = {"p95_ratio": 1.5,            # a runaway query beside 16 clients (issue 15)
           "p95_ratio_abusive": 2.0}    # 4 abusive clients beside them (issue 16)


def report_targets(result: dict) -> None:
    for key, target in TARGETS.items():
        met = "met" if result[key] <= target else "MISSED"
        print(f"{key}: {result[key]} (target <= {target}: {met})")


def server(settings):
    """`dpgkg serve` as deployed (2 workers x 8 threads, 2 query processes each reading
    the store as the default says, answers held back up to 64 MiB), with a 2 s query
    timeout."""
    from dpgkg.config import Settings
    from tests.webserver import live_server

    return live_server(settings, workers=2, query_workers=2,
                       in_memory=Settings().query_in_memory, query_timeout=TIMEOUT)


def test_load_with_and_without_a_runaway_query(full_settings, shared):
    with server(full_settings) as url:
        port = int(url.rsplit(":", 1)[1])
        result = measure(port, full_settings.store, shared, load_seconds(15))
    check(result)


if __name__ == "__main__":
    import sys
    import tempfile

    sys.path.insert(0, str(ROOT))
    from dpgkg.build import build
    from dpgkg.config import Settings

    shared_dir = ROOT.parent / "shared"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=str(Path(tmp) / "store"), sources=str(shared_dir))
        build(settings)
        with server(settings) as url:
            result = measure(int(url.rsplit(":", 1)[1]), settings.store, shared_dir,
                             load_seconds(60),
                             results=Path(os.environ.get("DPGKG_LOAD_RESULTS", RESULTS)))
    check(result)
    report_targets(result)
