"""The reference harvests (SDG KOS from the sources; members, recommendations, roadmap,
compact from this project's data/), asked with SPARQL and checked against the files read
independently here."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

from dpgkg.harvest import HarvestContext, HarvestResult
from dpgkg.harvest.alliance import harvest_alliance
from dpgkg.harvest.sdg import harvest_sdg
from dpgkg.iris import IRIs
from dpgkg.rdf import DPG, sparql_prefixes
from dpgkg.sources.data import alliance_locations
from dpgkg.sources.reference import parse_partial_date, read_csv
from tests.conftest import DATA, NO_SHARED, SHARED

SDG_DIR = SHARED / "sdg"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference"
TECH_ENVOY = "Office of the Secretary-General's Envoy on Technology"



def ctx() -> HarvestContext:
    return HarvestContext(IRIs())


def to_store(result: HarvestResult) -> ox.Store:
    store = ox.Store()
    store.extend([ox.Quad(t.subject, t.predicate, t.object, g.graph)
                  for g in result.graphs for t in g.triples])
    return store


def ask(store: ox.Store, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT over the union of the named graphs, values as plain strings."""
    solutions = store.query(sparql_prefixes() + query, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


def count(store: ox.Store, where: str) -> int:
    return int(ask(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")[0]["n"])


# --- SDG ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sdg() -> tuple[HarvestResult, ox.Store, float]:
    if not SDG_DIR.is_dir():
        pytest.skip(NO_SHARED)
    started = time.perf_counter()
    result = harvest_sdg(str(SDG_DIR / "sdg-kos-goals-targets-indicators.ttl"),
                         str(SDG_DIR / "sdgs-ontology.ttl"), ctx())
    elapsed = time.perf_counter() - started
    return result, to_store(result), elapsed


def test_sdg_is_fast_and_one_graph(sdg):
    result, _, elapsed = sdg
    assert elapsed < 1.0
    assert [g.graph for g in result.graphs] == [IRIs().reference_graph("sdg")]
    assert not [p for p in result.problems if p.severity == "error"]


def test_sdg_counts_and_links(sdg):
    _, store, _ = sdg
    assert count(store, "?g a sdgo:Goal") == 17
    assert count(store, "?t a sdgo:Target") == 169
    assert count(store, "?i a sdgo:Indicator") == 232
    # every target and indicator hangs under something, both ways
    assert count(store, "?t a sdgo:Target FILTER NOT EXISTS { ?g sdgo:hasTarget ?t }") == 0
    assert count(store, "?t a sdgo:Target FILTER NOT EXISTS { ?t skos:broader ?g }") == 0
    assert count(store, "?i a sdgo:Indicator FILTER NOT EXISTS { ?t sdgo:hasIndicator ?i }") == 0
    assert count(store, "?i a sdgo:Indicator FILTER NOT EXISTS { ?i skos:broader ?t }") == 0
    assert count(store, "sdg:4 sdgo:hasTarget sdg:4.1 . sdg:4.1 sdgo:hasIndicator sdg:C040101 "
                        ". sdg:C040101 skos:broader sdg:4.1 . sdg:4.1 skos:broader sdg:4") == 1


def test_sdg_one_notation_per_concept(sdg):
    """skos:notation is the KOS's compact code, the only one; the padded and permanent
    codes are kept under properties of their own (read from the KOS file directly)."""
    _, store, _ = sdg
    kos = (SDG_DIR / "sdg-kos-goals-targets-indicators.ttl").read_text()
    codes = {kind: set(re.findall(rf'"([^"]+)"\^\^sdgo:{kind}\b', kos))
             for kind in ("SDGCode", "SDGCodeCompact", "SDGCodePerm")}
    assert count(store, "?c skos:notation ?a, ?b FILTER(?a != ?b)") == 0
    got = {r["n"] for r in ask(store, "SELECT ?n { ?c skos:notation ?n . ?c a ?k "
                                      "FILTER(?k IN (sdgo:Goal, sdgo:Target, sdgo:Indicator)) }")}
    assert got == codes["SDGCodeCompact"]
    assert {r["n"] for r in ask(store, "SELECT ?n { ?c dpg:sdgCode ?n }")} == codes["SDGCode"]
    assert {r["n"] for r in ask(store, "SELECT ?n { ?c dpg:sdgPermanentCode ?n }")} == \
        codes["SDGCodePerm"]
    assert ask(store, "SELECT ?n { sdg:3 skos:notation ?n }") == [{"n": "3"}]


def test_sdg_labels_in_three_languages(sdg):
    _, store, _ = sdg
    for lang in ("en", "fr", "es"):
        assert count(store, f"?g a sdgo:Goal ; skos:prefLabel ?l FILTER(lang(?l) = '{lang}')") \
            == 17


def test_sdg_4_targets_in_french(sdg):
    _, store, _ = sdg
    rows = ask(store, """SELECT ?t ?label WHERE {
        sdg:4 sdgo:hasTarget ?t . ?t skos:prefLabel ?label FILTER(lang(?label) = "fr") }""")
    got = {r["t"].rsplit("/", 1)[1]: r["label"] for r in rows}
    assert sorted(got) == ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.a", "4.b", "4.c"]
    # the same labels, read straight from the file
    sdg4 = {f"http://metadata.un.org/sdg/{k}" for k in got}
    expected = {t.subject.value.rsplit("/", 1)[1]: t.object.value
                for t in ox.parse(path=str(SDG_DIR / "sdg-kos-goals-targets-indicators.ttl"),
                                  format=ox.RdfFormat.TURTLE)
                if t.subject.value in sdg4
                and t.predicate.value.endswith("#prefLabel") and t.object.language == "fr"}
    assert got == expected
    assert got["4.1"].startswith("D’ici à 2030")


def test_sdg_provenance_and_no_blank_nodes(sdg):
    _, store, _ = sdg
    graph = IRIs().reference_graph("sdg").value
    assert count(store, f"<{graph}> prov:wasDerivedFrom ?s ; dpg:sourcePath ?p . "
                        "?s dct:license ?l . ?l a dct:LicenseDocument ; rdfs:comment ?c "
                        "FILTER(CONTAINS(?c, 'citation'))") == 1
    assert count(store, "?s ?p ?o FILTER(isBlank(?s) || isBlank(?o))") == 0
    assert count(store, "<http://metadata.un.org/sdg/ontology> a owl:Ontology") == 1


# --- members, recommendations, roadmap, compact ----------------------------------------------

LOCATIONS = {
    "members": "members.csv",
    "recommendations": "recommendations.csv",
    "roadmap": "roadmap-areas.csv",
    "compact": "compact-objectives.csv",
}


def test_the_build_reads_the_alliance_tables_from_data():
    assert alliance_locations() == {k: str(DATA / v) for k, v in LOCATIONS.items()}


@pytest.fixture(scope="module")
def alliance() -> tuple[HarvestResult, ox.Store]:
    result = harvest_alliance(alliance_locations(), ctx())
    return result, to_store(result)


def csv_rows(name: str) -> list[dict[str, str]]:
    with open(DATA / LOCATIONS[name], encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_alliance_graphs_and_no_problems(alliance):
    result, store = alliance
    iris = IRIs()
    assert {g.graph for g in result.graphs} == {iris.reference_graph(n) for n in LOCATIONS}
    assert result.problems == []
    for name in LOCATIONS:
        g = iris.reference_graph(name).value
        assert count(store, f"<{g}> a prov:Entity ; prov:wasDerivedFrom ?s ; "
                            "dpg:sourcePath ?p . ?s a dcat:Dataset") == 1
    assert count(store, "?s ?p ?o FILTER(isBlank(?s) || isBlank(?o))") == 0


def test_read_csv_matches_csv_module():
    for name, file in LOCATIONS.items():
        assert read_csv(str(DATA / file)) == [
            {k: v.strip() for k, v in row.items()} for row in csv_rows(name)]


def test_members_and_memberships(alliance):
    _, store = alliance
    rows = csv_rows("members")
    assert len(rows) == 57
    alliance_iri = IRIs().alliance().value
    assert count(store, f"?m a org:Membership ; org:organization <{alliance_iri}> ; "
                        "org:member ?o . ?o a dpg:Organisation") == len(rows)
    assert count(store, "?m a org:Membership ; org:memberDuring ?i . ?i a time:Interval") == 57
    names = {r["o"] for r in ask(store, "SELECT ?o WHERE { ?m org:member/schema:name ?o }")}
    assert names == {r["name"] for r in rows}
    assert count(store, "?m dpg:isCurrent true") == sum(1 for r in rows if not r["left"])
    assert count(store, "?m dpg:isCurrent false ; dpg:left ?l") == sum(1 for r in rows
                                                                      if r["left"])
    assert count(store, "?o dpg:headquarters ?c") == sum(1 for r in rows if r["headquarters"])
    # blank joined: a membership with only its end
    for r in rows:
        if not r["joined"]:
            slug = IRIs().membership(r["name"]).value
            assert count(store, f"<{slug}> org:memberDuring ?i . ?i time:hasEnd ?e "
                                "FILTER NOT EXISTS { ?i time:hasBeginning ?b }") == 1


def test_the_alliance(alliance):
    _, store = alliance
    rows = ask(store, """SELECT ?name ?url ?rec ?area WHERE {
        ?a a dpg:Alliance ; schema:name ?name ; schema:url ?url ;
           dpg:answersRecommendation ?r ; dpg:contributesToRoadmapArea ?ra .
        ?r skos:notation ?rec . ?ra skos:notation ?area ; dpg:followsUp ?r }""")
    assert rows == [{"name": "Digital Public Goods Alliance",
                     "url": "https://www.digitalpublicgoods.net/", "rec": "1B", "area": "2"}]


def test_dates_are_dates_with_their_precision(alliance):
    """dpg:joined and dpg:left are xsd:date (a year or month: its first day), the precision
    beside them; the OWL-Time instants keep the value as precisely as the table gives it."""
    _, store = alliance
    xsd = "http://www.w3.org/2001/XMLSchema#"
    got = {r["m"].rsplit("/", 1)[1]: (r["v"], r["dt"], r["p"]) for r in ask(store, """
        SELECT ?m ?v ?dt ?p WHERE { ?m dpg:joined ?v ; dpg:joinedPrecision ?p
          BIND(datatype(?v) AS ?dt) }""")}
    assert {dt for _, dt, _ in got.values()} == {xsd + "date"}
    assert got["office-of-the-secretary-general-s-envoy-on-technology"] == (
        "2021-09-27", xsd + "date", "day")
    assert got["unicef"] == ("2019-01-01", xsd + "date", "year")
    left = {(r["v"], r["p"]) for r in ask(store, """SELECT ?v ?p WHERE {
        ?m org:member/schema:name "United States Agency for International Development (USAID)" ;
           dpg:left ?v ; dpg:leftPrecision ?p }""")}
    assert left == {("2025-03-01", "month")}
    # the instants carry each value as written, with the time: property for its precision
    written = {r["joined"] for r in csv_rows("members") if r["joined"]}
    instants = {r["v"] for r in ask(store, """SELECT ?v { ?m dpg:joined ?j ;
        org:memberDuring/time:hasBeginning ?s . ?s a time:Instant ;
        time:inXSDDate|time:inXSDgYear|time:inXSDgYearMonth ?v }""")}
    assert instants == written
    assert count(store, "?m dpg:joined ?v") == sum(1 for r in csv_rows("members") if r["joined"])


def test_tech_envoy_successor(alliance):
    _, store = alliance
    rows = ask(store, f"""SELECT ?name ?current WHERE {{
        ?envoy schema:name "{TECH_ENVOY}" ; dpg:successor ?s .
        ?s schema:name ?name ; dpg:predecessor ?envoy .
        ?m org:member ?s ; dpg:isCurrent ?current }}""")
    assert rows == [{"name": "UN Office for Digital and Emerging Technologies",
                     "current": "true"}]


def _after(text: str, day: date) -> bool:
    """Joined after `day`; a year or month that contains `day` counts as before."""
    when = parse_partial_date(text)
    if when.precision == "date":
        return date.fromisoformat(text) > day
    if when.precision == "gYearMonth":
        return (int(text[:4]), int(text[5:7])) > (day.year, day.month)
    return int(text) > day.year


def test_joined_after_the_tech_envoy_by_type(alliance):
    _, store = alliance
    rows = csv_rows("members")
    envoy_joined = next(r["joined"] for r in rows if r["name"] == TECH_ENVOY)
    assert envoy_joined == "2021-09-27"
    expected = Counter(r["type"] for r in rows
                       if r["joined"] and _after(r["joined"], date(2021, 9, 27)))
    got = {r["type"].rsplit("#", 1)[1].lower(): int(r["n"]) for r in ask(store, f"""
        SELECT ?type (COUNT(?o) AS ?n) WHERE {{
          ?envoy schema:name "{TECH_ENVOY}" . ?em org:member ?envoy ; dpg:joined ?ej .
          ?m org:member ?o ; dpg:joined ?j . ?o dpg:memberType ?type .
          FILTER(?j > ?ej)    # one datatype: a plain comparison
        }} GROUP BY ?type""")}
    assert got == dict(expected)
    assert sum(got.values()) > 40  # most members came after 2021-09-27


def test_recommendations_roadmap_compact(alliance):
    _, store = alliance
    recs = csv_rows("recommendations")
    assert len(recs) == 11
    got = {r["n"]: (r["label"], r["d"], r["ch"]) for r in ask(store, """
        SELECT ?n ?label ?d ?ch WHERE { ?r a dpg:Recommendation ;
          skos:inScheme dpg:DigitalCooperationRecommendations ; skos:notation ?n ;
          skos:prefLabel ?label ; dct:description ?d ; dpg:chapter ?ch }""")}
    assert got == {r["id"]: (f"Recommendation {r['id']}", r["summary"], r["chapter"])
                   for r in recs}

    areas = csv_rows("roadmap")
    assert len(areas) == 8
    assert count(store, "?a a dpg:RoadmapArea ; skos:inScheme dpg:RoadmapForDigitalCooperation "
                        "; skos:prefLabel ?l") == 8
    links = {(r["a"], r["r"]) for r in ask(store, """SELECT ?a ?r WHERE {
        ?x a dpg:RoadmapArea ; skos:notation ?a ; dpg:followsUp/skos:notation ?r }""")}
    assert links == {(a["area"], rec) for a in areas for rec in a["follows_up"].split()}

    objectives = csv_rows("compact")
    assert len(objectives) == 5
    got = {r["n"]: r["l"] for r in ask(store, """SELECT ?n ?l WHERE { ?o a dpg:CompactObjective ;
        skos:inScheme dpg:GlobalDigitalCompact ; skos:notation ?n ; skos:prefLabel ?l }""")}
    assert got == {o["objective"]: o["title"] for o in objectives}
    # objective 1 continues Roadmap area 2 and recommendation 1B (the table's own column)
    continues = {(r["o"], r["kind"], r["n"]) for r in ask(store, """
        SELECT ?o ?kind ?n WHERE { ?x a dpg:CompactObjective ; skos:notation ?o ;
          dpg:continues ?y . ?y a ?kind ; skos:notation ?n
          FILTER(?kind IN (dpg:RoadmapArea, dpg:Recommendation)) }""")}
    expected = {(o["objective"], (DPG.RoadmapArea if ref.isdigit() else DPG.Recommendation)
                 .value, ref) for o in objectives for ref in o["continues"].split()}
    assert continues == expected
    assert ("1", DPG.RoadmapArea.value, "2") in continues
    assert ("1", DPG.Recommendation.value, "1B") in continues


# --- malformed rows -------------------------------------------------------------------------

def test_bad_rows_are_problems_not_exceptions():
    location = str(FIXTURES / "members-bad.csv")
    result = harvest_alliance({"members": location}, ctx())
    store = to_store(result)
    by_field = {p.field: p for p in result.problems}
    for p in result.problems:
        assert p.source == location and "members-bad.csv" in str(p)
    # line numbers count the header as line 1
    assert set(by_field) == {"row 3, column joined", "row 4, column type", "row 5, column name",
                             "row 6, column headquarters", "row 6, column joined_basis",
                             "row 6, column left"}
    assert "2022-13-40" in by_field["row 3, column joined"].message
    assert "charity" in by_field["row 4, column type"].message
    assert by_field["row 5, column name"].severity == "error"  # skipped: no name

    names = {r["n"] for r in ask(store, "SELECT ?n WHERE { ?m org:member/schema:name ?n }")}
    assert names == {"Good Org", "Bad Date Org", "Odd Type Org", "Gone Org", "New Org"}
    assert count(store, '?o schema:name "Good Org" ; dpg:memberType dpg:Nonprofit ; '
                        "dpg:headquarters ?c . ?m org:member ?o ; dpg:joined ?j ; "
                        "dpg:joinedBasis dpg:Announcement ; dpg:isCurrent true") == 1
    assert count(store, '?o schema:name "Bad Date Org" . ?m org:member ?o ; dpg:joined ?j') == 0
    assert count(store, '?o schema:name "Odd Type Org" ; dpg:memberType ?t') == 0
    assert count(store, '?o schema:name "Odd Type Org" . ?m org:member ?o ; dpg:joined ?j ; '
                        'dpg:joinedPrecision "year" FILTER(datatype(?j) = xsd:date)') == 1
    # a left date that does not parse is dropped, but the membership still ended
    assert count(store, '?o schema:name "Gone Org" . ?m org:member ?o ; dpg:isCurrent false '
                        "FILTER NOT EXISTS { ?m dpg:left ?l }") == 1
    assert count(store, '?n schema:name "New Org" ; dpg:predecessor ?p . '
                        '?p schema:name "Good Org" ; dpg:successor ?n') == 1
