"""Benchmark: validating records against the DPG Standard shapes.

Targets (issue "SHACL: the DPG Standard as shapes, and dpgkg validate"): p50 <= 100 ms
for one record with its screening answers (schema check + conversion + pySHACL, the
shapes and reference data already loaded, as in a server or a CLI run over several
files); the whole registry (755 records) <= 10 s. The peer is a plain
``pyshacl.validate`` call per record with the shapes and reference graphs passed as
files' graphs each time (no cache, the whole reference graphs in the data graph): what
the validation costs without this module's caching and cutting down. The peer runs in
a process of its own, where dpgkg's pySHACL patches are never applied (it checks that
they were not), and its answers are compared to ours before either is timed: the same
validation results (focus node, path, severity, constraint component, value) for every
record, or the run stops.

    python bench/bench_validation.py [--records 60] [--runs 3] [--no-peer]
    python bench/bench_validation.py --records 3 --runs 1 --peer-records 3 \
        --results /tmp/validation     # the quickest run that works

Writes bench/results/validation.json (with its stamp: commit, date, machine, command)
and validation.md (bench/report.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


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


def load_engine() -> float:
    """Seconds to load the shapes and reference data (once per process)."""
    from dpgkg.config import Settings
    from dpgkg.validation import shared_engine

    t0 = time.perf_counter()
    shared_engine(Settings(sources=str(SHARED))).shapes_graph()
    return time.perf_counter() - t0


def bench_single(records, runs: int, warm: float) -> dict:
    from dpgkg.config import Settings
    from dpgkg.validation import validate_record

    settings = Settings(sources=str(SHARED))
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


def report_results(report) -> list:
    """A SHACL report graph's results as comparable rows (blank nodes as "_:b"; every
    row as a sorted list, for JSON)."""
    import rdflib

    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")

    def text(t) -> str | None:
        if t is None:
            return None
        return "_:b" if isinstance(t, rdflib.BNode) else t.n3()

    rows = Counter()
    for r in report.objects(None, sh.result):
        rows[(text(report.value(r, sh.focusNode)), text(report.value(r, sh.resultPath)),
              text(report.value(r, sh.resultSeverity)),
              text(report.value(r, sh.sourceConstraintComponent)),
              text(report.value(r, sh.value)))] += 1
    return sorted([list(k), n] for k, n in rows.items())


def our_answers(records) -> dict[str, list]:
    """Our validation results per record (untimed: what the timings are of)."""
    from dpgkg.config import Settings
    from dpgkg.validation import validate_record

    settings = Settings(sources=str(SHARED))
    out = {}
    for path, record, screening in records:
        o = validate_record(record, screening, record_id=Path(path).stem, source=path,
                            settings=settings)
        out[path] = report_results(o.report)
    return out


def run_peer(n: int, mode: str) -> dict:
    """The peer in its own process (`--peer-process`): plain pySHACL, never patched."""
    cmd = [sys.executable, __file__, "--peer-process", mode, "--peer-records", str(n)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        sys.exit(f"the peer process failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(ours: dict[str, list], theirs: dict[str, list]) -> None:
    """Stop the run when the peer's results for a record differ from ours."""
    differ = [p for p in theirs if ours.get(p) != theirs[p]]
    if differ:
        p = differ[0]
        a = {tuple(k): n for k, n in ours.get(p, [])}
        b = {tuple(k): n for k, n in theirs[p]}
        only_a = [k for k in a if a[k] != b.get(k)][:3]
        only_b = [k for k in b if b[k] != a.get(k)][:3]
        sys.exit(f"Answers differ; nothing was timed or written: plain pySHACL validates "
                 f"{len(differ)} of {len(theirs)} records otherwise than dpgkg, e.g. {p}:\n"
                 + "".join(f"  only dpgkg: {k}\n" for k in only_a)
                 + "".join(f"  only peer:  {k}\n" for k in only_b))


def peer_process(n: int, mode: str) -> None:
    """In the peer's own process: its answers ("answers") or its timings ("times"),
    as one JSON line on stdout."""
    import pyshacl.shape as shape_module
    from pyshacl.constraints.constraint_component import ConstraintComponent

    original = ConstraintComponent.make_v_result_description
    records = screened_records(n)
    result = bench_peer(records, answers=(mode == "answers"))
    params = getattr(shape_module, "CONSTRAINT_PARAMS", (None, None))[0]
    if type(params).__name__ == "_ParamSet" or \
            ConstraintComponent.make_v_result_description is not original:
        sys.exit("the peer's pySHACL was patched: its timing would not be plain pySHACL's")
    print(json.dumps(result))


def bench_peer(records, answers: bool = False) -> dict:
    """pyshacl.validate per record, shapes and reference graphs given every time (call
    it in a process of its own: see run_peer)."""
    import pyshacl
    import rdflib

    from dpgkg.config import SHAPES_DIR, Settings
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.registry import record_to_graph
    from dpgkg.iris import IRIs
    from dpgkg.sources.registry import RegistryFile
    from dpgkg.validation import shared_engine
    from dpgkg.validation.terms import _triple_to_rdflib

    eng = shared_engine(Settings(sources=str(SHARED)))
    ref = rdflib.Graph()
    for triples in eng._ref.values():
        for t in triples:
            ref.add(t)
    for t in eng._hierarchy:
        ref.add(t)
    ctx = HarvestContext(IRIs())
    times, found = [], {}
    for path, record, screening in records:
        t = time.perf_counter()
        shapes = rdflib.Graph()
        for p in sorted(SHAPES_DIR.glob("*.ttl")):
            shapes.parse(p, format="turtle")
        rf = RegistryFile("nominees", Path(path).stem, path, record, screening)
        hg, _ = record_to_graph(rf, ctx, eng.licences)
        data = rdflib.Graph()
        for tr in hg.triples:
            data.add(_triple_to_rdflib(tr))
        # The whole reference graphs in the data graph: pySHACL's ont_graph would mix in
        # only their class and property definitions, not the SDG goals and licences the
        # record points at, and then fails every sh:class on them (answers that differ).
        data += ref
        _conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes,
                                                    allow_warnings=True)
        times.append(time.perf_counter() - t)
        if answers:
            found[path] = report_results(report)
    if answers:
        return found
    return {"records": len(records), "p50_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * pct(times, 0.9), 1), "own_process": True,
            "answers_compared": True}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--peer-records", type=int, default=20)
    ap.add_argument("--results", default=str(RESULTS),
                    help="where validation.json and .md go (a quick try: a temporary dir)")
    ap.add_argument("--peer-process", choices=("answers", "times"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not (SHARED / "registry").is_dir():
        sys.exit("../shared is not beside the repository")
    if args.peer_process:
        peer_process(args.peer_records, args.peer_process)
        return
    import report
    from stamp import stamp

    records = screened_records(args.records)
    warm = load_engine()
    if not args.no_peer:  # the same answers first, or the timings compare different work
        compare(our_answers(screened_records(args.peer_records)),
                run_peer(args.peer_records, "answers"))
    result = {
        "stamp": stamp(),
        "cpus": os.cpu_count(),
        "single": bench_single(records, args.runs, warm),
        "registry_2_workers": bench_registry(args.runs, 2),
        "registry_1_worker": bench_registry(1, 1),
    }
    if not args.no_peer:
        result["peer_pyshacl_validate"] = run_peer(args.peer_records, "times")
    report.save("validation", result, Path(args.results))
    print((Path(args.results) / "validation.md").read_text())


if __name__ == "__main__":
    main()
