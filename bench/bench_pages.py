"""Server time of every page kind of the site, p50 and p95 (target: p50 <= 30 ms at 1x).

    python bench/bench_pages.py --store var/store            # a built store
    python bench/bench_pages.py --sources ../shared          # build one first (1x)

Each page is requested through the real app (create_app, the Flask test client: the time
the server spends, without the network) once to warm it, then `--runs` times. Writes
bench/results/pages.json (with commit, date, machine and command) and prints a Markdown
table.
"""

from __future__ import annotations

import argparse
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

TARGET_MS = 30.0
PAGES = {
    "home": "/",
    "browse": "/dpgs",
    "browse-filtered": "/dpgs?sdg=3&type=Software",
    "search": "/search?q=health",
    "dpg": "/id/dpg/kobotoolbox",
    "nominee": None,
    "raw": "/id/dpg/kobotoolbox?view=all",
    "organisation": "/id/org/unicef",
    "organisations": "/organisations",
    "members": "/members",
    "alliance": "/id/org/digital-public-goods-alliance",
    "sdg-goal": "/sdg/3",
    "sdg-target": "/sdg/3.1",
    "country": "/id/country/KE",
    "query": "/query",
    "validate": "/validate",
    "changes-html": "/changes",
    "dumps-html": "/dumps/",
    "not-found": "/id/dpg/no-such-thing",
}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="a built store (default: build one from --sources)")
    ap.add_argument("--sources", help="the sources to build from (laid out like ../shared)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--results", default=str(ROOT / "bench" / "results"),
                    help="where pages.json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    st = stamp()

    from dpgkg.config import Settings
    from dpgkg.store import open_store
    from dpgkg.web import create_app

    if args.store:
        settings = Settings(store=args.store)
    else:
        if not args.sources:
            ap.error("give --store DIR (a built store) or --sources DIR (to build one)")
        from dpgkg.build import build

        settings = Settings(
            store=tempfile.mkdtemp(prefix="dpgkg-bench-pages-"), sources=args.sources
        )
        build(settings)
    nominee = open_store(settings.store).select(
        "PREFIX dpg: <https://w3id.org/dpgkg/ontology#> SELECT ?s WHERE { ?s a dpg:Nominee } "
        "ORDER BY ?s LIMIT 1"
    )
    pages = dict(PAGES)
    pages["nominee"] = ("/id/" + nominee[0]["s"].value.split("/id/", 1)[1]) if nominee else None
    app = create_app(settings)
    client = app.test_client()
    rows = []
    for kind, path in pages.items():
        if path is None:
            continue
        status = client.get(path, headers={"Accept": "text/html"}).status_code  # warm
        expected = 404 if kind == "not-found" else 200
        if status != expected:  # the time of an error page is not the page's time
            sys.exit(f"{kind} {path} answered {status}, not {expected}: nothing was written")
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            client.get(path, headers={"Accept": "text/html"})
            times.append((time.perf_counter() - t) * 1000)
        rows.append(
            {
                "kind": kind,
                "path": path,
                "status": status,
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(pct(times, 0.95), 2),
                "runs": args.runs,
                "meets_target": statistics.median(times) <= TARGET_MS,
            }
        )
    result = {
        "stamp": st,
        "benchmark": "pages",
        "scale": "1x",
        "target_p50_ms": TARGET_MS,
        "pages": rows,
    }
    report.save("pages", result, Path(args.results))
    print(f"| page | path | status | p50 ms | p95 ms | p50 <= {TARGET_MS:g} ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['kind']} | `{r['path']}` | {r['status']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{'yes' if r['meets_target'] else 'no'} |"
        )


if __name__ == "__main__":
    main()
