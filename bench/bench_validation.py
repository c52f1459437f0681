"""Benchmark: validating records against the DPG Standard shapes.

Targets (issue "SHACL: the DPG Standard as shapes, and dpgkg validate"): p50 <= 100 ms
for one record with its screening answers (schema check + conversion + pySHACL, the
shapes and reference data already loaded, as in a server or a CLI run over several
files); the whole registry (755 records) <= 10 s. The peer is a plain
``pyshacl.validate`` call per record with the shapes and reference graphs passed as
files' graphs each time (no cache, the reference graphs mixed in by pySHACL): what
the validation costs without this module's caching and cutting down.

    python bench/bench_validation.py [--records 60] [--runs 3] [--no-peer]

Writes bench/results/validation.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def screened_records(n: int) -> list[tuple[str, dict, dict]]:
    """(path, nominee record, screening answers) of the first n screened DPGs."""
    from dpgkg.sources.registry import read_registry

    files, _ = read_registry(str(SHARED / "registry"))
    out = [(rf.path, rf.record, rf.screening) for rf in files
           if rf.folder == "nominees" and rf.screening is not None]
    return out[:n]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def bench_single(records, runs: int) -> dict:
    from dpgkg.config import Settings
    from dpgkg.validation import shared_engine, validate_record

    settings = Settings(sources=str(SHARED))
    t0 = time.perf_counter()
    shared_engine(settings).shapes_graph()
    warm = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        for path, record, screening in records:
            t = time.perf_counter()
            o = validate_record(record, screening, record_id=Path(path).stem,
                                source=path, settings=settings)
            times.append(time.perf_counter() - t)
            assert o.error is None
    return {"records": len(records), "runs": runs, "load_s": round(warm, 3),
            "p50_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * pct(times, 0.9), 1),
            "max_ms": round(1000 * max(times), 1)}


def bench_registry(runs: int, workers: int) -> dict:
    from dpgkg.config import Settings
    from dpgkg.validation import shared_engine, validate_registry

    settings = Settings(sources=str(SHARED))
    shared_engine(settings, SHARED / "registry").shapes_graph()
    times, n = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        outs = validate_registry(SHARED / "registry", settings, workers=workers)
        times.append(time.perf_counter() - t)
        n = len(outs)
    return {"records": n, "workers": workers, "runs": runs,
            "median_s": round(statistics.median(times), 2), "min_s": round(min(times), 2)}


def bench_peer(records) -> dict:
    """pyshacl.validate per record, shapes and reference graphs given every time."""
    import pyshacl
    import rdflib

    from dpgkg.config import SHAPES_DIR, Settings
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.registry import record_to_graph
    from dpgkg.iris import IRIs
    from dpgkg.sources.registry import RegistryFile
    from dpgkg.validation import shared_engine

    eng = shared_engine(Settings(sources=str(SHARED)))
    ref = rdflib.Graph()
    for triples in eng._ref.values():
        for t in triples:
            ref.add(t)
    for t in eng._hierarchy:
        ref.add(t)
    ctx = HarvestContext(IRIs())
    times = []
    for path, record, screening in records:
        t = time.perf_counter()
        shapes = rdflib.Graph()
        for p in sorted(SHAPES_DIR.glob("*.ttl")):
            shapes.parse(p, format="turtle")
        rf = RegistryFile("nominees", Path(path).stem, path, record, screening)
        hg, _ = record_to_graph(rf, ctx, eng.licences)
        data = rdflib.Graph()
        for tr in hg.triples:
            from dpgkg.validation.terms import _triple_to_rdflib
            data.add(_triple_to_rdflib(tr))
        pyshacl.validate(data, shacl_graph=shapes, ont_graph=ref, allow_warnings=True)
        times.append(time.perf_counter() - t)
    return {"records": len(records), "p50_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * pct(times, 0.9), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "registry").is_dir():
        sys.exit("../shared is not beside the repository")
    records = screened_records(args.records)
    result = {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "single": bench_single(records, args.runs),
        "registry_2_workers": bench_registry(args.runs, 2),
        "registry_1_worker": bench_registry(1, 1),
    }
    if not args.no_peer:
        result["peer_pyshacl_validate"] = bench_peer(records[:20])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "validation.json").write_text(json.dumps(result, indent=2) + "\n")
    s, r2, r1 = result["single"], result["registry_2_workers"], result["registry_1_worker"]
    print("| measurement | value | target |")
    print("| --- | --- | --- |")
    print(f"| one screened record, p50 ({s['records']} records x {s['runs']}) | "
          f"{s['p50_ms']} ms (p90 {s['p90_ms']} ms) | <= 100 ms |")
    print(f"| shapes + reference data load, once | {s['load_s']} s | |")
    print(f"| whole registry ({r2['records']} records), 2 workers | {r2['median_s']} s "
          f"(min {r2['min_s']} s) | <= 10 s |")
    print(f"| whole registry, 1 worker | {r1['median_s']} s | |")
    if "peer_pyshacl_validate" in result:
        p = result["peer_pyshacl_validate"]
        print(f"| peer: pyshacl.validate per record, no cache (20 records) | "
              f"{p['p50_ms']} ms p50 | |")
    print(f"\nload average during the run: {result['load_average']} on {result['cpus']} CPUs")


if __name__ == "__main__":
    main()
