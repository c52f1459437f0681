"""dpgkg.validation and `dpgkg validate`: fixtures breaking one indicator at a time,
malformed inputs, the registry against the alliance's decisions, the build's results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from dpgkg.cli import main
from dpgkg.config import Settings
from dpgkg.validation import (
    INDICATORS,
    KEYS,
    SCREENED,
    validate_paths,
    validate_record,
    validate_registry,
    validate_store_records,
)
from tests.conftest import REGISTRY_REPO, SHARED, needs_shared

FIX = Path(__file__).resolve().parent / "fixtures" / "validation"
REGISTRY_FIX = Path(__file__).resolve().parent / "fixtures" / "registry"

pytestmark = needs_shared


def settings() -> Settings:
    return Settings(sources=str(SHARED))


def _expected_failure(name: str) -> str:
    # fail-9a.json -> 9a, fail-2-unknown-id.json -> 2, fail-registry.json -> registry
    return name[len("fail-"):].split(".")[0].split("-")[0]


# --------------------------------------------------------------------------- fixtures

FAIL_FILES = sorted(p.name for p in FIX.glob("fail-*"))
GOOD_FILES = sorted(p.name for p in FIX.glob("good*")) + sorted(p.name for p in FIX.glob("na-*"))


def test_fixtures_are_documented():
    readme = (FIX / "README.md").read_text()
    for p in sorted(FIX.rglob("*")):
        if p.is_file() and p.name != "README.md":
            assert f"`{p.relative_to(FIX)}`" in readme, p


@pytest.fixture(scope="module")
def fixture_outcomes():
    paths = [FIX / n for n in FAIL_FILES + GOOD_FILES]
    return {Path(o.source).name: o for o in validate_paths(paths, settings())}


@pytest.mark.parametrize("name", FAIL_FILES)
def test_each_fixture_fails_exactly_its_indicator(fixture_outcomes, name):
    o = fixture_outcomes[name]
    assert o.error is None
    assert o.failing() == [_expected_failure(name)], o.summary()
    assert not o.conforms
    for m in o.indicators[_expected_failure(name)]["messages"]:
        assert m["severity"] in ("Violation", "Warning") and m["message"]


@pytest.mark.parametrize("name", GOOD_FILES)
def test_good_fixtures_conform(fixture_outcomes, name):
    o = fixture_outcomes[name]
    assert o.conforms, o.summary()
    assert set(o.indicators) == set(KEYS)


def test_statuses(fixture_outcomes):
    good = fixture_outcomes["good-screened.json"].indicators
    assert all(good[k]["status"] == "pass" for k in KEYS)
    nominee_only = fixture_outcomes["good-nominee-only.json"].indicators
    assert all(nominee_only[k]["status"] == "not-answered" for k in SCREENED)
    assert nominee_only["1"]["status"] == nominee_only["2"]["status"] == "pass"
    no = fixture_outcomes["good-conditions-no.json"].indicators
    assert {k for k in INDICATORS if no[k]["status"] == "not-applicable"} == {
        "4", "6", "9a", "9b", "9c"}


def test_validate_record_api_and_report_graph():
    record = json.loads((FIX / "fail-3.json").read_text())
    o = validate_record(record, settings=settings())
    assert o.failing() == ["3"]
    ttl = o.report_text("turtle")
    g = ox.Store()
    g.load(ttl.encode(), format=ox.RdfFormat.TURTLE)
    assert any(True for _ in g.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/ns/shacl#sourceShape"),
        ox.NamedNode("https://w3id.org/dpgkg/shapes#Ownership")))
    doc = json.loads(o.report_text("json-ld"))
    assert isinstance(doc, list) and doc
    # the same record with its screening answers passed separately
    from dpgkg.sources.registry import SCREENING_SECTIONS
    nominee = {k: v for k, v in record.items() if k not in SCREENING_SECTIONS}
    screening = {k: v for k, v in record.items() if k in SCREENING_SECTIONS}
    assert validate_record(nominee, screening, settings=settings()).failing() == ["3"]


def test_schema_errors_filed_under_their_indicator():
    record = json.loads((FIX / "good-screened.json").read_text())
    record["license"] = "Apache-2.0"            # wrong type
    o = validate_record(record, settings=settings())
    assert "2" in o.failing()
    assert any(m.get("source") == "schema" and m["field"] == "license"
               for m in o.indicators["2"]["messages"])
    record = json.loads((FIX / "good-screened.json").read_text())
    record["doNoHarm"]["protectionFromHarassment"]["userInteraction"] = "Maybe"
    o = validate_record(record, settings=settings())
    assert o.failing() == ["9c"]


def test_inputs_of_every_kind():
    outs = validate_paths([REGISTRY_FIX / "legacy-dpgs.json", REGISTRY_REPO,
                           FIX / "good.ttl", FIX / "good.jsonld"], settings())
    sources = [o.source for o in outs]
    assert any(s.endswith("legacy-dpgs.json[0]") for s in sources)
    assert any("/nominees/good-dpg.json" in s for s in sources)
    errors = [o for o in outs if o.error is not None]
    # the registry fixture's unreadable files are reported, the rest still validated
    assert any("bad-json.json" in o.source for o in errors)
    assert sum(1 for o in outs if o.error is None) >= 8
    by = {o.source: o for o in outs}
    good_dpg = next(o for s, o in by.items() if s.endswith("/nominees/good-dpg.json"))
    assert good_dpg.indicators["3"]["status"] != "not-answered"      # screening found


def test_same_solution_in_two_inputs_kept_apart():
    a, b = validate_paths([FIX / "good.ttl", FIX / "fail-structure-email.ttl"], settings())
    assert a.conforms and b.failing() == ["structure"]


# --------------------------------------------------------------------------- CLI

def run(*args):
    return CliRunner().invoke(main, ["validate", "--sources", str(SHARED), *map(str, args)])


def test_cli_exit_codes_and_text():
    r = run(FIX / "good-screened.json")
    assert r.exit_code == 0, r.output
    assert "conforms" in r.output and "Protection from harassment" in r.output
    r = run(FIX / "fail-9b.json")
    assert r.exit_code == 1
    assert "fails 9b" in r.output and "Violation:" in r.output


def test_cli_json_one_object_per_line():
    r = run("--format", "json", FIX / "fail-4.json", FIX / "na-4.json")
    assert r.exit_code == 1
    lines = [json.loads(x) for x in r.output.strip().splitlines()]
    assert [Path(x["source"]).name for x in lines] == ["fail-4.json", "na-4.json"]
    assert lines[0]["indicators"]["4"]["status"] == "fail"
    assert lines[1]["indicators"]["4"]["status"] == "not-applicable"
    r = run("--format", "json", FIX / "good-screened.json")
    single = json.loads(r.output)
    assert single["conforms"] is True and "source" not in single


@pytest.mark.parametrize("fmt", ["turtle", "json-ld"])
def test_cli_report_graph(fmt):
    r = run("--format", fmt, FIX / "fail-7.json")
    assert r.exit_code == 1
    assert "PrivacyCompliant" in r.output


MALFORMED = {
    "not-json.json": "line 3",
    "empty.json": "empty file",
    "wrong-type.json": "JSON object",
    "string.json": "JSON object",
    "name-not-string.json": "name",
    "syntax-error.ttl": "line 4",
    "remote-context.jsonld": "remote @context",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_cli_malformed_input_exit_2(name):
    r = run(FIX / "malformed" / name)
    assert r.exit_code == 2, r.output
    assert name in r.output and MALFORMED[name] in r.output


def test_cli_refuses_large_file(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.write(b'{"name": "Big", "description": "')
        f.write(b"x" * (50 * 1024 * 1024))
        f.write(b'"}')
    r = run(big)
    assert r.exit_code == 2
    assert "limit" in r.output and "big.json" in r.output


def test_cli_missing_path_exit_2(tmp_path):
    r = run(tmp_path / "nope.json")
    assert r.exit_code == 2 and "no such file" in r.output


def test_cli_bad_record_in_directory_does_not_stop_others(tmp_path):
    shutil.copy(FIX / "good-screened.json", tmp_path / "a-good.json")
    shutil.copy(FIX / "malformed" / "not-json.json", tmp_path / "b-bad.json")
    shutil.copy(FIX / "fail-3.json", tmp_path / "c-fail.json")
    r = run("--format", "json", tmp_path)
    assert r.exit_code == 2
    lines = [json.loads(x) for x in r.output.strip().splitlines() if x.startswith("{")]
    by = {Path(x["source"]).name: x for x in lines}
    assert by["a-good.json"]["conforms"] is True
    assert "error" in by["b-bad.json"]
    assert by["c-fail.json"]["indicators"]["3"]["status"] == "fail"


# --------------------------------------------------------------------------- the registry

LICENCE_EXCLUSIONS = ("EUPL-1.1", "BSD-4-Clause", "TAPR-OHL-1.0", "No-Derivate")


@pytest.fixture(scope="module")
def registry_outcomes():
    outs = validate_registry(SHARED / "registry", settings())
    return {o.source: o for o in outs}


def test_registry_is_read_whole(registry_outcomes):
    assert len(registry_outcomes) >= 750
    assert not [o for o in registry_outcomes.values() if o.error is not None]


def test_excluded_for_their_licence_fail_indicator_2(registry_outcomes):
    from dpgkg.sources.registry import read_registry

    files, _ = read_registry(str(SHARED / "registry"))
    excluded = [rf for rf in files if rf.folder == "excluded-nominees"
                and rf.exclusion_reason
                and any(x.lower() in rf.exclusion_reason.lower() for x in LICENCE_EXCLUSIONS)]
    assert len(excluded) == 11
    for rf in excluded:
        o = registry_outcomes[rf.path]
        assert o.indicators["2"]["status"] == "fail", (rf.path, rf.exclusion_reason)


def test_screened_dpgs_pass_1_and_2(registry_outcomes):
    dpgs = _dpgs()
    assert len(dpgs) == 165
    for path in dpgs:
        o = registry_outcomes[path]
        assert o.indicators["1"]["status"] == "pass", (path, o.indicators["1"])
        assert o.indicators["2"]["status"] == "pass", (path, o.indicators["2"])


def test_list_screened_dpgs_failing_other_indicators(registry_outcomes, capsys):
    failing = {}
    for path in _dpgs():
        o = registry_outcomes[path]
        for k in o.failing():
            reasons = [m["message"].split(":")[0] for m in o.indicators[k]["messages"]
                       if m["severity"] == "Violation"]
            failing.setdefault(k, []).append((Path(path).stem, reasons))
    with capsys.disabled():
        print("\nScreened DPGs failing an indicator other than 1 and 2:")
        for k in sorted(failing, key=KEYS.index):
            print(f"  indicator {k}: {len(failing[k])}")
            for name, reasons in failing[k]:
                print(f"    {name}: {'; '.join(dict.fromkeys(reasons))}")
    assert "1" not in failing and "2" not in failing
    assert "registry" not in failing and "structure" not in failing


def _dpgs() -> list[str]:
    out = []
    for p in sorted((SHARED / "registry" / "nominees").glob("*.json")):
        try:
            if json.loads(p.read_text()).get("stage") == "DPG":
                out.append(f"nominees/{p.name}")
        except ValueError:
            continue
    return out


def test_cli_registry_table():
    r = CliRunner().invoke(main, ["validate", "--registry", "--sources", str(SHARED)])
    assert r.exit_code == 1, r.output
    assert "not answered" in r.output and "9c" in r.output
    assert "records" in r.output


# --------------------------------------------------------------------------- the build

class _Writer:
    def __init__(self):
        self.store = ox.Store()

    def add_graph(self, graph, triples):
        self.store.extend([ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples])

    def add_graph_nt(self, graph, data):  # as StoreWriter does
        self.add_graph(graph, ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def test_validate_store_records_answers_which_dpgs_fail():
    """Reference data as the build has it: the SDG goals in the harvested KOS graph."""
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.licences import LicenceIndex
    from dpgkg.harvest.registry import harvest_registry
    from dpgkg.iris import IRIs

    s = settings()
    ctx = HarvestContext(IRIs(s.base_iri))
    licences = LicenceIndex.from_registry(str(SHARED / "registry"))
    harvested = harvest_registry(str(SHARED / "registry"), ctx, licences=licences)
    harvested.graphs.append(licences.licence_graph(ctx))
    from dpgkg.harvest import HarvestedGraph
    from dpgkg.rdf import RDF, SDGO
    kos = SHARED / "sdg" / "sdg-kos-goals-targets-indicators.ttl"
    goals = [q.triple for q in ox.parse(path=str(kos), format=ox.RdfFormat.TURTLE)
             if q.predicate == RDF.type and q.object == SDGO.Goal]
    harvested.graphs.append(HarvestedGraph(ctx.iris.reference_graph("sdg"), "reference/sdg",
                                           goals))
    writer = _Writer()
    summary = validate_store_records(writer, harvested, s)
    assert summary["records"] > 700
    assert summary["by_indicator"]["7"]["fail"] >= 1
    q = """PREFIX dpg: <https://w3id.org/dpgkg/ontology#>
        SELECT DISTINCT ?dpg WHERE { GRAPH ?g {
          ?r a dpg:ValidationResult ; dpg:validatedRecord ?dpg ;
             dpg:indicator dpg:Indicator7 ; dpg:status "fail" } }"""
    fails7 = {str(b["dpg"].value).rsplit("/", 1)[1] for b in writer.store.query(q)}
    assert {"primero", "sunbird-quml"} <= fails7
    n = next(iter(writer.store.query(
        "PREFIX dpg: <https://w3id.org/dpgkg/ontology#> SELECT (COUNT(*) AS ?n) "
        "{ GRAPH ?g { ?r a dpg:ValidationResult } }")))["n"].value
    assert int(n) == summary["records"] * len(KEYS)
    assert summary["by_indicator"]["1"].get("pass", 0) > 700
    assert summary["by_indicator"]["structure"].get("fail", 0) == 0


def test_json_report_is_the_same_bytes_run_to_run():
    """Two processes (different hash seeds, so different set orders) print the same JSON."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    inputs = sorted(str(p) for p in FIX.iterdir() if p.suffix in (".json", ".ttl"))
    outputs = []
    for seed in ("1", "2"):
        run = subprocess.run(
            [sys.executable, "-m", "dpgkg.cli", "validate", "--format", "json", "--sources",
             str(SHARED), *inputs], cwd=root, capture_output=True, timeout=600, check=False,
            env={**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": seed})
        assert run.returncode == 1, run.stderr  # the fixtures include failing records
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    # several messages per indicator somewhere, so their order is really exercised
    assert any(len(v["messages"]) > 1 for line in outputs[0].splitlines()
               for v in json.loads(line)["indicators"].values())
