"""Benchmark: dpgkg at 1x, 10x and 100x the registry, on every store, side by side.

For each scale (the registry copied under new ids, `bench_build.make_copies`) and
each store (the embedded one; the Oxigraph server and Virtuoso through dpgkg's
RemoteStore), one run measures:

- the build (`dpgkg build`, with validation and dumps, as a user runs it): wall time
  and the build process's peak RSS;
- the query mix of `bench_sparql.query_mix` (the example queries, ASK, group-by,
  describe, text filter) through `dpgkg serve`, p50 and p95 per query, and their
  geometric means; throughput of the group-by query with 8 clients;
- the peak memory of the whole `dpgkg serve` process tree (server main process,
  workers, query processes): its proportional set size (PSS, `/proc/PID/smaps_rollup`,
  so pages the query processes share are counted once), sampled while it starts and
  answers; the RSS sum is kept beside it for comparison with older runs.

Reference peers on the same dataset, queried directly and interleaved with the rest:
the Oxigraph server (`oxigraph serve-read-only` on the store's quads: the named graphs
and, as its default graph, the merge dpgkg answers over) and rdflib-endpoint (the
merge; only up to `--rdflib-max-scale`, 10x by default: at 100x loading and querying
12 M triples in rdflib takes hours). Before anything is timed, every server answers
every query of the mix once and the answers are compared to dpgkg's (bench/answers.py):
a difference stops the run.

Targets (issue "Beyond one machine"), at 100x on the embedded store: build
<= 10 min; query-mix geometric-mean p50 at most 20x its 1x value and no slower
than the Oxigraph server on the same triples; server peak memory <= 4 GB.

    python bench/bench_scale.py [--scales 1,10,100] [--stores embedded,oxigraph,virtuoso]
    python bench/bench_scale.py --scales 1 --stores embedded --rounds 1 --seconds 0.5 \
        --results /tmp/scale     # the quickest run that works

Writes bench/results/scale.json (each scale with its own stamp: commit, date, machine,
command), scale.md (bench/report.py) and scale.png. Loopback only; every loop is
bounded in count and time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from bench_build import SHARED, build_once, make_copies
from bench_sparql import (
    Client,
    compare_answers,
    endpoint_path,
    free_port,
    geomean,
    oxigraph_serve_cmd,
    peer_dataset,
    query_mix,
    throughput,
    wait_http,
)
from stamp import stamp

from tests.stores import VIRTUOSO_PASSWORD, VIRTUOSO_USER, OxigraphServer, VirtuosoServer

RESULTS = ROOT / "bench" / "results"
QUERY_TIMEOUT = 300  # s: the server's limit in the benchmark, above any mix query at 100x
TARGETS = {"build_s": 600, "p50_growth": 20}
SERVER_PSS_MB = {1: 300, 100: 2048}  # the cost issue's, by scale; no target at others


# Memory of a process tree -------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _pss_kb(pid: int) -> int:
    """Proportional set size of one process, kB: each page shared with n processes counts
    1/n (the kernel's own sum, /proc/PID/smaps_rollup)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise ValueError(f"no Pss in /proc/{pid}/smaps_rollup")


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """(PSS, RSS) of `pid` and all its descendants, MB. PSS is what the tree costs the
    machine; the RSS sum counts a page shared by n processes n times."""
    kids, pss, rss, todo = _children(), 0, 0, [pid]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as f:
                rss += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            pss += _pss_kb(p) * 1024
        except (OSError, ValueError, IndexError):
            pass  # the process ended between the listing and the read
    return pss / 2**20, rss / 2**20


class PeakMemory(threading.Thread):
    """Samples a process tree's PSS and RSS every `every` s until stopped; keeps the
    peaks."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_pss, self.peak_rss = pid, every, 0.0, 0.0
        self._halt = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._halt.is_set():
            pss, rss = tree_memory_mb(self.pid)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self._halt.wait(self.every)

    def stop(self) -> dict:
        self._halt.set()
        self.join(5)
        return {"peak_pss_mb": round(self.peak_pss), "peak_rss_mb": round(self.peak_rss)}


# Servers --------------------------------------------------------------------------------

def _popen(cmd: list[str], env: dict | None = None, log: Path | None = None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def big_virtuoso(root: Path) -> VirtuosoServer:
    """Virtuoso with room for 100x: more buffers and a larger swap transaction."""
    srv = VirtuosoServer(root)
    ini = srv.ini.read_text()
    for old, new in (("NumberOfBuffers = 10000", "NumberOfBuffers = 170000"),
                     ("MaxDirtyBuffers = 6000", "MaxDirtyBuffers = 130000"),
                     ("TransactionAfterImageLimit = 500000000",
                      "TransactionAfterImageLimit = 2000000000"),
                     ("MaxQueryExecutionTime = 60", f"MaxQueryExecutionTime = {QUERY_TIMEOUT}"),
                     ("MaxQueryCostEstimationTime = 400", "MaxQueryCostEstimationTime = 0")):
        ini = ini.replace(old, new)
    srv.ini.write_text(ini)
    return srv


def store_env(kind: str) -> dict[str, str]:
    if kind == "virtuoso":
        return {"DPGKG_STORE_USER": VIRTUOSO_USER, "DPGKG_STORE_PASSWORD": VIRTUOSO_PASSWORD}
    return {}


@contextlib.contextmanager
def temporary_env(env: dict[str, str]):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# One scale ------------------------------------------------------------------------------

def run_scale(scale: int, stores: list[str], tmp: Path, args, log: Path) -> dict:
    from dpgkg.config import Settings
    from dpgkg.store import open_store

    print(f"\n== {scale}x ==", flush=True)
    sources = SHARED if scale == 1 else make_copies(SHARED, tmp / f"sources-{scale}x", scale)
    out: dict = {"scale": scale, "stamp": stamp(), "date": time.strftime("%Y-%m-%d %H:%M"),
                 "rounds": args.rounds, "builds": {}, "servers": {}}
    servers: dict[str, tuple[int, str]] = {}
    procs: list[subprocess.Popen] = []
    store_servers: list = []
    samplers: dict[str, PeakMemory] = {}
    specs: dict[str, str] = {}
    try:
        for kind in stores:
            if kind == "embedded":
                spec = str(tmp / f"store-{scale}x")
            else:
                cls = {"oxigraph": OxigraphServer, "virtuoso": VirtuosoServer}[kind]
                if not cls.available():
                    print(f"  {kind}: {cls.binary} not installed, skipped", flush=True)
                    continue
                srv = (big_virtuoso if kind == "virtuoso" else OxigraphServer)(
                    tmp / f"{kind}-{scale}x").start(timeout=300)
                store_servers.append(srv)
                spec = srv.spec
            with temporary_env(store_env(kind)):
                try:
                    b = build_once(sources, spec)
                except subprocess.CalledProcessError as exc:
                    out["builds"][kind] = {"failed": exc.stderr.strip().splitlines()[-3:]}
                    print(f"  build {kind} FAILED: {exc.stderr.strip()[-500:]}", flush=True)
                    continue
            specs[kind] = spec
            out["builds"][kind] = {"wall_s": round(b["wall_s"], 2),
                                   "peak_rss_mb": round(b["peak_rss_mb"]),
                                   "triples": b["summary"]["triples"],
                                   "steps_s": b["summary"]["seconds"]}
            print(f"  build {kind}: {b['wall_s']:.1f} s, {b['peak_rss_mb']:.0f} MB, "
                  f"{b['summary']['triples']} triples", flush=True)

        # dpgkg serve in front of each store
        for kind, spec in specs.items():
            port = free_port()
            proc = _popen([sys.executable, "-m", "dpgkg", "serve", "--store", spec, "--host",
                           "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                           "--timeout", str(QUERY_TIMEOUT)], store_env(kind), log)
            procs.append(proc)
            samplers[f"dpgkg-{kind}"] = PeakMemory(proc.pid)
            servers[f"dpgkg-{kind}"] = (port, "/sparql")

        # The peers, on the same triples
        kind = "embedded" if "embedded" in specs else next(iter(specs))
        creds = store_env(kind)
        first = open_store(specs[kind], settings=Settings(
            store_user=creds.get("DPGKG_STORE_USER"),
            store_password=creds.get("DPGKG_STORE_PASSWORD")))
        nt = tmp / f"all-{scale}x.nt"
        import pyoxigraph as ox

        # the merge of the version's graphs (never a remote store's control graphs)
        construct = ("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } "
                     "FILTER(!STRSTARTS(STR(?g), \"urn:dpgkg:\")) }")
        with open(nt, "wb") as f:
            ox.serialize(first.query(construct), f, format=ox.RdfFormat.N_TRIPLES)
        oxi_dir = tmp / f"oxi-peer-{scale}x"
        if "embedded" in specs:
            # the store's quads: the named graphs and the merge as the default graph
            nq = tmp / f"all-{scale}x.nq"
            union = peer_dataset(first.oxigraph(), nq)
            load_from = nq
        else:  # the merge, into the default graph
            load_from, union = nt, False
        subprocess.run(["oxigraph", "load", "--location", str(oxi_dir), "--file",
                        str(load_from)], check=True, capture_output=True)
        port = free_port()
        proc = _popen(oxigraph_serve_cmd(oxi_dir, port, union), log=log)
        procs.append(proc)
        samplers["oxigraph-server"] = PeakMemory(proc.pid)
        servers["oxigraph-server"] = (port, "/query")
        if scale <= args.rdflib_max_scale and shutil.which("rdflib-endpoint"):
            port = free_port()
            proc = _popen(["rdflib-endpoint", "serve", str(nt), "--host", "127.0.0.1",
                           "--port", str(port)], log=log)
            procs.append(proc)
            samplers["rdflib-endpoint"] = PeakMemory(proc.pid)
            servers["rdflib-endpoint"] = (port, "/sparql")
        for name, (port, path) in servers.items():
            wait_http(port, path + "?query=ASK%7B%7D", timeout=3600)
            if name == "rdflib-endpoint":  # /sparql in some versions, / in others
                servers[name] = (port, endpoint_path(port, ["/sparql", "/"]))
            print(f"  {name} up", flush=True)

        mix = query_mix(first)
        # the same answers first, or the timings compare different work (exits if not)
        out["answers_compared"] = compare_answers(servers, mix, next(iter(servers)))
        print(f"  answers: the same on {', '.join(servers)}", flush=True)
        out["triples"] = next(b["triples"] for b in out["builds"].values() if "triples" in b)
        out["queries"] = [q for q, _, _ in mix]
        out["servers"] = measure(servers, mix, scale, args)
        for name, sampler in samplers.items():
            out["servers"][name].update(sampler.stop())
        for name, r in out["servers"].items():
            print(f"  {name}: geomean p50 {r['geomean_p50_ms']:.2f} ms, p95 "
                  f"{r['geomean_p95_ms']:.2f} ms, group-by {r['group_by_rps']:.1f}/s, "
                  f"peak PSS {r['peak_pss_mb']} MB, errors {r['errors']}", flush=True)
    finally:
        for proc in procs:
            _stop(proc)
        for srv in store_servers:
            srv.stop()
    return out


def measure(servers: dict[str, tuple[int, str]], mix, scale: int, args) -> dict:
    """Interleaved rounds of the mix on every server, then group-by throughput."""
    clients = {n: Client(port, path) for n, (port, path) in servers.items()}
    times: dict[str, dict[str, list[float]]] = {n: {q: [] for q, _, _ in mix} for n in servers}
    errors: dict[str, list[str]] = {n: [] for n in servers}
    slow = {"rdflib-endpoint"} if scale > 1 else set()  # fewer rounds where each takes seconds
    for r in range(args.rounds + 1):  # round 0 warms up
        for qname, q, accept in mix:
            for name, c in clients.items():
                if name in slow and r > args.slow_rounds:
                    continue
                try:
                    dt, status, _ = c.query(q, accept)
                except OSError as exc:
                    errors[name].append(f"{qname}: {exc}")
                    continue
                if status != 200:
                    errors[name].append(f"{qname}: HTTP {status}")
                elif r > 0:
                    times[name][qname].append(dt)
    group_by = next(q for n, q, _ in mix if n == "group-by")
    out = {}
    for name, (port, path) in servers.items():
        p50 = {q: statistics.median(v) * 1000 for q, v in times[name].items() if v}
        p95 = {q: sorted(v)[max(0, round(0.95 * len(v)) - 1)] * 1000
               for q, v in times[name].items() if v}
        seconds = args.seconds if name not in slow else max(args.seconds, 10)
        out[name] = {
            "p50_ms": p50, "p95_ms": p95,
            "geomean_p50_ms": geomean(p50.values()) if len(p50) == len(mix) else float("nan"),
            "geomean_p95_ms": geomean(p95.values()) if len(p95) == len(mix) else float("nan"),
            "group_by_rps": throughput(port, path, group_by, 8, seconds),
            "errors": len(errors[name]), "error_samples": errors[name][:5],
        }
    return out


# Report ---------------------------------------------------------------------------------

def targets(rows: dict) -> dict:
    """The issue's targets at the largest scale measured (100x when run)."""
    emb = {s: r for s, r in rows.items() if "embedded" in r["builds"]}
    if not emb:
        return {}
    top = max(emb)
    r = emb[top]
    srv = r["servers"]["dpgkg-embedded"]
    growth = srv["geomean_p50_ms"] / emb[min(emb)]["servers"]["dpgkg-embedded"]["geomean_p50_ms"]
    oxi = r["servers"]["oxigraph-server"]["geomean_p50_ms"]
    steps = r["builds"]["embedded"]["steps_s"]
    return {
        "at_scale": top,
        "build_s": r["builds"]["embedded"]["wall_s"],
        "build_ok": r["builds"]["embedded"]["wall_s"] <= TARGETS["build_s"],
        "served_after_s": sum(v for k, v in steps.items() if k not in ("publish", "total")),
        "validate_s": steps.get("validate", 0.0),
        "dumps_s": steps.get("publish", 0.0),
        "p50_growth_from_1x": round(growth, 2),
        "p50_growth_ok": growth <= TARGETS["p50_growth"],
        "p50_vs_oxigraph_server": round(srv["geomean_p50_ms"] / oxi, 2),
        "p50_vs_oxigraph_ok": srv["geomean_p50_ms"] <= oxi,
        "server_peak_pss_mb": srv["peak_pss_mb"],
        "server_pss_target_mb": SERVER_PSS_MB.get(top),
        "server_pss_ok": (srv["peak_pss_mb"] <= SERVER_PSS_MB[top] if top in SERVER_PSS_MB
                          else None),
    }


def chart(result: dict, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no chart", flush=True)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["scales"]
    scales = sorted(rows)
    names = sorted({n for r in rows.values() for n in r["servers"]})
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [
        (axes[0][0], "build (s)", lambda s, n: rows[s]["builds"].get(n.removeprefix("dpgkg-"),
                                                                    {}).get("wall_s")),
        (axes[0][1], "query mix p50, geometric mean (ms)",
         lambda s, n: rows[s]["servers"].get(n, {}).get("geomean_p50_ms")),
        (axes[1][0], "group-by req/s, 8 clients",
         lambda s, n: rows[s]["servers"].get(n, {}).get("group_by_rps")),
        (axes[1][1], "server peak memory, PSS (MB; RSS before PSS was measured)",
         lambda s, n: rows[s]["servers"].get(n, {}).get(
             "peak_pss_mb", rows[s]["servers"].get(n, {}).get("peak_rss_mb"))),
    ]
    for ax, title, get in panels:
        for n in names:
            pts = [(s, get(s, n)) for s in scales]
            pts = [(s, v) for s, v in pts if v is not None and not math.isnan(v)]
            if pts:
                ax.plot([s for s, _ in pts], [v for _, v in pts], marker="o", label=n)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(scales, [f"{s}x" for s in scales])
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][1].legend(fontsize=8)
    fig.suptitle("dpgkg at 1x / 10x / 100x the registry")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--stores", default="embedded,oxigraph,virtuoso")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--slow-rounds", type=int, default=3,
                    help="rounds for rdflib-endpoint above 1x")
    ap.add_argument("--seconds", type=float, default=5, help="per throughput measurement")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rdflib-max-scale", type=int, default=10)
    ap.add_argument("--fresh", action="store_true",
                    help="drop the scales of earlier runs from results/scale.json "
                         "(by default they are kept, each with its own stamp)")
    ap.add_argument("--results", default=str(RESULTS),
                    help="where scale.json, .md and .png go (a quick try: a temporary dir)")
    args = ap.parse_args()
    results = Path(args.results)
    scales = [int(s) for s in args.scales.split(",")]
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    results.mkdir(parents=True, exist_ok=True)
    result = {"stamp": stamp(), "date": time.strftime("%Y-%m-%d"), "cpu_count": os.cpu_count(),
              "rounds": args.rounds, "stores": stores, "scales": {}}
    earlier = results / "scale.json"
    if not args.fresh and earlier.exists():  # e.g. 1x,10x now and 100x in a later run
        kept = json.loads(earlier.read_text()).get("scales", {})
        result["scales"] = {int(k): v for k, v in kept.items() if int(k) not in scales}
    log = Path(tempfile.gettempdir()) / "dpgkg-bench-scale.log"  # the servers' output
    log.unlink(missing_ok=True)
    for scale in scales:
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{scale}x-") as tmp:
            result["scales"][scale] = run_scale(scale, stores, Path(tmp), args, log)
        result["scales"] = dict(sorted(result["scales"].items()))
        result["targets"] = targets(result["scales"])
        # Written after every scale: a long run leaves what it has measured.
        result["stamp"] = stamp()
        report.save("scale", result, results)
        chart(result, results / "scale.png")
    print("\n" + (results / "scale.md").read_text())


if __name__ == "__main__":
    main()
