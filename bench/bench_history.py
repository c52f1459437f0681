"""Benchmark: harvesting the registry's git history (issue 11, part 2).

Targets: the whole history (5,935 commits, from the bundle) harvested in <= 30 s on
this 2-core machine, and, after one new commit, a rebuild of the history that reads
only that commit in <= 2 s. "Harvest" is what the build does with --history: mirror
(or fetch) the bundle, read the first-parent line through the cache, fold it into
dates and changes and turn them into triples on the record graphs.

    python bench/bench_history.py [--runs 3]

Writes bench/results/history.json (with commit, date, machine, command) and prints it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BUNDLE = SHARED / "registry-history" / "publicgoods-candidates.bundle"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report
from stamp import stamp

from dpgkg.harvest import HarvestContext
from dpgkg.harvest.history import attach_history
from dpgkg.harvest.licences import LicenceIndex
from dpgkg.harvest.registry import harvest_registry
from dpgkg.iris import IRIs
from dpgkg.sources.history import load_history


def history_step(location: str, cache: Path) -> tuple[float, object]:
    """Seconds to read `location`'s history (through `cache`) and put it on the record
    graphs of a registry harvest made beforehand (not timed: the build without history
    does it too)."""
    ctx = HarvestContext(IRIs())
    licences = LicenceIndex.from_registry(str(SHARED / "registry"))
    result = harvest_registry(str(SHARED / "registry"), ctx, licences=licences)
    t0 = time.perf_counter()
    hist = load_history(location, cache)
    attach_history(result, hist, ctx, lambda raw: licences.normalise(raw, record_use=False)[0],
                   lambda key: licences.info(key) is not None)
    return time.perf_counter() - t0, hist


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results", default=str(RESULTS),
                    help="where history.json and .md go (a quick try: a temporary dir)")
    args = ap.parse_args()
    st = stamp()
    full, new, read_full, read_new = [], [], 0, 0
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            # whole history, from the bundle, with an empty cache
            secs, hist = history_step(str(BUNDLE), tmp / "cache")
            full.append(secs)
            read_full = hist.read
            # one new commit on a clone: the rebuild reads only it
            clone = tmp / "clone"
            subprocess.run(["git", "clone", "-q", str(BUNDLE), str(clone)], check=True)
            history_step(str(clone), tmp / "cache2")
            path = clone / "nominees" / "dhis2.json"
            path.write_text(path.read_text().replace('"DPG"', '"nominee"', 1))
            _git(clone, "-c", "user.name=bench", "-c", "user.email=bench@example.org",
                 "commit", "-qam", "bench: one new commit")
            secs, hist = history_step(str(clone), tmp / "cache2")
            new.append(secs)
            read_new = hist.read
    result = {
        "stamp": st,
        "runs": args.runs,
        "whole_history_seconds": {"median": round(statistics.median(full), 3),
                                  "all": [round(x, 3) for x in full], "target": 30,
                                  "commits_read": read_full},
        "one_new_commit_seconds": {"median": round(statistics.median(new), 3),
                                   "all": [round(x, 3) for x in new], "target": 2,
                                   "commits_read": read_new},
        "note": "history only: mirror the bundle (or read the clone), read through the "
                "cache, fold, add the triples to a registry harvest made beforehand",
    }
    report.save("history", result, Path(args.results))
    print((Path(args.results) / "history.md").read_text())


if __name__ == "__main__":
    main()
