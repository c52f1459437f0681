"""Benchmark: the fixed cost of a cheap request, layer by layer (issue 15, item 4).

`ASK {}` asks nothing of the data, so its time is what sits between the socket and
pyoxigraph. Timed interleaved over keep-alive connections (each request to one server
follows one to each of the others, so idle wake-ups fall on all alike), p50 of each:

- the Oxigraph server (`oxigraph serve-read-only`, Rust), the peer: `ASK {}`;
- Granian's ASGI interface with an app that answers at once, and the same after a hop
  through a thread pool (bench/asgi_floor.py): the floor of dpgkg's server stack;
- `dpgkg serve`: `/health` (the gateway and Flask, no query) and `/sparql` `ASK {}`;
- in this process: the query pool's round trip to a query process, and pyoxigraph.

The Oxigraph server's answer and dpgkg's are compared before timing. Target: dpgkg's
`ASK {}` p50 <= 1.2x the Oxigraph server's.

    python bench/bench_fixed_cost.py [--store var/store] [--rounds 2000]

Writes bench/results/fixed_cost.json (with its stamp) and fixed_cost.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from bench_sparql import (
    Client,
    free_port,
    oxigraph_serve_cmd,
    peer_dataset,
    stop_all,
    wait_http,
)
from stamp import stamp

from dpgkg.publish.querypool import QueryPool
from dpgkg.store import open_store

RESULTS = ROOT / "bench" / "results"
ASK = "ASK {}"
JSON = "application/sparql-results+json"


def p50_ms(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 3)


def in_process(store_spec: str, rounds: int) -> dict[str, float]:
    """The query pool's round trip and pyoxigraph itself, timed in this process."""
    pool = QueryPool(store_spec, size=1, in_memory=True)
    try:
        if not pool.wait_ready(300):
            raise RuntimeError("the query pool did not start")
        pooled, direct = [], []
        store = open_store(store_spec)
        for _ in range(rounds):
            t0 = time.perf_counter()
            b"".join(pool.run(ASK, timeout=10, result_format="json").body)
            pooled.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            store.query(ASK)
            direct.append(time.perf_counter() - t0)
    finally:
        pool.close()
    return {"query pool round trip (in process)": p50_ms(pooled),
            "pyoxigraph (in process)": p50_ms(direct)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", default=str(ROOT / "var" / "store"))
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--results", default=str(RESULTS))
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="dpgkg-fixed-"))
    procs: list[subprocess.Popen] = []
    try:
        nq = tmp / "all.nq"  # the same quads for the peer, as bench_sparql gives it
        union = peer_dataset(open_store(args.store).oxigraph(), nq)
        subprocess.run(["oxigraph", "load", "--location", str(tmp / "oxi"), "--file", str(nq)],
                       check=True, capture_output=True)
        servers: dict[str, tuple[int, str]] = {}

        def start(name: str, cmd: list[str], path: str, probe: str, **kw) -> None:
            port = free_port()
            procs.append(subprocess.Popen([c.replace("PORT", str(port)) for c in cmd],
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, **kw))
            servers[name] = (port, path)
            wait_http(port, probe)

        start("oxigraph-server: ASK {}", oxigraph_serve_cmd(tmp / "oxi", "PORT", union),
              "/query", "/query?query=ASK%7B%7D")
        start("Granian ASGI, answered at once", ["granian", "--interface", "asgi", "--host",
              "127.0.0.1", "--port", "PORT", "--workers", "1", "--working-dir",
              str(ROOT / "bench"), "asgi_floor:app"], "/direct", "/direct")
        start("Granian ASGI, through a thread", ["granian", "--interface", "asgi", "--host",
              "127.0.0.1", "--port", "PORT", "--workers", "1", "--working-dir",
              str(ROOT / "bench"), "asgi_floor:app"], "/thread", "/thread")
        env = {**os.environ, "DPGKG_ACCESS_LOG": "0"}
        start("dpgkg: /health", [sys.executable, "-m", "dpgkg.cli", "serve", "--store",
              args.store, "--host", "127.0.0.1", "--port", "PORT"], "/health", "/health",
              env=env)
        port = servers["dpgkg: /health"][0]
        servers["dpgkg: ASK {}"] = (port, "/sparql")

        clients = {name: Client(port, path) for name, (port, path) in servers.items()}
        ours = json.loads(clients["dpgkg: ASK {}"].fetch(
            clients["dpgkg: ASK {}"].url(ASK), JSON)[3])
        theirs = json.loads(clients["oxigraph-server: ASK {}"].fetch(
            clients["oxigraph-server: ASK {}"].url(ASK), JSON)[3])
        if ours["boolean"] is not True or theirs["boolean"] is not True:
            raise RuntimeError(f"the answers differ: dpgkg {ours}, oxigraph-server {theirs}")
        urls = {name: (c.url(ASK) if "ASK" in name else c.path) for name, c in clients.items()}
        times: dict[str, list[float]] = {name: [] for name in clients}
        for i in range(args.rounds + 100):
            for name, c in clients.items():
                dt, status, _, _ = c.fetch(urls[name], JSON)
                if status != 200:
                    raise RuntimeError(f"{name} answered {status}")
                if i >= 100:  # the first 100 rounds warm up
                    times[name].append(dt)
        p50 = {name: p50_ms(xs) for name, xs in times.items()}
    finally:
        stop_all(procs, tmp)
    p50.update(in_process(args.store, args.rounds))
    result = {
        "stamp": stamp(), "rounds": args.rounds, "p50_ms": p50,
        "ratio_vs_oxigraph_server": round(p50["dpgkg: ASK {}"]
                                          / p50["oxigraph-server: ASK {}"], 2),
        "target_ratio": 1.2, "answers_compared": True, "cpu_count": os.cpu_count(),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    report.save("fixed_cost", result, Path(args.results))
    print((Path(args.results) / "fixed_cost.md").read_text())


if __name__ == "__main__":
    main()
