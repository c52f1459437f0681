"""Benchmark: full build from ../shared, and from the registry copied N times.

Targets (issue "The graph"): 1x build including inference <= 10 s; 20x (about
half a million triples) <= 3 min and <= 2 GB peak memory. The peer is owlrl, the
reference reasoner the fast one is checked against: `dpgkg build --reasoner owlrl` on
the same 1x sources, in a process of its own, timed in the same run. Its answer is
compared before any figure is written: the triples it infers must be exactly those the
fast reasoner infers (the inferred graphs of the two stores), or the run stops.

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
    return add_copies(dst, copies)


def add_copies(dst: Path, copies: int) -> Path:
    """Copy every record of the sources dir `dst` until it is there `copies` times (new
    ids, names marked "(copy N)")."""
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


INFERRED = "SELECT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } FILTER(STRENDS(STR(?g), '/graph/inferred')) }"


def inferred(store: Path) -> set[tuple[str, str, str]]:
    """The triples a built store's reasoner added (its inferred graph)."""
    from dpgkg.store import open_store

    return {(str(r["s"]), str(r["p"]), str(r["o"])) for r in open_store(str(store)).select(INFERRED)}


def owlrl_peer(sources: Path, ours: Path, tmp: Path) -> dict:
    """`dpgkg build --reasoner owlrl` with the flags of `ours`' build (the peer, in its
    own process); stops the run when it infers otherwise than the fast reasoner."""
    b = build_once(sources, tmp / "store-1x-owlrl", "--no-validate", "--no-dumps",
                   "--reasoner", "owlrl")
    fast, ref = inferred(ours), inferred(tmp / "store-1x-owlrl")
    if fast != ref:
        only_fast, only_ref = sorted(fast - ref)[:3], sorted(ref - fast)[:3]
        sys.exit(f"Answers differ; nothing was written: the fast reasoner infers {len(fast)} "
                 f"triples, owlrl {len(ref)}; {len(fast - ref)} only by the fast one, e.g. "
                 f"{only_fast}; {len(ref - fast)} only by owlrl, e.g. {only_ref}")
    return {"owlrl_reason_s": b["summary"]["seconds"]["reason"], "owlrl_build_s": b["wall_s"],
            "inferred_triples": len(fast), "answers_compared": True}


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
        # --full: each run builds everything (the build cache would otherwise make runs
        # after the first incremental builds: bench_incremental measures those)
        one = [build_once(SHARED, tmp / "store-1x", "--full") for _ in range(args.runs)]
        rows["1x full"] = {
            "wall_s_median": statistics.median(r["wall_s"] for r in one),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in one),
            "triples": one[-1]["summary"]["triples"],
            "steps_s": one[-1]["summary"]["seconds"],
        }
        if not args.no_owlrl:
            peer = owlrl_peer(SHARED, tmp / "store-1x-core", tmp)
            ours = rows["1x core"]["steps_s"]["reason"]
            rows["1x core"]["peer_owlrl"] = peer
            rows["1x core"]["inference_speedup_vs_owlrl"] = peer["owlrl_reason_s"] / ours
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
