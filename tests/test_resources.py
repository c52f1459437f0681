"""Dereferenceable IRIs over HTTP: content negotiation, suffixes, caching, alternates, 404s."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest
import requests
from pyld import jsonld

from tests.web_fixtures import *
from tests.web_fixtures import DPG, RESOURCES

FORMATS = {  # media type -> (suffix, pyoxigraph format or None for JSON-LD)
    "text/turtle": (".ttl", ox.RdfFormat.TURTLE),
    "application/n-triples": (".nt", ox.RdfFormat.N_TRIPLES),
    "application/rdf+xml": (".rdf", ox.RdfFormat.RDF_XML),
    "application/ld+json": (".jsonld", None),
}
KINDS = sorted(RESOURCES)


def jsonld_triples(doc: dict, live_url: str) -> set[ox.Triple]:
    """Expand with pyld, the context fetched from the server under test (no other network)."""
    context = requests.get(live_url + "/context.jsonld", timeout=10).json()

    def loader(url, options=None):
        if url.endswith("/context.jsonld"):
            return {"contextUrl": None, "documentUrl": url, "document": context}
        raise AssertionError(f"the document needs {url}")

    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": loader})
    return _triples(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))


def _triples(quads) -> set[ox.Triple]:
    """Triples (pyoxigraph's parsers give quads, which never equal triples)."""
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def triples_of(resp: requests.Response, media_type: str, live_url: str) -> set[ox.Triple]:
    fmt = FORMATS[media_type][1]
    if fmt is None:
        return jsonld_triples(resp.json(), live_url)
    return _triples(ox.parse(resp.content, format=fmt))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("media_type", sorted(FORMATS))
def test_accept_and_suffix_give_the_same_graph(live_url, kind, media_type):
    iri, path = RESOURCES[kind]
    by_accept = requests.get(live_url + path, headers={"Accept": media_type}, timeout=10)
    assert by_accept.status_code == 200
    assert by_accept.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in by_accept.headers["Vary"]
    by_suffix = requests.get(live_url + path + FORMATS[media_type][0], timeout=10)
    assert by_suffix.status_code == 200
    assert by_suffix.headers["Content-Type"].split(";")[0] == media_type
    graph = triples_of(by_accept, media_type, live_url)
    assert graph == triples_of(by_suffix, media_type, live_url)
    subject = ox.NamedNode(iri)
    assert any(t.subject == subject for t in graph), f"{iri} not described"


@pytest.mark.parametrize("kind", KINDS)
def test_browsers_get_html_with_alternates(live_url, kind):
    iri, path = RESOURCES[kind]
    resp = requests.get(live_url + path, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    links = _links(resp.text)
    alternates = {a["type"]: a["href"] for a in links if a.get("rel") == "alternate"}
    assert set(alternates) == set(FORMATS)
    for mt, href in alternates.items():
        alt = requests.get(live_url + href, timeout=10)
        assert alt.headers["Content-Type"].split(";")[0] == mt
    assert iri in resp.text


@pytest.mark.parametrize("kind", KINDS)
def test_link_headers_name_every_other_format(live_url, kind):
    _, path = RESOURCES[kind]
    resp = requests.get(live_url + path, headers={"Accept": "text/turtle"}, timeout=10)
    links = requests.utils.parse_header_links(resp.headers["Link"])
    types = {link["type"]: link["url"] for link in links if link["rel"] == "alternate"}
    assert set(types) == {"text/html", "application/ld+json", "application/n-triples",
                          "application/rdf+xml"}
    assert types["application/ld+json"] == path + ".jsonld"


@pytest.mark.parametrize("kind", KINDS)
def test_conditional_requests_get_304(live_url, kind):
    _, path = RESOURCES[kind]
    url, accept = live_url + path, {"Accept": "application/ld+json"}
    first = requests.get(url, headers=accept, timeout=10)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = requests.get(url, headers={**accept, "If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    since = requests.get(url, headers={**accept, "If-Modified-Since": modified}, timeout=10)
    assert since.status_code == 304
    earlier = format_datetime(parsedate_to_datetime(modified).replace(year=2000), usegmt=True)
    assert requests.get(url, headers={**accept, "If-Modified-Since": earlier},
                        timeout=10).status_code == 200
    # Another representation of the same resource is another entity.
    ttl = requests.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag}, timeout=10)
    assert ttl.status_code == 200 and ttl.headers["ETag"] != etag


def test_unknown_iris_are_404_in_the_format_asked_for(live_url):
    html = requests.get(live_url + "/id/dpg/no-such-thing", headers={"Accept": "text/html"},
                        timeout=10)
    assert html.status_code == 404 and html.headers["Content-Type"].startswith("text/html")
    assert requests.get(live_url + "/sdg/99.ttl", timeout=10).status_code == 404
    js = requests.get(live_url + "/id/org/nobody", headers={"Accept": "application/json"},
                      timeout=10)
    assert js.status_code == 404 and "json" in js.headers["Content-Type"]
    js.json()


def test_the_base_iri_is_what_the_path_maps_to(client, web_settings, monkeypatch):
    """/id/<path> is base_iri + path: another base finds nothing under the old IRIs."""
    from dpgkg.web import common

    monkeypatch.setattr(common, "settings",
                        lambda: web_settings.with_(base_iri="https://example.org/kg/"))
    assert client.get("/id/dpg/healthapp", headers={"Accept": "text/turtle"}).status_code == 404


def test_dpg_jsonld_is_one_nested_object(live_url, web_settings):
    doc = requests.get(live_url + "/id/dpg/healthapp.jsonld", timeout=10).json()
    # the context at the site's public root (no public_url set: where /id/ documents of
    # the base IRI live), not at whatever host the request named
    assert web_settings.public_url is None
    assert doc["@context"] == web_settings.base_iri.removesuffix("id/") + "context.jsonld"
    assert doc["@id"] == DPG and doc["name"] == "HealthApp"
    assert "DigitalPublicGood" in doc["@type"] and "type" not in doc
    assert doc["solutionType"] == "Software"
    (lic,) = doc["licenses"]
    assert lic["@id"] == "spdx:MIT" and lic["spdxId"] == "MIT" and lic["osiApproved"] is True
    (sdg,) = doc["sdgs"]
    assert sdg["@id"] == "sdg:3" and sdg["prefLabel"]["en"].startswith("Ensure healthy lives")
    (relevance,) = doc["sdgRelevance"]
    assert "Kenya" in relevance["evidenceText"] and relevance["goal"] == "sdg:3"
    assert doc["ownedBy"]["name"] == "Open Health Org"
    assert doc["repositories"] == ["https://github.com/example/healthapp"]
    assert [s["prefLabel"]["en"] for s in doc["sectors"]] == ["Health"]
    assert [c["prefLabel"]["en"] for c in doc["deploymentCountries"]] == ["Kenya"]
    assert "developmentCountries" not in doc


@pytest.mark.parametrize("kind", KINDS)
def test_jsonld_expands_to_the_turtle(live_url, kind):
    """pyld, with the published context, gives exactly the Turtle's triples."""
    _, path = RESOURCES[kind]
    from_jsonld = triples_of(requests.get(live_url + path + ".jsonld", timeout=10),
                             "application/ld+json", live_url)
    from_turtle = triples_of(requests.get(live_url + path + ".ttl", timeout=10),
                             "text/turtle", live_url)
    assert from_jsonld == from_turtle


def test_description_has_hash_parts_and_linked_labels(live_url):
    ttl = requests.get(live_url + "/id/dpg/healthapp.ttl", timeout=10)
    graph = _triples(ox.parse(ttl.content, format=ox.RdfFormat.TURTLE))
    subjects = {t.subject.value for t in graph}
    assert {DPG + "#sdg-3", DPG + "#license-MIT", DPG + "#indicator-3"} <= subjects
    names = {(t.subject.value, t.object.value) for t in graph
             if t.predicate.value == "http://schema.org/name"}
    assert ("https://w3id.org/dpgkg/id/org/open-health-org", "Open Health Org") in names


def test_ontology_shapes_and_context(live_url):
    page = requests.get(live_url + "/ontology", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200 and 'id="DigitalPublicGood"' in page.text
    onto = _triples(ox.parse(requests.get(live_url + "/ontology.ttl", timeout=10).content,
                        format=ox.RdfFormat.TURTLE))
    assert ox.Triple(ox.NamedNode("https://w3id.org/dpgkg/ontology#DigitalPublicGood"),
                     ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                     ox.NamedNode("https://w3id.org/dpgkg/ontology#Solution")) in onto
    shapes = requests.get(live_url + "/shapes", headers={"Accept": "application/n-triples"},
                          timeout=10)
    assert shapes.status_code == 200 and "shacl#NodeShape" in shapes.text
    ctx = requests.get(live_url + "/context.jsonld", timeout=10)
    assert ctx.headers["Content-Type"].startswith("application/ld+json")
    assert "@context" in ctx.json()


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "link":
            self.links.append(dict(attrs))


def _links(html: str) -> list[dict]:
    p = _LinkParser()
    p.feed(html)
    return p.links
