"""The README's benchmark table and bench/results/*.md, made from the result files.

    python bench/report.py           # rewrite bench/results/*.md and the README's table
    python bench/report.py --check   # exit 1 when they differ from what the result files
                                     # give, or a result file lacks its stamp or was
                                     # measured with uncommitted changes

House rule: every figure in the README comes from a result file that records commit,
date, machine and command (bench/stamp.py). The README's table sits between
``<!-- bench:summary -->`` and ``<!-- /bench:summary -->``; a result file without a stamp
gives no figures there, only the command that would make it again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import result_tables as tables
from stamp import missing

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:summary -->", "<!-- /bench:summary -->"


def load_results(results: Path = RESULTS) -> dict[str, dict]:
    """name -> result, for every results/<name>.json."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(results.glob("*.json"))}


def save(name: str, result: dict, results: Path = RESULTS) -> Path:
    """Write a benchmark's result file and its Markdown table (a bench calls this)."""
    if missing(result):
        raise ValueError(f"{name}: a result needs its stamp ({', '.join(missing(result))})")
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (results / f"{name}.md").write_text(tables.markdown(name, result))
    return path


def _stamp_cell(result: dict) -> str:
    st = result["stamp"]
    m = st["machine"]
    return (f"`{st['commit'][:7]}`{' (dirty)' if st['dirty'] else ''}, {st['date'][:10]}, "
            f"{m['hostname']} ({m['cpus']} CPUs, {m['memory_mb'] / 1024:.0f} GB)")


def summary(results: dict[str, dict], results_dir: Path = RESULTS,
            readme: Path = README) -> str:
    """The README's table: the headline figures of every stamped result file."""
    rel = Path(os.path.relpath(results_dir, readme.parent)).as_posix()
    lines = [("| benchmark | figures (dpgkg; the peer measured in the same run) | measured "
             "| result |"), "|---|---|---|---|"]
    for name, result in results.items():
        link = f"[{name}.md]({rel}/{name}.md)"
        lack = missing(result)
        if lack:
            cmd = tables.COMMANDS.get(name, f"the benchmark that writes {name}.json")
            lines.append(f"| {name} | none shown: the result file has no stamp; re-run "
                         f"`{cmd}` | – | {link} |")
            continue
        head = tables.HEADLINE[name](result) if name in tables.HEADLINE else []
        lines.append(f"| {name} | {'<br>'.join(head) or '–'} | {_stamp_cell(result)} | "
                     f"{link} |")
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """`text` with what stands between the markers replaced by `block`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"the README has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{block}{END}{tail}"


def expected(results_dir: Path = RESULTS, readme: Path = README) -> dict[Path, str]:
    """Every generated file as it should read: results/*.md and the README."""
    results = load_results(results_dir)
    out = {results_dir / f"{name}.md": tables.markdown(name, r) for name, r in results.items()}
    out[readme] = replace_block(readme.read_text(), summary(results, results_dir, readme))
    return out


def _dirty(result: dict) -> bool:
    rows = result.get("scales")
    return bool(result["stamp"]["dirty"]) or (isinstance(rows, dict) and any(
        r["stamp"]["dirty"] for r in rows.values()))


def check(results_dir: Path = RESULTS, readme: Path = README) -> list[str]:
    """What is wrong: result files without a stamp, generated files that differ."""
    problems = []
    for name, result in load_results(results_dir).items():
        lack = missing(result)
        if lack:
            problems.append(f"{results_dir / name}.json has no stamp ({', '.join(lack)} "
                            f"missing): re-run `{tables.COMMANDS.get(name, '?')}`")
        elif _dirty(result):
            problems.append(f"{results_dir / name}.json was measured with uncommitted "
                            f"changes, so its commit does not say what ran: re-run it from "
                            f"a clean checkout")
    try:
        want = expected(results_dir, readme)
    except ValueError as exc:
        return [*problems, str(exc)]
    for path, text in want.items():
        have = path.read_text() if path.exists() else None
        if have != text:
            what = "the benchmark table" if path == readme else "its table"
            problems.append(f"{path} differs from what the result files give ({what}): "
                            f"run python bench/report.py")
    return problems


def write(results_dir: Path = RESULTS, readme: Path = README) -> list[Path]:
    changed = []
    for path, text in expected(results_dir, readme).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 when anything is out of date or unstamped")
    ap.add_argument("--results", default=str(RESULTS), help=argparse.SUPPRESS)
    ap.add_argument("--readme", default=str(README), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    results_dir, readme = Path(args.results), Path(args.readme)
    if args.check:
        problems = check(results_dir, readme)
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for path in write(results_dir, readme):
        print(f"wrote {path}")
    unstamped = [n for n, r in load_results(results_dir).items() if missing(r)]
    if unstamped:
        print("no stamp, so no figures in the README: " + ", ".join(unstamped), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
