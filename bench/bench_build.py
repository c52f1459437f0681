"""Benchmark: full build from ../shared, and from the registry copied N times.

Targets (issue "The graph"): 1x build including inference <= 10 s; 20x (about
half a million triples) <= 3 min and <= 2 GB peak memory. The peer is owlrl:
its RDFS closure over the same 1x graph, timed in the same run, so the report
gives our in-store inference as a ratio against it.

    python bench/bench_build.py [--copies 20] [--runs 3] [--no-owlrl]
    python bench/bench_build.py --copies 1 --runs 1 --no-owlrl --results /tmp/build
                                   # the quickest run that works

Writes bench/results/build.json (with its stamp: commit, date, machine, command) and
build.md (bench/report.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"


def make_copies(src: Path, dst: Path, copies: int) -> Path:
    """A sources dir like ../shared whose registry holds every record `copies` times."""
    shutil.copytree(src, dst, symlinks=True)
    reg = dst / "registry"
    for folder in ("nominees", "archive", "excluded-nominees", "digitalpublicgoods"):
        d = reg / folder
        d.chmod(0o755)
        originals = [f for f in d.glob("*.json")]
        for n in range(1, copies):
            for f in originals:
                text = f.read_text()
                if folder != "digitalpublicgoods" and text.lstrip().startswith("{"):
                    record = json.loads(text)
                    record["name"] = f"{record.get('name', '')} (copy {n})"
                    text = json.dumps(record)
                (d / f"{f.stem}-copy{n}.json").write_text(text)
    return dst


def build_once(sources: Path, store: Path, *flags: str) -> dict:
    """Run `dpgkg build` in a child process; its wall time, summary and peak RSS."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(sources), str(store), *flags],
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    peak_kb = int(out.stderr.rsplit("RSS_KB=", 1)[1].split()[0])
    return {"wall_s": wall, "peak_rss_mb": peak_kb / 1024, "summary": json.loads(out.stdout)}


# The build in a child that reports its own peak RSS (children's ru_maxrss is a max
# over all children, which would mix runs).
CHILD = """
import resource, sys
from dpgkg.cli import main
try:
    main(["build", "-q", "--sources", sys.argv[1], "--store", sys.argv[2], *sys.argv[3:]],
         standalone_mode=False)
finally:
    sys.stderr.write("RSS_KB=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def owlrl_closure_seconds(store: Path) -> tuple[float, int]:
    """owlrl's RDFS closure over the built graph's asserted triples (the peer)."""
    code = f"""
import time, rdflib, owlrl, pyoxigraph as ox
from dpgkg.store import open_store
from dpgkg.build import ontology_files
s = open_store({str(store)!r}).oxigraph()
g = rdflib.Graph()
nt = ox.serialize(s.query("CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
    "FILTER(!CONTAINS(STR(?g), '/graph/inferred')) }}"), format=ox.RdfFormat.N_TRIPLES)
g.parse(data=nt.decode(), format="nt")
for f in ontology_files(): g.parse(f)
n = len(g); t0 = time.perf_counter()
owlrl.DeductiveClosure(owlrl.RDFS_Semantics).expand(g)
print(time.perf_counter() - t0, n)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-owlrl", action="store_true")
    ap.add_argument("--results", default=str(RESULTS),
                    help="where build.json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    import report
    from stamp import stamp

    st = stamp()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        core = [build_once(SHARED, tmp / "store-1x-core", "--no-validate", "--no-dumps")
                for _ in range(args.runs)]
        rows["1x core"] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in core),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in core),
            "triples": core[-1]["summary"]["triples"],
            "steps_s": core[-1]["summary"]["seconds"],
        }
        one = [build_once(SHARED, tmp / "store-1x") for _ in range(args.runs)]
        rows["1x full"] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in one),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in one),
            "triples": one[-1]["summary"]["triples"],
            "steps_s": one[-1]["summary"]["seconds"],
        }
        if not args.no_owlrl:
            secs, _n = owlrl_closure_seconds(tmp / "store-1x")
            ours = one[-1]["summary"]["seconds"]["reason"]
            rows["1x full"]["owlrl_rdfs_closure_s"] = secs
            rows["1x full"]["inference_speedup_vs_owlrl"] = secs / ours
        if args.copies > 1:
            src = make_copies(SHARED, tmp / "sources-nx", args.copies)
            # The graph issue's target is harvest + inference + store ("core"); the
            # full build also validates every record and writes the dumps.
            for label, flags in ((f"{args.copies}x core", ("--no-validate", "--no-dumps")),
                                 (f"{args.copies}x full", ())):
                r = build_once(src, tmp / f"store-{label.replace(' ', '-')}", *flags)
                rows[label] = {
                    "wall_s_median": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                    "triples": r["summary"]["triples"], "steps_s": r["summary"]["seconds"],
                }
    report.save("build", {"stamp": st, "rows": rows}, Path(args.results))
    print((Path(args.results) / "build.md").read_text())


if __name__ == "__main__":
    main()
