"""Benchmark: dpgkg's SPARQL endpoint against its peers, side by side in one run.

Peers, started here on the same triples and queried interleaved:
- the Oxigraph server (`oxigraph` on PyPI, a Rust server) on the store's own quads: the
  named graphs and, in its default graph, the merge dpgkg answers over;
- rdflib-endpoint (`rdflib-endpoint` on PyPI) on the merge as N-Triples.
Before anything is timed every server answers every query of the mix once and the
peers' answers are compared to dpgkg's (bench/answers.py): a difference stops the run.

Targets (issue "The publisher"): geometric mean over the query mix of per-query
p50 no slower than the Oxigraph server and >= 10x faster than rdflib-endpoint,
with no result cache; with 8 concurrent clients on the group-by query at least
half the Oxigraph server's throughput; a DPG's JSON-LD page p50 <= 5 ms.

    python bench/bench_sparql.py [--store var/store] [--rounds 30] [--seconds 5]
    python bench/bench_sparql.py --rounds 1 --seconds 0.5   # the quickest run that works

Needs a built store (`dpgkg build`). Writes bench/results/sparql.json (with its stamp:
commit, date, machine, command) and sparql.md (bench/report.py). Loopback only; every
loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from answers import normalise, require_same
from stamp import stamp

from dpgkg.publish.examples import EXAMPLES
from dpgkg.rdf import sparql_prefixes
from dpgkg.store.embedded import MERGE_QUERY

RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not come up")


def stop_all(procs: list[subprocess.Popen], tmp: Path) -> None:
    """End the servers started and remove their working directory."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=10)
    shutil.rmtree(tmp, ignore_errors=True)


class Client:
    """One keep-alive connection; GET a SPARQL query, return seconds taken."""

    def __init__(self, port: int, path: str):
        self.port, self.path = port, path
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def fetch(self, url: str, accept: str) -> tuple[float, int, str, bytes]:
        """(seconds, status, content type, body) of one GET."""
        for attempt in (1, 2):  # an idle keep-alive connection may have been closed
            t0 = time.perf_counter()
            try:
                self.conn.request("GET", url, headers={"Accept": accept})
                resp = self.conn.getresponse()
                body = resp.read()
                return (time.perf_counter() - t0, resp.status,
                        resp.getheader("Content-Type", ""), body)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, url: str, accept: str) -> tuple[float, int, int]:
        dt, status, _, body = self.fetch(url, accept)
        return dt, status, len(body)

    def url(self, sparql: str) -> str:
        return self.path + "?" + urllib.parse.urlencode({"query": sparql})

    def query(self, sparql: str, accept: str) -> tuple[float, int, int]:
        return self.get(self.url(sparql), accept)


def endpoint_path(port: int, paths: list[str]) -> str:
    """The first of `paths` where a SPARQL endpoint answers (rdflib-endpoint serves at
    /sparql in some versions, at / in others)."""
    for path in paths:
        _, status, _ = Client(port, path).query("ASK {}", "application/sparql-results+json")
        if status == 200:
            return path
    raise RuntimeError(f"no SPARQL endpoint on port {port} at {paths}")


def compare_answers(servers: dict[str, tuple[int, str]], mix, reference: str) -> dict:
    """Every query of the mix once on every server; stops the run (bench/answers.py) when
    a server answers otherwise than `reference`. Returns the solutions/triples counted."""
    answers: dict[str, dict[str, tuple]] = {}
    for qname, q, accept in mix:
        answers[qname] = {}
        for name, (port, path) in servers.items():
            c = Client(port, path)
            _, status, ctype, body = c.fetch(c.url(q), accept)
            if status != 200:
                sys.stderr.write(f"{name} answered HTTP {status} to {qname}: "
                                 f"{body[:300].decode('utf-8', 'replace')}\n")
                raise SystemExit(3)
            answers[qname][name] = normalise(body, ctype, q)
    require_same(answers, reference)
    return {q: _size(a[reference]) for q, a in answers.items()}


def _size(answer: tuple) -> int:
    kind, value = answer
    if kind == "boolean":
        return int(value)
    if kind == "graph":
        return len(value)
    return sum(value.values())


def peer_dataset(store, path: Path) -> bool:
    """Write the store's quads to `path` (N-Quads) for the Oxigraph server; True when the
    server must answer over its union default graph (a version stored without its merge),
    False when the default graph holds dpgkg's merge, which it then answers over too."""
    import pyoxigraph

    from dpgkg.store.embedded import has_merge

    pyoxigraph.serialize(store, str(path), format=pyoxigraph.RdfFormat.N_QUADS)
    return not has_merge(store)


def oxigraph_serve_cmd(location: Path, port: int | str, union: bool) -> list[str]:
    return (["oxigraph", "serve-read-only", "--location", str(location), "--bind",
             f"127.0.0.1:{port}"] + (["--union-default-graph"] if union else []))


def query_mix(store) -> list[tuple[str, str, str]]:
    """(name, query, accept) for the mix: the examples plus four shapes of load."""
    dpg = store.select(sparql_prefixes() + "SELECT ?d { ?d a dpg:DigitalPublicGood } "
                       "ORDER BY ?d LIMIT 1")[0]["d"].value
    json_ = "application/sparql-results+json"
    mix = [(f"ex{i + 1}", q, json_) for i, (_, q) in enumerate(EXAMPLES)]
    mix += [
        ("ask", "ASK {}", json_),
        ("group-by", "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p", json_),
        ("describe-dpg", f"CONSTRUCT {{ <{dpg}> ?p ?o }} WHERE {{ <{dpg}> ?p ?o }}",
         "application/n-triples"),
        ("text-filter", ("SELECT ?s WHERE { ?s ?p ?o FILTER(isLiteral(?o) && "
                        "CONTAINS(LCASE(STR(?o)), \"malaria\")) }"), json_),
    ]
    return mix


def throughput(port: int, path: str, sparql: str, clients: int, seconds: float) -> float:
    """Requests per second with `clients` threads for `seconds` (a bounded loop)."""
    stop = time.monotonic() + seconds
    counts = [0] * clients

    def work(i: int) -> None:
        c = Client(port, path)
        while time.monotonic() < stop:
            _, status, _ = c.query(sparql, "application/sparql-results+json")
            if status == 200:
                counts[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - t0)


def geomean(xs) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in xs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default=str(ROOT / "var" / "store"))
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--results", default=str(RESULTS),
                    help="where sparql.json and sparql.md go (a quick try: a temporary dir)")
    args = ap.parse_args()

    from dpgkg.store import open_store

    store = open_store(args.store)
    mix = query_mix(store)
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-sparql-"))
    try:
        # The same dataset for every server: the store's quads (Oxigraph: its named
        # graphs, and the merge as its default graph) and the merge as one N-Triples
        # graph (rdflib-endpoint).
        ox = store.oxigraph()
        import pyoxigraph

        nq, nt = tmp / "all.nq", tmp / "all.nt"
        union = peer_dataset(ox, nq)
        with open(nt, "wb") as f:
            f.write(pyoxigraph.serialize(ox.query(MERGE_QUERY),
                                         format=pyoxigraph.RdfFormat.N_TRIPLES))
        subprocess.run(["oxigraph", "load", "--location", str(tmp / "oxi"), "--file", str(nq)],
                       check=True, capture_output=True)

        servers = {}
        p = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dpgkg.cli", "serve", "--store", args.store, "--host",
             "127.0.0.1", "--port", str(p), "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers["dpgkg"] = (p, "/sparql")
        p = free_port()
        procs.append(subprocess.Popen(oxigraph_serve_cmd(tmp / "oxi", p, union),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers["oxigraph-server"] = (p, "/query")
        p = free_port()
        procs.append(subprocess.Popen(
            ["rdflib-endpoint", "serve", str(nt), "--host", "127.0.0.1", "--port", str(p)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        servers["rdflib-endpoint"] = (p, "/")
        for name, (port, path) in servers.items():
            wait_http(port, path + "?query=ASK%7B%7D")
        port, _ = servers["rdflib-endpoint"]
        servers["rdflib-endpoint"] = (port, endpoint_path(port, ["/", "/sparql"]))
        sizes = compare_answers(servers, mix, "dpgkg")

        clients = {name: Client(port, path) for name, (port, path) in servers.items()}
        times: dict[str, dict[str, list[float]]] = {n: {q: [] for q, _, _ in mix}
                                                    for n in servers}
        for _ in range(3):  # warm-up
            for qname, q, accept in mix:
                for c in clients.values():
                    c.query(q, accept)
        for _ in range(args.rounds):
            for qname, q, accept in mix:
                for name, c in clients.items():  # interleaved: noise hits all alike
                    dt, status, _ = c.query(q, accept)
                    if status != 200:
                        raise RuntimeError(f"{name} answered {status} to {qname}")
                    times[name][qname].append(dt)
        p50 = {n: {q: statistics.median(v) * 1000 for q, v in qs.items()}
               for n, qs in times.items()}
        gm = {n: geomean(v.values()) for n, v in p50.items()}

        group_by = next(q for n, q, _ in mix if n == "group-by")
        rps = {n: throughput(port, path, group_by, 8, args.seconds)
               for n, (port, path) in servers.items()}

        port, _ = servers["dpgkg"]
        dpg = store.select(sparql_prefixes() + "SELECT ?d { ?d a dpg:DigitalPublicGood } "
                           "ORDER BY ?d LIMIT 1")[0]["d"].value
        page = "/id/" + dpg.split("/id/", 1)[1]
        c = Client(port, "")
        page_times = []
        for _ in range(max(args.rounds, 50)):
            dt, status, _ = c.get(page, "application/ld+json")
            page_times.append(dt)
        page_p50 = statistics.median(page_times) * 1000 if status == 200 else None
    finally:
        stop_all(procs, tmp)

    result = {
        "stamp": stamp(),
        "triples": int(store.select("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0]["n"].value),
        "rounds": args.rounds, "workers": args.workers,
        "answers_compared": sizes,
        "p50_ms": p50, "geomean_p50_ms": gm,
        "ratio_vs_oxigraph_server": gm["oxigraph-server"] / gm["dpgkg"],
        "ratio_vs_rdflib_endpoint": gm["rdflib-endpoint"] / gm["dpgkg"],
        "group_by_rps_8_clients": rps,
        "throughput_ratio_vs_oxigraph_server": rps["dpgkg"] / rps["oxigraph-server"],
        "dpg_jsonld_page_p50_ms": page_p50,
        "cpu_count": os.cpu_count(),
    }
    report.save("sparql", result, Path(args.results))
    print((Path(args.results) / "sparql.md").read_text())


if __name__ == "__main__":
    main()
