"""Fixtures for the linked-data and site tests: a store, the app, and a live server.

The store is tests/fixtures/mini.trig plus a small ontology and shapes graph, so
/ontology and /shapes have something to serve. The server is the real app over
real HTTP: `tests/webserver.py` when it is there, else werkzeug in a thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dpgkg.config import Settings

__all__ = ["app", "client", "live_url", "web_settings"]  # fixtures, for `import *`

FIXTURES = Path(__file__).resolve().parent / "fixtures"

EXTRA_TRIG = """
@prefix dpg: <https://w3id.org/dpgkg/ontology#> .
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
    try:
        from dpgkg.web import create_app
    except ImportError:
        create_app = None
    if create_app is not None:
        return create_app(settings, {"TESTING": True})
    from flask import Flask

    from dpgkg.store import open_store
    from dpgkg.web import resources, site

    app = Flask(__name__)
    app.config["TESTING"] = True
    app.extensions["dpgkg_store"] = open_store(settings.store)
    app.extensions["dpgkg_settings"] = settings
    app.register_blueprint(resources.bp)
    app.register_blueprint(site.bp)

    @app.route("/sparql")
    def sparql():  # a stand-in for the real endpoint, JSON results only
        import pyoxigraph as ox
        from flask import Response, request

        from dpgkg.publish.sparql import run_query

        result = run_query(settings, request.args["query"], store=app.extensions["dpgkg_store"])
        body = result.serialize(format=ox.QueryResultsFormat.JSON)
        return Response(body, mimetype="application/sparql-results+json")

    return app


@pytest.fixture(scope="session")
def app(web_settings):
    return make_app(web_settings)


@pytest.fixture(scope="session")
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_url(app, web_settings):
    """Base URL (no trailing slash) of the app served over HTTP."""
    try:
        from tests import webserver
    except ImportError:
        webserver = None
    if webserver is not None and hasattr(webserver, "live_server"):
        with webserver.live_server(web_settings) as url:
            yield url.rstrip("/")
        return
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
