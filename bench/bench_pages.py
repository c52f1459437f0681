"""Server time of every page kind of the site, first requests and repeats (target: p50
<= 30 ms at 1x, <= 100 ms at 100x).

    python bench/bench_pages.py --store var/store            # a built store
    python bench/bench_pages.py --sources ../shared          # build one first (1x)
    python bench/bench_pages.py --store /tmp/store-100x --scale 100

Each page is requested through the real app (create_app, the Flask test client: the time
the server spends, without the network; its queries go through the query pool as a
server's do). First the app does what a server does before it reports healthy
(`start_warming`: the tables kept per store version). Then, per page kind, a set of
distinct paths (up to `--paths` DPGs, nominees, organisations, SDG goals and targets,
countries, browse pages and filters, search words) is requested once each: *cold*, the
first request of that page; then the same paths `--runs` times in turn: *warm*. A row
meets the target when both p50s do. Writes bench/results/pages.json (pages-<N>x.json at
another scale) stamped with commit, date, machine, command and load average (the machine
may be shared: the load says how busy it was), and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from stamp import stamp

TARGETS_MS = {1: 30.0, 100: 100.0}  # the issue's; other scales are held to 100x's
SEARCH_WORDS = ("health", "data", "education", "agriculture", "open", "climate", "finance",
                "identity", "map", "mobile", "learning", "water", "energy", "gender", "covid",
                "school", "farm", "payment", "election", "library")
FIXED = {
    "home": ["/"],
    "alliance": ["/id/org/digital-public-goods-alliance"],
    "query": ["/query"],
    "validate": ["/validate"],
    "changes-html": ["/changes"],
    "dumps-html": ["/dumps/"],
}
PREFIXES = """PREFIX dpg: <https://w3id.org/dpgkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def spread(items: list[str], n: int, first: tuple[str, ...] = ()) -> list[str]:
    """`first` (when present), then items evenly spread over the sorted list, n in all."""
    chosen = [x for x in first if x in items]
    rest = [x for x in items if x not in chosen]
    step = max(1, len(rest) // max(1, n - len(chosen)))
    return (chosen + rest[::step])[:n]


def _local(base: str, iri: str) -> str:
    return "/id/" + iri[len(base):]


def page_paths(store, base: str, n: int) -> dict[str, list[str]]:
    """Distinct paths of each page kind, read from the store (not timed)."""
    def iris(where: str) -> list[str]:
        rows = store.select(PREFIXES + f"SELECT DISTINCT ?s WHERE {{ {where} }} ORDER BY ?s")
        return [r["s"].value for r in rows if r["s"].value.startswith(base)]

    dpgs = spread(iris("?s a dpg:DigitalPublicGood"), n, (base + "dpg/kobotoolbox",))
    nominees = spread(iris("?s a dpg:Nominee FILTER NOT EXISTS { ?s a dpg:DigitalPublicGood }"), n)
    orgs = spread(iris("?s a dpg:Organisation"), n, (base + "org/unicef",))
    countries = spread(iris("?x dpg:deploymentCountry ?s"), n, (base + "country/KE",))
    sdg = "http://metadata.un.org/sdg/"
    targets = sorted({r["t"].value[len(sdg):] for r in store.select(
        PREFIXES + f"SELECT DISTINCT ?t WHERE {{ ?t skos:notation ?n "
        f'FILTER(STRSTARTS(STR(?t), "{sdg}") && REGEX(STR(?n), "^[0-9]+\\\\.[0-9a-z]+$")) }}')})
    total = int(store.select(PREFIXES + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                             "{ ?s a dpg:Solution }")[0]["n"].value)
    browse_pages = max(1, -(-total // 50))
    return {
        **{k: v for k, v in FIXED.items() if k in ("home",)},
        "browse": ["/dpgs"] + [f"/dpgs?stage=all&page={p}"
                               for p in spread([str(i) for i in range(1, browse_pages + 1)],
                                               n - 1)],
        "browse-filtered": [f"/dpgs?sdg={g}&type=Software" for g in range(1, 18)]
        + [f"/dpgs?country={c.rsplit('/', 1)[-1]}" for c in countries[: max(0, n - 17)]],
        "search": [f"/search?q={w}" for w in SEARCH_WORDS[:n]],
        "dpg": [_local(base, s) for s in dpgs],
        "nominee": [_local(base, s) for s in nominees],
        "raw": [_local(base, s) + "?view=all" for s in dpgs],
        "organisation": [_local(base, s) for s in orgs],
        "organisations": ["/organisations"] + [f"/organisations?page={p}" for p in range(2, 6)],
        "members": ["/members", "/members?member=all", "/members?member=former"],
        "alliance": FIXED["alliance"],
        "sdg-goal": [f"/sdg/{g}" for g in range(1, 18)][:n],
        "sdg-target": [f"/sdg/{t}" for t in spread(targets, n)],
        "country": [_local(base, s) for s in countries],
        **{k: v for k, v in FIXED.items() if k not in ("home", "alliance")},
        "not-found": [f"/id/dpg/no-such-thing-{i}" for i in range(n)],
    }


def measure(client, paths: list[str], runs: int, expected: int) -> dict:
    def get(path: str) -> float:
        t = time.perf_counter()
        status = client.get(path, headers={"Accept": "text/html"}).status_code
        ms = (time.perf_counter() - t) * 1000
        if status != expected:  # the time of an error page is not the page's time
            sys.exit(f"{path} answered {status}, not {expected}: nothing was written")
        return ms

    cold = [get(p) for p in paths]
    warm = [get(paths[i % len(paths)]) for i in range(max(runs, len(paths)))]
    return {
        "paths": len(paths),
        "cold_p50_ms": round(statistics.median(cold), 2),
        "cold_p95_ms": round(pct(cold, 0.95), 2),
        "warm_p50_ms": round(statistics.median(warm), 2),
        "warm_p95_ms": round(pct(warm, 0.95), 2),
        "warm_runs": len(warm),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="a built store (default: build one from --sources)")
    ap.add_argument("--sources", help="the sources (laid out like ../shared) to build from, "
                    "without --store; default ../shared")
    ap.add_argument("--scale", type=int, default=1, help="what the store holds (label, target)")
    ap.add_argument("--paths", type=int, default=20, help="distinct paths per page kind")
    ap.add_argument("--runs", type=int, default=40, help="warm requests per page kind")
    ap.add_argument("--query-timeout", type=float,
                    help="the server's query time limit in s (default: the setting's; "
                    "bench_scale serves 100x with 300)")
    ap.add_argument("--results", default=str(ROOT / "bench" / "results"),
                    help="where pages[-<N>x].json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    st = stamp()

    from dpgkg.config import Settings
    from dpgkg.store import open_store
    from dpgkg.web import WARM_PATHS, create_app, start_warming

    if args.store:  # the sources: the /validate page's registry help (licence list)
        settings = Settings(store=args.store, sources=args.sources or str(ROOT.parent / "shared"))
    else:
        if not args.sources:
            ap.error("give --store DIR (a built store) or --sources DIR (to build one)")
        from dpgkg.build import build

        settings = Settings(
            store=tempfile.mkdtemp(prefix="dpgkg-bench-pages-"), sources=args.sources
        )
        build(settings)
    if args.query_timeout:
        settings = dataclasses.replace(settings, query_timeout=args.query_timeout)
    store = open_store(settings.store)
    kinds = page_paths(store, settings.base_iri, args.paths)
    app = create_app(settings)
    t = time.perf_counter()
    start_warming(app)
    app.extensions["dpgkg_warm"].wait()
    warm_s = time.perf_counter() - t
    client = app.test_client()
    target = TARGETS_MS.get(args.scale, TARGETS_MS[100])
    rows = []
    for kind, paths in kinds.items():
        if not paths:
            continue
        expected = 404 if kind == "not-found" else 200
        m = measure(client, paths, args.runs, expected)
        rows.append({
            "kind": kind, "path": paths[0], "status": expected,
            # the README's figure: the first request of a page, the stricter of the two
            "p50_ms": m["cold_p50_ms"], "p95_ms": m["cold_p95_ms"], **m,
            "meets_target": max(m["cold_p50_ms"], m["warm_p50_ms"]) <= target,
        })
        print(f"{kind}: cold {m['cold_p50_ms']} ms, warm {m['warm_p50_ms']} ms", flush=True)
    load_after = [round(x, 2) for x in os.getloadavg()]
    result = {
        "stamp": st,
        "benchmark": "pages",
        "scale": f"{args.scale}x",
        "target_p50_ms": target,
        "query_timeout_s": settings.query_timeout,
        "load_average_after": load_after,
        "startup_warming_s": round(warm_s, 2),
        "method": ("Flask test client over the real app (page queries through the query "
                   "pool); after start_warming (" + ", ".join(WARM_PATHS) + "); cold = "
                   "first request of each distinct path, warm = the same paths again; "
                   "p50_ms/p95_ms are the cold figures; meets_target needs both p50s; "
                   "tables kept per store version are shared between kinds (the kinds run "
                   "in the order listed: /dpgs?sdg=N reads goal N's solutions before /sdg/N)"),
        "pages": rows,
    }
    report.save("pages" if args.scale == 1 else f"pages-{args.scale}x", result,
                Path(args.results))
    print(f"\n{args.scale}x, load average {st['load_average']} -> {load_after}\n")
    print(f"| page | first path | paths | cold p50 ms | cold p95 ms | warm p50 ms | "
          f"warm p95 ms | p50 <= {target:g} ms |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['kind']} | `{r['path']}` | {r['paths']} | {r['cold_p50_ms']} | "
              f"{r['cold_p95_ms']} | {r['warm_p50_ms']} | {r['warm_p95_ms']} | "
              f"{'yes' if r['meets_target'] else 'no'} |")


if __name__ == "__main__":
    main()
