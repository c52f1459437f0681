"""Lossless JSON-LD: for every kind of resource of the real graph (and ten DPGs with
screening answers), the JSON-LD expanded by pyld is the Turtle's graph, isomorphic."""

from __future__ import annotations

import json

import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic, to_isomorphic

from dpgkg.rdf import PREFIXES

DPG = PREFIXES["dpg"]


@pytest.fixture(scope="module")
def full_client(full_settings):
    from dpgkg.web import create_app

    return create_app(full_settings, {"TESTING": True}).test_client()


@pytest.fixture(scope="module")
def context_doc(full_client) -> dict:
    resp = full_client.get("/context.jsonld")
    assert resp.status_code == 200
    return resp.get_json()


def expand(doc: dict, context_doc: dict) -> rdflib.Graph:
    """pyld's RDF of a document; its one remote context comes from the app (no network)."""

    def loader(url, options=None):
        assert url.endswith("/context.jsonld"), url
        return {"contextUrl": None, "documentUrl": url, "document": context_doc}

    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    return rdflib.Graph().parse(data=nquads, format="nt")


def _select(client, sparql: str) -> list[str]:
    resp = client.get(
        "/sparql",
        query_string={"query": sparql},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert resp.status_code == 200, resp.data[:300]
    rows = json.loads(resp.data)["results"]["bindings"]
    return [r["x"]["value"] for r in rows]


def _paths(client, base: str) -> dict[str, str]:
    """One path per kind of resource, and ten DPGs with screening answers (every fourth)."""
    one = {
        "organisation": f"SELECT ?x {{ ?x a <{DPG}Organisation> }} ORDER BY ?x LIMIT 1",
        "alliance": f"SELECT ?x {{ ?x a <{DPG}Alliance> }} LIMIT 1",
        "membership": "SELECT ?x { ?x a <http://www.w3.org/ns/org#Membership> } ORDER BY ?x "
        "LIMIT 1",
        "country": f"SELECT ?x {{ ?x a <{DPG}Country> }} ORDER BY ?x LIMIT 1",
        "sector": f"SELECT DISTINCT ?x {{ ?s <{DPG}sector> ?x }} ORDER BY ?x LIMIT 1",
        "recommendation": f"SELECT ?x {{ ?x a <{DPG}Recommendation> }} ORDER BY ?x LIMIT 1",
        "roadmap-area": f"SELECT ?x {{ ?x a <{DPG}RoadmapArea> }} ORDER BY ?x LIMIT 1",
        "compact-objective": f"SELECT ?x {{ ?x a <{DPG}CompactObjective> }} ORDER BY ?x LIMIT 1",
        "nominee": f"SELECT ?x {{ ?x a <{DPG}Nominee> }} ORDER BY ?x LIMIT 1",
        "archived": f"SELECT ?x {{ ?x a <{DPG}ArchivedSolution> }} ORDER BY ?x LIMIT 1",
        "excluded": f"SELECT ?x {{ ?x a <{DPG}ExcludedSolution> }} ORDER BY ?x LIMIT 1",
        "record-graph": f"SELECT ?x {{ ?x a <{DPG}RecordGraph> }} ORDER BY ?x LIMIT 1",
    }
    paths = {}
    for kind, q in one.items():
        (iri,) = _select(client, q)
        assert iri.startswith(base), iri
        paths[kind] = "/id/" + iri[len(base) :]
    screened = _select(
        client,
        f"SELECT DISTINCT ?x {{ ?x a <{DPG}DigitalPublicGood> ; "
        f"<{DPG}indicatorAnswer> ?a }} ORDER BY ?x",
    )
    assert len(screened) >= 40
    for iri in screened[::4][:10]:
        paths["dpg " + iri[len(base) :]] = "/id/" + iri[len(base) :]
    paths.update(
        {
            "sdg-goal": "/sdg/3",
            "sdg-target": "/sdg/3.1",
            "sdg-indicator": "/sdg/C030101",
            "ontology": "/ontology",
            "shapes": "/shapes",
        }
    )
    return paths


def test_every_kind_of_resource_expands_to_its_turtle(full_client, full_settings, context_doc):
    paths = _paths(full_client, full_settings.base_iri)
    assert sum(k.startswith("dpg ") for k in paths) == 10
    for kind, path in paths.items():
        ttl = full_client.get(path + ".ttl")
        doc = full_client.get(path + ".jsonld")
        assert ttl.status_code == doc.status_code == 200, (kind, path)
        from_turtle = rdflib.Graph().parse(data=ttl.data, format="turtle")
        from_jsonld = expand(doc.get_json(), context_doc)
        if not isomorphic(from_turtle, from_jsonld):
            a, b = to_isomorphic(from_turtle), to_isomorphic(from_jsonld)
            missing, extra = sorted(a - b)[:5], sorted(b - a)[:5]
            pytest.fail(
                f"{kind} {path}: {len(a - b)} missing, e.g. {missing}; "
                f"{len(b - a)} extra, e.g. {extra}"
            )
        assert len(from_turtle) > 3, (kind, path)


def test_a_dpg_is_one_object_with_its_parts_nested(full_client, full_settings):
    (iri,) = _select(
        full_client,
        f"SELECT ?x {{ ?x a <{DPG}DigitalPublicGood> ; "
        f"<{DPG}indicatorAnswer> ?a ; <{DPG}licenseDeclaration> ?l"
        " } ORDER BY ?x LIMIT 1",
    )
    doc = full_client.get(
        "/id/" + iri[len(full_settings.base_iri) :], headers={"Accept": "application/ld+json"}
    ).get_json()
    assert "@graph" not in doc and doc["@id"] == iri
    assert "DigitalPublicGood" in doc["@type"] and "type" not in doc
    answers = doc["indicatorAnswers"]
    assert answers and all(
        a["@id"].startswith(iri + "#") and "answersIndicator" in a for a in answers
    )
    assert all(d["@id"].startswith(iri + "#") for d in doc["licenseDeclaration"])
    assert doc["stage"]["@id"] == "dpg:DPGStage" and doc["stage"]["prefLabel"]["en"]
