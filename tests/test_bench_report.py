"""bench/: the stamp, the answer comparison and the report generator, on small synthetic
result files written to a temporary directory (tests of that code, not timings)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import answers
import report
import stamp

README = """# A project

Some text.

<!-- bench:summary -->
| stale | table |
<!-- /bench:summary -->

More text after.
"""


def sparql_result(st: dict | None, dpgkg_gm: float = 3.5) -> dict:
    queries = {"ex1": 2.0, "ask": 1.0}
    out = {
        "triples": 100, "rounds": 1, "workers": 2,
        "answers_compared": {"ex1": 3, "ask": 1},
        "p50_ms": {"dpgkg": queries, "oxigraph-server": queries, "rdflib-endpoint": queries},
        "geomean_p50_ms": {"dpgkg": dpgkg_gm, "oxigraph-server": 4.25,
                           "rdflib-endpoint": 40.0},
        "ratio_vs_oxigraph_server": 1.2, "ratio_vs_rdflib_endpoint": 11.4,
        "group_by_rps_8_clients": {"dpgkg": 50.0, "oxigraph-server": 40.0,
                                   "rdflib-endpoint": 0.5},
        "throughput_ratio_vs_oxigraph_server": 1.25, "dpg_jsonld_page_p50_ms": 3.0,
    }
    if st is not None:
        out["stamp"] = st
    return out


VALIDATION = {"single": {"records": 3, "runs": 1, "load_s": 1.0, "p50_ms": 47.6,
                         "p90_ms": 70.0, "max_ms": 80.0},
              "registry_2_workers": {"records": 755, "workers": 2, "runs": 1,
                                     "median_s": 8.73, "min_s": 8.73},
              "registry_1_worker": {"records": 755, "workers": 1, "runs": 1,
                                    "median_s": 9.99, "min_s": 9.99}}


@pytest.fixture
def bench_dir(tmp_path: Path) -> tuple[Path, Path]:
    results = tmp_path / "bench" / "results"
    results.mkdir(parents=True)
    readme = tmp_path / "README.md"
    readme.write_text(README)
    return results, readme


def args(results: Path, readme: Path, *more: str) -> list[str]:
    return ["--results", str(results), "--readme", str(readme), *more]


def test_stamp_records_commit_date_machine_load_and_command(monkeypatch):
    for k in [k for k in os.environ if k.startswith("DPGKG_")]:
        monkeypatch.delenv(k)
    st = stamp.stamp(["bench/bench_sparql.py", "--rounds", "1"])
    assert len(st["commit"]) == 40 and isinstance(st["dirty"], bool)
    assert st["date"].endswith("+00:00")
    assert st["machine"]["cpus"] >= 1 and st["machine"]["memory_mb"] > 0
    assert st["machine"]["hostname"] and st["machine"]["uname"]
    assert len(st["load_average"]) == 3
    assert st["command"] == ["bench/bench_sparql.py", "--rounds", "1"]
    assert stamp.command_line(st) == "python bench/bench_sparql.py --rounds 1"
    assert stamp.missing({"stamp": st}) == []
    # the settings it ran with are part of the command; credentials are not recorded
    monkeypatch.setenv("DPGKG_LOAD_SECONDS", "3")
    monkeypatch.setenv("DPGKG_STORE_PASSWORD", "secret")
    st = stamp.stamp(["tests/test_load.py"])
    assert st["environment"] == {"DPGKG_LOAD_SECONDS": "3"}
    assert stamp.command_line(st) == "DPGKG_LOAD_SECONDS=3 python tests/test_load.py"


def test_missing_names_what_a_stamp_lacks():
    st = stamp.stamp(["x.py"])
    assert stamp.missing({}) == ["stamp"]
    assert stamp.missing({"commit": "abc", "date": "2026-01-01"}) == ["stamp"]  # old style
    assert stamp.missing({"stamp": {**st, "commit": None}}) == ["commit"]
    del st["machine"]["memory_mb"]
    assert stamp.missing({"stamp": st}) == ["machine.memory_mb"]
    # a file that keeps earlier runs' rows stamps each row
    full = stamp.stamp(["x.py"])
    assert stamp.missing({"stamp": full, "scales": {"1": {"stamp": full}, "10": {}}}) \
        == ["scales.10.stamp"]


def clean_stamp(argv: list[str]) -> dict:
    return {**stamp.stamp(argv), "dirty": False}


def test_report_writes_the_readme_table_and_the_tables_from_the_result_files(bench_dir):
    results, readme = bench_dir
    st = clean_stamp(["bench/bench_sparql.py"])
    (results / "sparql.json").write_text(json.dumps(sparql_result(st)))
    assert report.main(args(results, readme)) == 0
    text = readme.read_text()
    block = text.split(report.BEGIN)[1].split(report.END)[0]
    assert "| stale | table |" not in text
    assert text.startswith("# A project") and text.endswith("More text after.\n")
    assert "dpgkg 3.50; oxigraph-server 4.25; rdflib-endpoint 40.00" in block
    assert st["commit"][:7] in block and st["date"][:10] in block
    assert "(bench/results/sparql.md)" in block
    md = (results / "sparql.md").read_text()
    assert st["commit"][:12] in md and "python bench/bench_sparql.py" in md
    assert "| **geometric mean** | **3.50** | **4.25** | **40.00** |" in md
    assert "compared to dpgkg's before timing" in md
    assert report.main(args(results, readme, "--check")) == 0


def test_check_fails_when_the_readme_differs_from_the_result_files(bench_dir, capsys):
    results, readme = bench_dir
    st = clean_stamp(["bench/bench_sparql.py"])
    (results / "sparql.json").write_text(json.dumps(sparql_result(st)))
    report.main(args(results, readme))
    # a figure typed into the README by hand
    readme.write_text(readme.read_text().replace("dpgkg 3.50", "dpgkg 2.10"))
    assert report.main(args(results, readme, "--check")) == 1
    assert "README.md differs" in capsys.readouterr().err
    report.main(args(results, readme))
    assert report.main(args(results, readme, "--check")) == 0
    # a new result file and a README not regenerated
    (results / "sparql.json").write_text(json.dumps(sparql_result(st, dpgkg_gm=2.75)))
    assert report.main(args(results, readme, "--check")) == 1
    # a result table edited by hand
    report.main(args(results, readme))
    md = results / "sparql.md"
    md.write_text(md.read_text().replace("**2.75**", "**1.00**"))
    assert report.main(args(results, readme, "--check")) == 1


def test_a_result_file_without_a_stamp_gives_no_figures_and_fails_the_check(bench_dir,
                                                                            capsys):
    results, readme = bench_dir
    (results / "validation.json").write_text(json.dumps(VALIDATION))
    assert report.main(args(results, readme)) == 0
    block = readme.read_text().split(report.BEGIN)[1].split(report.END)[0]
    assert "47.6" not in block and "8.73" not in block
    assert "no stamp" in block and "python bench/bench_validation.py" in block
    assert "**No stamp**" in (results / "validation.md").read_text()
    assert report.main(args(results, readme, "--check")) == 1
    assert "validation.json has no stamp" in capsys.readouterr().err
    # stamped, it passes
    (results / "validation.json").write_text(json.dumps(
        {**VALIDATION, "stamp": clean_stamp(["bench/bench_validation.py"])}))
    report.main(args(results, readme))
    assert report.main(args(results, readme, "--check")) == 0
    assert "47.6 ms" in readme.read_text()


def test_a_result_measured_with_uncommitted_changes_fails_the_check(bench_dir, capsys):
    results, readme = bench_dir
    st = {**stamp.stamp(["bench/bench_sparql.py"]), "dirty": True}
    (results / "sparql.json").write_text(json.dumps(sparql_result(st)))
    report.main(args(results, readme))
    assert f"`{st['commit'][:7]}` (dirty)" in readme.read_text()
    assert report.main(args(results, readme, "--check")) == 1
    assert "uncommitted changes" in capsys.readouterr().err


def test_check_fails_without_the_markers(bench_dir, capsys):
    results, readme = bench_dir
    readme.write_text("# A project\n")
    assert report.main(args(results, readme, "--check")) == 1
    assert "bench:summary" in capsys.readouterr().err


def test_save_refuses_a_result_without_its_stamp(tmp_path):
    with pytest.raises(ValueError, match="stamp"):
        report.save("sparql", sparql_result(None), tmp_path)


# answers ---------------------------------------------------------------------------------

JSON = "application/sparql-results+json"
XSD = "http://www.w3.org/2001/XMLSchema#"


def results(*rows: dict) -> bytes:
    return json.dumps({"head": {"vars": ["x", "n"]},
                       "results": {"bindings": list(rows)}}).encode()


def lit(value: str, datatype: str | None = None, lang: str | None = None) -> dict:
    t = {"type": "literal", "value": value}
    if datatype:
        t["datatype"] = datatype
    if lang:
        t["xml:lang"] = lang
    return t


def test_answers_equal_up_to_order_number_forms_and_language_case():
    a = results({"x": {"type": "uri", "value": "http://e/a"}, "n": lit("1000.0", XSD + "double")},
                {"x": lit("Santé", lang="fr-FR"), "n": lit("7", XSD + "integer")})
    b = results({"x": lit("Santé", lang="fr-fr"), "n": lit("7", XSD + "integer")},
                {"x": {"type": "uri", "value": "http://e/a"}, "n": lit("1.0E3", XSD + "double")})
    assert answers.differences(answers.normalise(a, JSON), answers.normalise(b, JSON)) is None
    # a simple literal and an xsd:string are one
    assert answers.normalise(results({"x": lit("a")}), JSON) == \
        answers.normalise(results({"x": lit("a", XSD + "string")}), JSON)


def test_answers_that_differ_are_named_and_stop_the_run(capsys):
    ours = answers.normalise(results({"x": lit("a")}, {"x": lit("b")}), JSON)
    theirs = answers.normalise(results({"x": lit("a")}, {"x": lit("a")}), JSON)
    diff = answers.differences(ours, theirs)
    assert "2 solutions from dpgkg, 2 from the peer" in diff and "?x=b" in diff
    # a repeated solution is not the same answer as one (multisets)
    assert answers.differences(answers.normalise(results({"x": lit("a")}), JSON), theirs)
    with pytest.raises(SystemExit) as exc:
        answers.require_same({"ex1": {"dpgkg": ours, "peer": theirs}}, "dpgkg")
    assert exc.value.code == 3
    assert "peer answers ex1 otherwise than dpgkg" in capsys.readouterr().err
    answers.require_same({"ex1": {"dpgkg": ours, "peer": ours}}, "dpgkg")  # no exit


def test_group_concat_items_compare_in_any_order():
    q = 'SELECT ?x (GROUP_CONCAT(DISTINCT ?c; separator=", ") AS ?n) { } GROUP BY ?x'
    a = results({"n": lit("Rwanda, Kenya", lang="en")})
    b = results({"n": lit("Kenya, Rwanda")})
    assert answers.normalise(a, JSON, q) == answers.normalise(b, JSON, q)
    assert answers.normalise(a, JSON) != answers.normalise(b, JSON)  # no GROUP_CONCAT
    c = results({"n": lit("Kenya, Uganda")})
    assert answers.normalise(a, JSON, q) != answers.normalise(c, JSON, q)


def test_booleans_and_graphs():
    t = answers.normalise(b'{"head": {}, "boolean": true}', JSON)
    f = answers.normalise(b'{"head": {}, "boolean": false}', JSON)
    assert answers.differences(t, t) is None and answers.differences(t, f)
    nt = "application/n-triples"
    g1 = answers.normalise(b'_:a <http://e/p> "1.0E0"^^<http://www.w3.org/2001/XMLSchema#double> .\n',
                           nt)
    g2 = answers.normalise(b'_:zz <http://e/p> "1"^^<http://www.w3.org/2001/XMLSchema#double> .\n',
                           nt + "; charset=utf-8")
    g3 = answers.normalise(b'<http://e/s> <http://e/p> "1" .\n', nt)
    assert answers.differences(g1, g2) is None
    assert "only in dpgkg's" in answers.differences(g1, g3)
    assert answers.differences(g1, t) == "answer kind boolean where dpgkg gives graph"


def test_the_repositorys_readme_and_tables_are_its_result_files():
    """The README's benchmark table and bench/results/*.md of this checkout are exactly what
    bench/report.py makes of its result files (a figure typed in by hand fails here)."""
    for path, text in report.expected().items():
        assert path.read_text() == text, f"{path} differs: run python bench/report.py"
