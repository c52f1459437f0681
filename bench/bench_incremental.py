"""Benchmark: one changed record rebuilt and swapped in, against a full build.

Targets (issue 15): one changed record, rebuild and swap <= 3 s at 1x and <= 60 s at
100x; a full build <= 15 s at 1x and <= 5 min at 100x, validation and dumps included.
`--copies N` runs it on the registry copied N times (`bench_build.make_copies`).

The peer is the full build itself: the changed sources of the last run are built again
with `--full` (build cache ignored, written whole) into a copy of the store taken before
that run, so both start from the same version served (graphs made unchanged keep the
time it gives them), and the two versions' dumps are compared byte for byte (with the
version id and the build time, which are per build, replaced).

    python bench/bench_incremental.py [--sources ../shared] [--runs 3] [--no-history]
    python bench/bench_incremental.py --copies 100 --runs 2 --no-peer

Each build runs `dpgkg build` in a child process (bench_build.build_once): wall time
(process start, imports and all) and the build's own step timings. The load average is
in the stamp (before) and after: the machine may be shared. Writes
bench/results/incremental.json (incremental-<N>x.json with --copies N; with its stamp:
commit, date, machine, command) and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_build import add_copies, build_once
from comparable import DUMPS, served_dumps

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
BUNDLE = Path("registry-history") / "publicgoods-candidates.bundle"
TARGETS = {1: {"one_record": 3.0, "full": 15.0}, 100: {"one_record": 60.0, "full": 300.0}}


def writable_copy(src: Path, dst: Path) -> Path:
    """A copy of the sources whose registry can be edited (the history is read in place)."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("registry-history"))
    for p in (dst / "registry").rglob("*"):
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def change_record(sources: Path, n: int) -> str:
    """Edit the description of the n-th nominee record (sorted by name); its key."""
    files = sorted((sources / "registry" / "nominees").glob("*.json"))
    for path in files[n:]:
        try:
            record = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            record["description"] = f"{record.get('description') or ''} (edited {n})"
            path.write_text(json.dumps(record, indent=2))
            return f"nominees/{path.stem}"
    raise SystemExit("no nominee record to change")


def row(r: dict) -> dict:
    s = r["summary"]
    return {"wall_s": round(r["wall_s"], 3), "build_s": s["seconds"]["total"],
            "seconds": s["seconds"], "peak_rss_mb": round(r["peak_rss_mb"], 1),
            "validation_cache": s.get("validation", {}).get("cache"),
            "store_delta": s.get("store_delta"), "changes": s.get("changes")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, default=SHARED)
    ap.add_argument("--runs", type=int, default=3, help="incremental builds, one record each")
    ap.add_argument("--no-history", action="store_true")
    ap.add_argument("--copies", type=int, default=1, help="the registry copied N times")
    ap.add_argument("--no-peer", action="store_true",
                    help="no full build of the last run's sources to compare with")
    ap.add_argument("--results", type=Path, default=RESULTS,
                    help="where incremental.json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    import report
    from stamp import stamp

    st = stamp()
    tmp = Path(tempfile.mkdtemp(prefix="dpgkg-bench-incremental-"))
    try:
        sources = writable_copy(args.sources, tmp / "sources")
        if args.copies > 1:
            add_copies(sources, args.copies)
        flags = [] if args.no_history or not (args.sources / BUNDLE).exists() else [
            "--history", str(args.sources / BUNDLE)]
        store = tmp / "store"
        full = row(build_once(sources, store, "--full", *flags))
        print(f"full build: {full['wall_s']:.2f} s", file=sys.stderr)
        incremental = []
        scratch = tmp / "scratch"
        for n in range(args.runs):
            key = change_record(sources, n)
            # the peer starts from the version the last run does
            if n == args.runs - 1 and not args.no_peer:
                shutil.copytree(store, scratch, symlinks=True)
            r = row(build_once(sources, store, *flags))
            r["changed"] = key
            incremental.append(r)
            print(f"one record changed ({key}): {r['wall_s']:.2f} s", file=sys.stderr)
        peer = identical = None
        if not args.no_peer:
            peer = row(build_once(sources, scratch, "--full", *flags))
            ours, theirs = served_dumps(store), served_dumps(scratch)
            identical = {name: ours[name] == theirs[name] for name in DUMPS}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    walls = [r["wall_s"] for r in incremental]
    result = {
        "stamp": st,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "sources": str(args.sources),
        "build_flags": flags,
        "copies": args.copies,
        "targets_s": TARGETS.get(args.copies, {"one_record": None, "full": None}),
        "full": full,
        "incremental": incremental,
        "incremental_median_wall_s": round(statistics.median(walls), 3),
        "full_from_scratch_after_changes": peer,
        "peer": "full build (`--full`) of the last run's sources, from a copy of its store",
        "dumps_identical_to_full_build": identical,
    }
    name = "incremental" if args.copies == 1 else f"incremental-{args.copies}x"
    report.save(name, result, args.results)
    print((args.results / f"{name}.md").read_text())


if __name__ == "__main__":
    main()
