"""Country names -> ISO codes, and the country graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from dpgkg.harvest import HarvestContext
from dpgkg.harvest.countries import CountryMatcher, country_graph
from dpgkg.iris import IRIs
from dpgkg.rdf import sparql_prefixes
from dpgkg.sources.countries import read_countries
from tests.conftest import NO_SHARED, SHARED

FIX = Path(__file__).resolve().parent / "fixtures" / "registry"
ID = "https://w3id.org/dpgkg/id/"


@pytest.fixture(scope="module")
def rows():
    path = SHARED / "countries" / "country-codes.csv"
    if not path.is_file():
        pytest.skip(NO_SHARED)
    return read_countries(str(path))


@pytest.fixture(scope="module")
def matcher(rows):
    return CountryMatcher(rows)


@pytest.mark.parametrize("name, code", [
    ("Palestine State", "PS"), ("Tanzania", "TZ"), ("United States of America", "US"),
    ("USA", "US"), ("UK", "GB"), ("United Kingdom", "GB"), ("Côte d'Ivoire", "CI"),
    ("Cote d’Ivoire", "CI"), ("Bolivia", "BO"), ("Germany", "DE"), ("germany ", "DE"),
    ("Congo (Congo-Brazzaville)", "CG"), ("Democratic Republic of the Congo", "CD"),
    ("Czechia (Czech Republic)", "CZ"), ("Eswatini (fmr. 'Swaziland')", "SZ"),
    ("VietNam", "VN"), ("Vietnam", "VN"), ("Virgin Islands, British", "VG"),
    ("Virgin Islands, U.S.", "VI"), ("Saint Vincent and The Grenadines", "VC"),
    ("Falkland Islands (Malvinas)", "FK"), ("Micronesia", "FM"), ("North Korea", "KP"),
    ("South Korea", "KR"), ("Laos", "LA"), ("Turkey", "TR"), ("Macao", "MO"),
    ("Saint Helena, Ascension and Tristan da Cunha", "SH"), ("Caribbean Netherlands", "BQ"),
    ("Allemagne", "DE"), ("Alemania", "DE"), ("Германия", "DE"), ("德国", "DE"),
    ("ألمانيا", "DE"), ("DEU", "DE"), ("KE", "KE"), ("Namibia", "NA"),
])
def test_match(matcher, name, code):
    assert matcher.match(name) == code


def test_unmatched_are_counted(rows):
    m = CountryMatcher(rows)
    assert m.match("Global") is None and m.match("Worldwide") is None
    assert m.match("Atlantis") is None and m.match("Atlantis") is None
    assert m.match("") is None and m.match("   ") is None
    assert m.unmatched == {"Global": 1, "Worldwide": 1, "Atlantis": 2}
    assert m.not_countries == {"Global": 1, "Worldwide": 1}
    assert m.lookup("Kenya") == "KE" and "Kenya" not in m.unmatched


def test_every_row_code_matches_itself(rows, matcher):
    for row in rows:
        code = row["ISO3166-1-Alpha-2"]
        assert matcher.lookup(row["official_name_en"]) == code, row["official_name_en"]
        if row["CLDR display name"]:
            assert matcher.lookup(row["CLDR display name"]) == code


def _store(hg) -> ox.Store:
    s = ox.Store()
    s.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, hg.graph) for t in hg.triples])
    return s


def test_country_graph(rows):
    hg = country_graph(HarvestContext(IRIs()), rows)
    assert hg.graph.value == ID + "graph/countries"
    s = _store(hg)
    q = sparql_prefixes()
    n = s.query(q + "SELECT (COUNT(DISTINCT ?c) AS ?n) { ?c a dpg:Country }",
                use_default_graph_as_union=True)
    assert int(next(iter(n))["n"].value) == 249
    assert s.query(q + f"""ASK {{ <{ID}country/TZ> a dpg:Country ;
        skos:prefLabel "United Republic of Tanzania"@en, "République-Unie de Tanzanie"@fr ;
        dpg:iso3166Alpha2 "TZ" ; dpg:iso3166Alpha3 "TZA" ; dpg:m49 "834" ;
        dpg:region "Africa"@en ; dpg:subRegion "Sub-Saharan Africa"@en ;
        dpg:isLeastDevelopedCountry true ; dpg:isSmallIslandDevelopingState false ;
        owl:sameAs <http://www.wikidata.org/entity/Q924>, <https://sws.geonames.org/149590/> }}""",
                   use_default_graph_as_union=True)
    langs = {r["l"].value for r in s.query(
        q + f"SELECT (LANG(?x) AS ?l) {{ <{ID}country/DE> skos:prefLabel ?x }}",
        use_default_graph_as_union=True)}
    assert langs == {"en", "fr", "es", "ar", "zh", "ru"}
    assert s.query(q + f'ASK {{ <{ID}country/AF> dpg:m49 "004" ; '
                       'dpg:isLandlockedDevelopingCountry true }',
                   use_default_graph_as_union=True)
    # Namibia is "NA", not a missing value
    assert s.query(q + f'ASK {{ <{ID}country/NA> dpg:iso3166Alpha2 "NA" }}',
                   use_default_graph_as_union=True)


def test_mini_fixture_csv():
    rows = read_countries(str(FIX / "countries-mini.csv"))
    assert [r["ISO3166-1-Alpha-2"] for r in rows][-1] == "NA"
    m = CountryMatcher(rows)
    assert m.match("Palestine State") == "PS" and m.match("UK") == "GB"
    hg = country_graph(HarvestContext(IRIs()), rows)
    assert not any(t.predicate.value.endswith("sameAs") and "wikidata" in t.object.value
                   and t.subject.value.endswith("/NA") for t in hg.triples)
