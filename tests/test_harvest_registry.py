"""Registry harvest over hand-written fixtures: problems, normalisation, archives, the legacy
API, one posted record (the real registry in ../shared: test_harvest_registry_real.py)."""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from dpgkg.harvest import HarvestContext, Problem
from dpgkg.harvest.countries import CountryMatcher
from dpgkg.harvest.licences import LicenceIndex
from dpgkg.harvest.registry import clean_url, harvest_registry, record_to_graph
from dpgkg.iris import IRIs
from dpgkg.rdf import sparql_prefixes
from dpgkg.sources.countries import read_countries
from dpgkg.sources.registry import RegistryFile, read_registry
from tests.conftest import REGISTRY_REPO

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "registry"
REPO = REGISTRY_REPO
ID = "https://w3id.org/dpgkg/id/"
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


# --------------------------------------------------------------------------- helpers

def ctx() -> HarvestContext:
    return HarvestContext(IRIs())


def store_of(graphs) -> ox.Store:
    store = ox.Store()
    store.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, g.graph)
                       for g in graphs for t in g.triples])
    return store


def _q(query: str) -> str:
    """Prefixes, and id:dpg/x written as a full IRI (SPARQL local names cannot hold '/')."""
    query = re.sub(r"\bid:([A-Za-z0-9/_#.%-]*[A-Za-z0-9_-])", lambda m: f"<{ID}{m.group(1)}>",
                   query)
    return sparql_prefixes() + query


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    res = store.query(_q(query), use_default_graph_as_union=True)
    return [{v.value: sol[v].value for v in res.variables if sol[v] is not None}
            for sol in res]


def ask(store: ox.Store, query: str) -> bool:
    return bool(store.query(_q(query), use_default_graph_as_union=True))


def count(store: ox.Store, where: str, var: str = "s") -> int:
    rows = select(store, f"SELECT (COUNT(DISTINCT ?{var}) AS ?n) WHERE {{ {where} }}")
    return int(rows[0]["n"])


def literals(graphs) -> list[str]:
    return [t.object.value for g in graphs for t in g.triples
            if isinstance(t.object, ox.Literal)]


def mini_matcher() -> CountryMatcher:
    return CountryMatcher(read_countries(str(FIX / "countries-mini.csv")))


def problems_for(problems: list[Problem], source: str) -> list[Problem]:
    return [p for p in problems if p.source == source]


@pytest.fixture(scope="module")
def fixture_result():
    matcher = mini_matcher()
    licences = LicenceIndex.from_registry(str(REPO))
    result = harvest_registry(str(REPO), ctx(), countries=matcher, licences=licences)
    return result, matcher, licences


@pytest.fixture(scope="module")
def fixture_store(fixture_result):
    return store_of(fixture_result[0].graphs)


# --------------------------------------------------------------------------- fixtures: problems

def test_bad_files_are_errors_naming_the_file_and_the_rest_harvests(fixture_result):
    result, _, _ = fixture_result
    errors = {p.source: p for p in result.problems if p.severity == "error"}
    assert set(errors) == {"nominees/bad-json.json", "nominees/empty.json",
                           "nominees/not-object.json", "nominees/no-name.json"}
    assert "JSON" in errors["nominees/bad-json.json"].message
    assert errors["nominees/no-name.json"].field == "name"
    keys = {g.key for g in result.graphs}
    assert {"nominees/good-dpg", "nominees/other-dpg", "nominees/wrong-types",
            "nominees/shared", "archive/shared", "archive/old-tool",
            "excluded-nominees/excluded-one", "excluded-nominees/excluded-two",
            "excluded-nominees/alias-only", "registry-source"} == keys


def test_wrong_types_are_warnings_naming_the_field(fixture_result, fixture_store):
    result, _, _ = fixture_result
    fields = {p.field for p in problems_for(result.problems, "nominees/wrong-types.json")}
    assert {"SDGs", "license", "description", "type", "organizations[1]"} <= fields
    assert all(p.severity == "warning"
               for p in problems_for(result.problems, "nominees/wrong-types.json"))
    # The usable rest is kept: the licence object read as a one-item list, the type.
    assert ask(fixture_store, "ASK { id:dpg/wrong-types dct:license spdx:MIT ; "
                              "dpg:solutionType dpg:Software ; dpg:ownedBy id:org/typo-org }")
    assert not ask(fixture_store, "ASK { id:dpg/wrong-types dpg:relevantToSDG ?g }")
    assert not ask(fixture_store, "ASK { id:dpg/wrong-types schema:description ?d }")


def test_read_registry_reports_file_problems_and_returns_records():
    files, problems = read_registry(str(REPO))
    assert {p.source for p in problems if p.severity == "error"} == {
        "nominees/bad-json.json", "nominees/empty.json", "nominees/not-object.json",
        "nominees/no-name.json"}
    by_path = {f.path: f for f in files}
    assert by_path["nominees/good-dpg.json"].screening["clearOwnership"][
        "isOwnershipExplicit"] == "Yes"
    # the git symlink checked out as a text file is followed
    assert by_path["nominees/other-dpg.json"].screening_path == "digitalpublicgoods/other-dpg.json"
    assert by_path["nominees/other-dpg.json"].screening["name"] == "Good DPG"
    assert by_path["archive/shared.json"].screening is None
    assert any(p.source == "digitalpublicgoods/orphan.json" for p in problems)


# --------------------------------------------------------------------------- fixtures: the graph

def test_solution_core(fixture_store):
    s = fixture_store
    assert ask(s, """ASK { GRAPH id:graph/nominees/good-dpg {
        id:dpg/good-dpg a dpg:Solution, dpg:DigitalPublicGood, schema:SoftwareSourceCode,
                          schema:Dataset ;
          schema:name "Good DPG" ; dpg:stage dpg:DPGStage ;
          dpg:solutionType dpg:Software, dpg:Data ;
          schema:url <https://www.good-dpg.example.org> ;
          schema:codeRepository <https://github.com/example/good-dpg> ;
          dpg:stageHistory id:dpg/good-dpg#stage-nominees .
        id:dpg/good-dpg#stage-nominees a dpg:StageRecord ; dpg:stage dpg:DPGStage ;
          dpg:stageAsWritten "DPG" ; dpg:sourceFile "nominees/good-dpg.json" .
        id:graph/nominees/good-dpg a prov:Entity, dpg:RecordGraph ;
          prov:wasDerivedFrom id:source/registry ; dpg:sourcePath "nominees/good-dpg.json" ;
          dpg:describes id:dpg/good-dpg } }""")
    aliases = {r["a"] for r in select(s, "SELECT ?a { id:dpg/good-dpg schema:alternateName ?a }")}
    assert aliases == {"GD"}
    assert ask(s, "ASK { id:dpg/other-dpg a dpg:Nominee, schema:CreativeWork ; "
                  "dpg:stage dpg:NomineeStage ; dpg:solutionType dpg:Content }")
    # old-tool wrote the stage "archive": that is its stage, and it is archived
    assert ask(s, "ASK { id:dpg/old-tool a dpg:ArchivedSolution, dct:Standard ; "
                  "dpg:stage dpg:ArchivedStage ; dpg:isArchived true ; "
                  "dpg:implementedBy id:org/old-org }")


def test_an_archived_record_keeps_the_stage_it_wrote():
    """An archive/ file whose stage says "nominee": a nominee that is archived."""
    record = {"name": "Retired App", "stage": "nominee", "type": ["software"],
              "license": [{"spdx": "MIT", "licenseURL": "https://example.org/l"}],
              "SDGs": [{"SDGNumber": 4, "evidenceText": "x"}]}
    rf = RegistryFile(folder="archive", record_id="retired-app",
                      path="archive/retired-app.json", record=record)
    hg, _ = record_to_graph(rf, ctx())
    s = store_of([hg])
    assert ask(s, "ASK { id:dpg/retired-app a dpg:Nominee, dpg:ArchivedSolution ; "
                  "dpg:stage dpg:NomineeStage ; dpg:isArchived true }")
    assert not ask(s, "ASK { ?s dpg:stage dpg:ArchivedStage }")


def test_no_empty_answers_and_no_blank_nodes(fixture_result):
    result, _, _ = fixture_result
    for g in result.graphs:
        for t in g.triples:
            assert not isinstance(t.subject, ox.BlankNode)
            assert not isinstance(t.object, ox.BlankNode)
            if isinstance(t.object, ox.Literal):
                assert t.object.value.strip(), t


def test_licences_normalised_with_the_original_kept(fixture_result, fixture_store):
    result, _, licences = fixture_result
    s = fixture_store
    assert ask(s, """ASK { id:dpg/good-dpg dct:license spdx:GPL-3.0-only ;
        dpg:licenseDeclaration id:dpg/good-dpg#license-GPL-3.0-only .
        id:dpg/good-dpg#license-GPL-3.0-only a dpg:LicenseDeclaration ;
          dct:license spdx:GPL-3.0-only ; dpg:spdxIdAsWritten "GPL-3.0" ;
          schema:url <https://example.org/good%20dpg/LICENSE> }""")
    assert not ask(s, "ASK { ?x dct:license spdx:GPL-3.0 }")
    # unknown id: kept as written only, with a warning
    assert ask(s, """ASK { id:dpg/good-dpg dpg:licenseDeclaration ?d .
        ?d dpg:spdxIdAsWritten "Made-Up-1.0" FILTER NOT EXISTS { ?d dct:license ?l } }""")
    warn = [p for p in result.problems if p.field == "license[1].spdx"]
    assert warn and warn[0].severity == "warning" and "not on the SPDX licence list" in \
        warn[0].message
    assert ask(s, "ASK { id:dpg/other-dpg dct:license spdx:MIT }")  # "mit" as written
    assert ask(s, "ASK { id:dpg/old-tool dct:license spdx:AGPL-3.0-only }")
    assert {"GPL-3.0-only", "MIT", "AGPL-3.0-only", "Apache-2.0"} <= licences.used


def test_sdgs_and_urls(fixture_result, fixture_store):
    result, _, _ = fixture_result
    s = fixture_store
    assert ask(s, """ASK { id:dpg/good-dpg dpg:relevantToSDG sdg:3, sdg:4 ;
        dpg:sdgRelevance id:dpg/good-dpg#sdg-3 .
        id:dpg/good-dpg#sdg-3 a dpg:SDGRelevance ; dpg:sdg sdg:3 ;
          dpg:evidenceText "Clinics use it." ;
          dpg:evidenceURL <https://example.org/a>, <https://example.org/b> }""")
    bad_url = [p for p in result.problems if p.field == "SDGs[1].evidenceURL"]
    assert bad_url and bad_url[0].severity == "warning"
    # the old [number, title] pair format is read
    assert ask(s, "ASK { id:dpg/excluded-one dpg:relevantToSDG sdg:7 }")


def test_organisations_merged_with_roles(fixture_store):
    s = fixture_store
    assert ask(s, """ASK { id:dpg/good-dpg dpg:ownedBy id:org/acme-org ;
                                  dpg:fundedBy id:org/fund-foundation .
                           id:dpg/other-dpg dpg:maintainedBy id:org/acme-org .
                           id:dpg/shared dpg:ownedBy id:org/acme-org }""")
    names = select(s, "SELECT DISTINCT ?n { id:org/acme-org schema:name ?n }")
    assert [r["n"] for r in names] == ["Acme Org"]
    assert ask(s, "ASK { id:org/acme-org a dpg:Organisation ; schema:url <https://acme.example.org> }")
    # the triples about the organisation are in each record graph that mentions it
    graphs = select(s, "SELECT DISTINCT ?g { GRAPH ?g { id:org/acme-org schema:name ?n } }")
    assert len(graphs) == 3


def test_sectors(fixture_store):
    s = fixture_store
    assert ask(s, 'ASK { id:dpg/good-dpg dpg:sector id:sector/health . '
                  'id:sector/health a skos:Concept ; skos:prefLabel "Health"@en }')
    assert count(s, "id:dpg/good-dpg dpg:sector ?s") == 1


def test_indicator_answers(fixture_store):
    s = fixture_store
    got = {r["n"] for r in select(s, """SELECT ?n { id:dpg/good-dpg dpg:indicatorAnswer ?a .
        ?a a dpg:IndicatorAnswer ; dpg:answersIndicator ?i .
        BIND(STRAFTER(STR(?i), "#Indicator") AS ?n) }""")}
    assert got == {"3", "4", "5", "6", "7", "8", "9", "9a", "9b", "9c"}
    assert ask(s, """ASK { id:dpg/good-dpg#indicator-3 dpg:isOwnershipExplicit "Yes" ;
                              dpg:copyrightURL "https://example.org/copyright" .
        id:dpg/good-dpg#indicator-6 dpg:collectsNonPII "Yes" .
        id:dpg/good-dpg#indicator-9b dpg:illegalContentType "children's books" ;
                              dpg:collectStoreDistribute "Yes" .
        id:dpg/good-dpg#indicator-5 dpg:documentationURL "https://docs.example.org" }""")
    assert count(s, "id:dpg/good-dpg#indicator-5 dpg:documentationURL ?s") == 1
    assert not ask(s, "ASK { ?a dpg:isSoftwarePltIndependent ?x }")   # "" is no answer
    assert not ask(s, "ASK { ?a dpg:typesOfDataCollected ?x }")       # [""] is no answer
    assert not ask(s, "ASK { ?a dpg:type ?x }")
    # the symlinked screening file gives the other record the same answers
    assert ask(s, 'ASK { id:dpg/other-dpg dpg:indicatorAnswer ?a . '
                  '?a dpg:answersIndicator dpg:Indicator3 }')


def test_countries_matched_or_kept_as_written(fixture_result, fixture_store):
    result, matcher, _ = fixture_result
    s = fixture_store
    assert ask(s, """ASK { id:dpg/good-dpg dpg:developmentCountry id:country/DE, id:country/US ;
        dpg:deploymentCountry id:country/PS, id:country/TZ, id:country/CI, id:country/US ;
        dpg:countryAsWritten "Global", "Atlantis" }""")
    assert matcher.unmatched["Global"] == 2 and matcher.unmatched["Atlantis"] == 2
    msgs = {p.message for p in result.problems if p.field and p.field.startswith("locations")}
    assert any("not a country" in m and "Global" in m for m in msgs)
    assert any("not matched" in m and "Atlantis" in m for m in msgs)


def test_nominee_and_archive_same_id(fixture_result, fixture_store):
    result, _, _ = fixture_result
    s = fixture_store
    arch = next(g for g in result.graphs if g.key == "archive/shared")
    assert arch.subject is None
    assert arch.graph.value == ID + "graph/archive/shared"
    assert ask(s, """ASK { GRAPH id:graph/archive/shared {
        id:dpg/shared dpg:stageHistory id:dpg/shared#stage-archive .
        id:dpg/shared#stage-archive a dpg:StageRecord ; dpg:stage dpg:NomineeStage ;
          dpg:stageAsWritten "nominee" ; dpg:sourceFile "archive/shared.json" .
        id:graph/archive/shared dpg:sourcePath "archive/shared.json" } }""")
    assert not ask(s, "ASK { GRAPH id:graph/archive/shared { ?s schema:name ?n } }")
    assert ask(s, 'ASK { id:dpg/shared a dpg:Nominee ; dpg:stage dpg:NomineeStage ; '
                  'schema:description "In nominees and archive." }')
    assert count(s, "id:dpg/shared dpg:stageHistory ?s") == 2
    assert not ask(s, "ASK { id:dpg/shared dpg:stage dpg:ArchivedStage }")


def test_excluded_records(fixture_result, fixture_store):
    result, _, _ = fixture_result
    s = fixture_store
    rows = select(s, """SELECT ?s ?d ?r { ?s a dpg:ExcludedSolution ; dpg:stage dpg:ExcludedStage ;
        dpg:stageHistory ?h . ?h dct:date ?d ; dpg:exclusionReason ?r }""")
    got = {r["s"].rsplit("/", 1)[1]: (r["d"], r["r"]) for r in rows}
    assert got["excluded-one"][0] == got["excluded-two"][0] == "2020-09-03"
    assert got["alias-only"] == ("2022-05-03", "No longer maintained")
    assert "[e-mail removed]" in got["excluded-one"][1]
    assert any(p.source == "excluded-nominees/README.md" and "Nobody Here" in p.message
               for p in result.problems)


def test_registry_source_graph(fixture_store):
    assert ask(fixture_store, """ASK { GRAPH id:graph/registry-source {
        id:source/registry a prov:Entity, dcat:Dataset ;
          dcat:accessURL <https://github.com/DPGAlliance/publicgoods-candidates> } }""")


def test_fixture_privacy(fixture_result):
    result, _, _ = fixture_result
    lits = literals(result.graphs)
    assert not [v for v in lits if EMAIL.search(v)]
    assert not [v for v in lits if "Jane Example" in v or "Max Contact" in v]
    assert any("[e-mail removed]" in v and "[contact removed]" in v for v in lits)
    iris = [t.object.value for g in result.graphs for t in g.triples
            if isinstance(t.object, ox.NamedNode)]
    assert not [v for v in iris if EMAIL.search(v)]


# --------------------------------------------------------------------------- archives

def _archive_members(top: str):
    for path in sorted(REPO.rglob("*")):
        if path.is_file():
            yield f"{top}/{path.relative_to(REPO).as_posix()}", path


def _build_tar(tmp_path: Path) -> Path:
    top = f"publicgoods-candidates-{COMMIT}"
    out = tmp_path / "registry.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for name, path in _archive_members(top):
            if name.endswith("digitalpublicgoods/other-dpg.json"):
                info = tarfile.TarInfo(name)      # a real symlink, as git archive writes it
                info.type = tarfile.SYMTYPE
                info.linkname = "good-dpg.json"
                tf.addfile(info)
            else:
                tf.add(path, arcname=name)
    return out


def _build_zip(tmp_path: Path) -> Path:
    top = "publicgoods-candidates-main"
    out = tmp_path / "registry.zip"
    with zipfile.ZipFile(out, "w") as zf:
        zf.comment = COMMIT.encode()
        for name, path in _archive_members(top):
            if name.endswith("digitalpublicgoods/other-dpg.json"):
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)   # a symlink
                zf.writestr(info, "good-dpg.json")
            else:
                zf.write(path, arcname=name)
    return out


@pytest.mark.parametrize("build", [_build_tar, _build_zip], ids=["tar.gz", "zip"])
def test_archives(build, tmp_path, fixture_result):
    archive = build(tmp_path)
    files, problems = read_registry(str(archive))
    assert {f.commit for f in files} == {COMMIT}
    assert {f.path for f in files} == {f.path for f in read_registry(str(REPO))[0]}
    assert {p.source for p in problems if p.severity == "error"} == {
        "nominees/bad-json.json", "nominees/empty.json", "nominees/not-object.json",
        "nominees/no-name.json"}
    result = harvest_registry(str(archive), ctx(), countries=mini_matcher(),
                              licences=LicenceIndex.from_registry(str(archive)))
    assert {g.key for g in result.graphs} == {g.key for g in fixture_result[0].graphs}
    s = store_of(result.graphs)
    assert ask(s, f'ASK {{ id:graph/nominees/good-dpg dpg:sourceCommit "{COMMIT}" }}')
    assert ask(s, 'ASK { id:dpg/other-dpg dpg:indicatorAnswer ?a . '
                  '?a dpg:answersIndicator dpg:Indicator3 }')
    assert ask(s, "ASK { id:dpg/excluded-two dpg:stageHistory/dct:date ?d }")
    assert LicenceIndex.from_registry(str(archive)).approved["Data"] == {"ODbL-1.0"}


def test_unreadable_location_is_a_problem(tmp_path):
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    files, problems = read_registry(str(bad))
    assert files == [] and problems and problems[0].severity == "error"
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    files, problems = read_registry(str(empty))
    assert files == [] and problems


# --------------------------------------------------------------------------- legacy API

def test_legacy_api_list(tmp_path):
    loc = str(FIX / "legacy-dpgs.json")
    files, problems = read_registry(loc)
    assert [f.record_id for f in files] == ["legacy-one", "legacy-two"]
    assert [p.source for p in problems if p.severity == "error"] == ["legacy-dpgs.json[2]"]
    assert files[0].screening is not None and files[1].screening is None
    result = harvest_registry(loc, ctx(), countries=mini_matcher())
    s = store_of(result.graphs)
    assert ask(s, """ASK { GRAPH id:graph/nominees/legacy-one {
        id:dpg/legacy-one a dpg:DigitalPublicGood ; dpg:stage dpg:DPGStage ;
          dct:license spdx:LGPL-2.1-only ; dpg:ownedBy id:org/legacy-org ;
          dpg:developmentCountry id:country/KE ; dpg:deploymentCountry id:country/GB ;
          dpg:indicatorAnswer id:dpg/legacy-one#indicator-3 } }""")
    assert ask(s, "ASK { id:dpg/legacy-two a dpg:DigitalPublicGood ; "
                  "dpg:fundedBy id:org/legacy-org }")
    assert not [v for v in literals(result.graphs) if EMAIL.search(v) or "Leo Legacy" in v]


# --------------------------------------------------------------------------- one record

def test_record_to_graph_single_posted_record():
    record = json.loads((REPO / "nominees" / "good-dpg.json").read_text())
    screening = json.loads((REPO / "digitalpublicgoods" / "good-dpg.json").read_text())
    rf = RegistryFile("nominees", "posted", "nominees/posted.json", record, screening)
    hg, problems = record_to_graph(rf, ctx())
    assert hg is not None and hg.key == "nominees/posted"
    assert hg.subject.value == ID + "dpg/posted"
    s = store_of([hg])
    # without a matcher, countries are kept as written
    assert ask(s, 'ASK { id:dpg/posted dpg:countryAsWritten "Tanzania", "USA", "Global" }')
    assert not ask(s, "ASK { id:dpg/posted dpg:deploymentCountry ?c }")
    assert ask(s, "ASK { id:dpg/posted dct:license spdx:GPL-3.0-only }")
    assert not [v for v in literals([hg]) if EMAIL.search(v) or "Jane Example" in v]
    assert all(p.severity == "warning" for p in problems)

    hg, problems = record_to_graph(RegistryFile("nominees", "x", "nominees/x.json",
                                                ["not", "a", "record"]), ctx())
    assert hg is None and problems[0].severity == "error"


def test_clean_url():
    assert [n.value for n in clean_url(" https://a.org/x ")[0]] == ["https://a.org/x"]
    assert [n.value for n in clean_url("www.a.org")[0]] == ["https://www.a.org"]
    assert [n.value for n in clean_url("https://a.org/my file.pdf")[0]] == [
        "https://a.org/my%20file.pdf"]
    assert [n.value for n in clean_url("Deck: https://a.org/x, \nhttps://b.org/(y)")[0]] == [
        "https://a.org/x", "https://b.org/(y)"]
    assert clean_url("mailto:someone@example.org") == ([], True)
    assert clean_url("") == ([], False)
