"""Fixtures for the linked-data and site tests: a store, the app, and a live server.

The store is tests/fixtures/mini.trig plus a small ontology and shapes graph, so
/ontology and /shapes have something to serve. The server is the real one over real
HTTP (`tests/webserver.py`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dpgkg.config import Settings

__all__ = ["app", "client", "live_url", "web_settings"]  # fixtures, for `import *`

FIXTURES = Path(__file__).resolve().parent / "fixtures"

EXTRA_TRIG = """
@prefix dpg: <https://w3id.org/dpgkg/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix v: <https://w3id.org/dpgkg/id/graph/validation#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
<https://w3id.org/dpgkg/ontology> {
  <https://w3id.org/dpgkg/ontology> a owl:Ontology ; rdfs:label "dpgkg ontology"@en .
  dpg:Solution a owl:Class ; rdfs:label "Solution"@en ;
      rdfs:comment "A record of the DPG registry."@en .
  dpg:DigitalPublicGood a owl:Class ; rdfs:label "Digital public good"@en ;
      rdfs:subClassOf dpg:Solution .
  dpg:relevantToSDG a owl:ObjectProperty ; rdfs:label "relevant to SDG"@en .
  dpg:ownedBy a owl:ObjectProperty ; rdfs:label "owned by"@en .
}
<https://w3id.org/dpgkg/shapes> {
  <https://w3id.org/dpgkg/shapes#SolutionShape> a sh:NodeShape ;
      sh:targetClass dpg:Solution ;
      sh:property <https://w3id.org/dpgkg/shapes#SolutionShape-name> .
  <https://w3id.org/dpgkg/shapes#SolutionShape-name> sh:path schema:name ; sh:minCount 1 .
}
# For the DPG page: validation results of HealthApp (1 passes, 3 fails with one message
# written twice by two shapes, the rest not answered; its history is in mini.trig),
# and Kenya's M49 code so the map can colour it.
<https://w3id.org/dpgkg/id/graph/validation> {
  v:nominees-healthapp-1 a dpg:ValidationResult ; dpg:validatedRecord <https://w3id.org/dpgkg/id/dpg/healthapp> ;
      dpg:indicator dpg:Indicator1 ; dpg:status "pass" ; dpg:sourceFile "nominees/healthapp.json" .
  v:nominees-healthapp-3 a dpg:ValidationResult ; dpg:validatedRecord <https://w3id.org/dpgkg/id/dpg/healthapp> ;
      dpg:indicator dpg:Indicator3 ; dpg:status "fail" ; dpg:sourceFile "nominees/healthapp.json" ;
      dpg:message "Violation: Say who owns the copyright." .
  v:nominees-healthapp-5 a dpg:ValidationResult ; dpg:validatedRecord <https://w3id.org/dpgkg/id/dpg/healthapp> ;
      dpg:indicator dpg:Indicator5 ; dpg:status "not-answered" ; dpg:sourceFile "nominees/healthapp.json" .
}
<https://w3id.org/dpgkg/id/graph/countries> {
  <https://w3id.org/dpgkg/id/country/KE> dpg:m49 "404" .
}
"""

BASE = "https://w3id.org/dpgkg/id/"
DPG = BASE + "dpg/healthapp"
# One IRI of each kind mini.trig holds, with the path it is served at.
RESOURCES = {
    "solution": (DPG, "/id/dpg/healthapp"),
    "nominee": (BASE + "dpg/learnkit", "/id/dpg/learnkit"),
    "organisation": (BASE + "org/open-health-org", "/id/org/open-health-org"),
    "alliance": (BASE + "org/digital-public-goods-alliance",
                 "/id/org/digital-public-goods-alliance"),
    "membership": (BASE + "membership/unicef", "/id/membership/unicef"),
    "country": (BASE + "country/KE", "/id/country/KE"),
    "sector": (BASE + "sector/health", "/id/sector/health"),
    "recommendation": (BASE + "recommendation/1B", "/id/recommendation/1B"),
    "sdg-goal": ("http://metadata.un.org/sdg/3", "/sdg/3"),
    "sdg-target": ("http://metadata.un.org/sdg/4.1", "/sdg/4.1"),
}


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory) -> Settings:
    from tests.conftest import load_fixture_store

    tmp = tmp_path_factory.mktemp("web-store")
    trig = tmp / "web.trig"
    trig.write_text((FIXTURES / "mini.trig").read_text() + EXTRA_TRIG)
    return load_fixture_store(tmp / "store", trig)


def make_app(settings: Settings):
    """The real app over `settings`' store."""
    from dpgkg.web import create_app

    return create_app(settings, {"TESTING": True})


@pytest.fixture(scope="session")
def app(web_settings):
    return make_app(web_settings)


@pytest.fixture(scope="session")
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_url(web_settings):
    """Base URL (no trailing slash) of the real server (`dpgkg serve`) over the store."""
    from tests.webserver import live_server

    with live_server(web_settings) as url:
        yield url.rstrip("/")
