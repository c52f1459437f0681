"""The DCAT catalogue, VoID, sitemap and CodeMeta: checked as graphs, and against DCAT-AP 3."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

from dpgkg.config import DEFAULT_BASE_IRI, Settings
from dpgkg.publish import catalogue as cat
from dpgkg.publish.dumps import after_build
from dpgkg.store import open_store
from tests.conftest import NO_SHARED, SHARED, load_fixture_store

DCAT_AP = SHARED / "dcat-ap"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDXT = Namespace("http://spdx.org/rdf/terms#")
VOID = Namespace("http://rdfs.org/ns/void#")
SCHEMA = Namespace("http://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
ID = DEFAULT_BASE_IRI
HEALTHAPP = URIRef(ID + "dpg/healthapp")
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def make_catalogue_app(settings: Settings):
    """The real app (its catalogue blueprint among the others) over `settings`' store."""
    from dpgkg.web import create_app

    # The public URL the test client's requests reach (its Host is "localhost"): the
    # catalogue's absolute URLs come from the settings, never from the Host header.
    return create_app(settings.with_(public_url="http://localhost/"), {"TESTING": True})


def publish(settings: Settings) -> None:
    """What the build does after a swap: dumps and the change feed of the version served."""
    after_build(settings, SimpleNamespace(version=open_store(settings.store).version(), extra={}))


@pytest.fixture(scope="module")
def cat_settings(tmp_path_factory) -> Settings:
    settings = load_fixture_store(tmp_path_factory.mktemp("catalogue-store"))
    publish(settings)
    return settings


@pytest.fixture(scope="module")
def client(cat_settings):
    return make_catalogue_app(cat_settings).test_client()


def parse(resp, fmt: str | None = None) -> rdflib.Graph:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    fmt = fmt or {"text/turtle": "turtle", "application/ld+json": "json-ld",
                  "application/rdf+xml": "xml"}[resp.mimetype]
    return rdflib.Graph().parse(data=resp.get_data(), format=fmt)


def without_paging(g: rdflib.Graph) -> rdflib.Graph:
    """The graph less the paging links, which keep the suffix the client asked with."""
    out = rdflib.Graph()
    for t in g:
        if not any("page=" in str(x) for x in (t[0], t[2])):
            out.add(t)
    return out


def shapes(*names: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for name in names:
        g.parse(DCAT_AP / name, format="turtle")
    return g


def shacl_results(data: rdflib.Graph, shapes_graph: rdflib.Graph) -> list[tuple[str, str, str]]:
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes_graph, inference="none",
                                    allow_warnings=True)
    return [(str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
             str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultMessage)))
            for r in report.subjects(RDF.type, SH.ValidationResult)]


def violations(data: rdflib.Graph) -> list:
    if not DCAT_AP.is_dir():
        pytest.skip(f"the DCAT-AP shapes: {NO_SHARED}")
    out = []
    for names in (("dcat-ap-SHACL.ttl",), ("shapes.ttl", "range.ttl")):
        out += [r for r in shacl_results(data, shapes(*names)) if r[0] == "Violation"]
    return out


# The catalogue over the small fixture graph

@pytest.mark.parametrize("how", [
    {"path": "/catalog"},
    {"path": "/catalog.ttl"},
    {"path": "/catalog.jsonld"},
    {"path": "/catalog.rdf"},
    {"path": "/catalog", "headers": {"Accept": "application/ld+json"}},
    {"path": "/catalog", "headers": {"Accept": "application/rdf+xml;q=0.9, text/html;q=0.1"}},
])
def test_catalogue_formats_give_the_same_graph(client, how):
    reference = without_paging(parse(client.get("/catalog.ttl")))
    resp = client.get(how["path"], headers=how.get("headers", {}))
    assert isomorphic(without_paging(parse(resp)), reference)
    assert "Vary" in resp.headers or how["path"] != "/catalog"


def test_catalogue_describes_itself(client):
    g = parse(client.get("/catalog.ttl"))
    (catalogue,) = g.subjects(RDF.type, DCAT.Catalog)
    for p in (DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.publisher):
        assert g.value(catalogue, p) is not None, p
    publisher = g.value(catalogue, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in g and g.value(publisher, FOAF.name)
    assert (g.value(catalogue, DCTERMS.license), RDF.type, DCTERMS.LicenseDocument) in g


def test_each_dpg_is_a_dcat_dataset(client):
    g = parse(client.get("/catalog.ttl"))
    assert (HEALTHAPP, RDF.type, DCAT.Dataset) in g
    assert (HEALTHAPP, RDF.type, SCHEMA.SoftwareSourceCode) in g  # alongside its schema.org type
    assert (URIRef(ID + "dpg/learnkit"), RDF.type, DCAT.Dataset) not in g  # a nominee, not a DPG
    assert str(g.value(HEALTHAPP, DCTERMS.title)) == "HealthApp"
    assert str(g.value(HEALTHAPP, DCTERMS.description)).startswith("An open health records")
    assert {str(k) for k in g.objects(HEALTHAPP, DCAT.keyword)} >= {"Health", "software"}
    goal = URIRef("http://metadata.un.org/sdg/3")
    assert (HEALTHAPP, DCAT.theme, goal) in g
    assert (goal, RDF.type, SKOS.Concept) in g and g.value(goal, SKOS.prefLabel)
    owner = URIRef(ID + "org/open-health-org")
    assert (HEALTHAPP, DCTERMS.publisher, owner) in g
    assert (HEALTHAPP, DCTERMS.creator, owner) in g
    assert (owner, RDF.type, FOAF.Agent) in g
    assert str(g.value(owner, FOAF.name)) == "Open Health Org"
    # the solution's own dates from the registry's history, never the build's time
    assert g.value(HEALTHAPP, DCTERMS.modified).toPython().isoformat() == "2024-03-15"
    assert g.value(HEALTHAPP, DCTERMS.issued).toPython().isoformat() == "2020-05-04"
    learnkit_in_graph = URIRef(ID + "dpg/learnkit")
    assert g.value(learnkit_in_graph, DCTERMS.modified) is None
    # its catalogue record, linked from the catalogue
    record = URIRef("http://localhost/catalog/dpg/healthapp")
    assert (URIRef(ID.removesuffix("id/") + "catalog"), DCAT.record, record) in g
    assert (record, RDF.type, DCAT.CatalogRecord) in g
    assert (record, FOAF.primaryTopic, HEALTHAPP) in g
    assert g.value(record, DCTERMS.modified).toPython().isoformat() == "2024-03-15"


def test_each_dpg_has_its_own_record(client):
    by_path = parse(client.get("/catalog/dpg/healthapp.ttl"))
    assert (HEALTHAPP, RDF.type, DCAT.Dataset) in by_path
    assert set(by_path.subjects(RDF.type, DCAT.Dataset)) == {HEALTHAPP}
    assert any(by_path.objects(HEALTHAPP, DCAT.distribution))
    # its catalogue record: DCAT-AP's recommended profile and change type (issued 2020,
    # modified 2024 in the fixture: Updated)
    record = by_path.value(predicate=FOAF.primaryTopic, object=HEALTHAPP)
    assert (record, RDF.type, DCAT.CatalogRecord) in by_path
    assert by_path.value(record, DCTERMS.conformsTo) == URIRef(
        "https://semiceu.github.io/DCAT-AP/releases/3.0.1/")
    assert by_path.value(record, URIRef("http://www.w3.org/ns/adms#status")) == URIRef(
        "http://purl.org/adms/changetype/Updated")
    moved = client.get("/catalog?id=healthapp")
    assert moved.status_code == 303 and moved.location.endswith("/catalog/dpg/healthapp")
    assert client.get("/catalog?id=learnkit").status_code == 404  # a nominee
    assert client.get("/catalog/dpg/learnkit.ttl").status_code == 404
    assert client.get("/catalog/dpg/nothing").status_code == 404
    dpg = client.get("/id/dpg/healthapp", headers={"Accept": "text/turtle"})
    described = [part for part in dpg.headers["Link"].split(", ") if "describedby" in part]
    assert any("/catalog/dpg/healthapp>" in p for p in described)
    assert any("/codemeta.json>" in p for p in described)


@pytest.mark.parametrize("path", ["/catalog", "/catalog.jsonld?page=1&page_size=1",
                                  "/catalog/dpg/healthapp", "/.well-known/void",
                                  "/sitemap.xml", "/changes", "/dumps/",
                                  "/id/dpg/healthapp/codemeta.json"])
def test_published_documents_answer_conditional_requests(client, path):
    first = client.get(path)
    assert first.status_code == 200, path
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    weak = "W/" + etag
    assert client.get(path, headers={"If-None-Match": weak}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_conditional_requests_for_what_does_not_exist_are_404(client):
    etag = client.get("/catalog/dpg/healthapp").headers["ETag"]
    for path in ["/catalog?page=99", "/catalog/dpg/nothing", "/id/dpg/nothing",
                 "/id/dpg/nothing/codemeta.json"]:
        resp = client.get(path, headers={"If-None-Match": "*",
                                         "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        assert resp.status_code == 404, path
    assert client.get("/catalog/dpg/nothing", headers={"If-None-Match": etag}).status_code == 404


def test_alternates_keep_the_page(client):
    resp = client.get("/catalog.ttl?page=1&page_size=2")
    assert resp.status_code == 200
    links = resp.headers["Link"].split(", ")
    assert links and all("?page=1&page_size=2>" in link for link in links)


def test_distributions(client):
    g = parse(client.get("/catalog.ttl"))
    dists = {str(g.value(d, DCAT.accessURL)): d for d in g.objects(HEALTHAPP, DCAT.distribution)}
    root = "http://localhost/"
    assert set(dists) == {root + "id/dpg/healthapp.jsonld", root + "id/dpg/healthapp.ttl",
                          root + "id/dpg/healthapp/codemeta.json",
                          "https://github.com/example/healthapp", "https://healthapp.example.org/"}
    jsonld = dists[root + "id/dpg/healthapp.jsonld"]
    media = g.value(jsonld, DCAT.mediaType)
    assert media == URIRef("https://www.iana.org/assignments/media-types/application/ld+json")
    assert (media, RDF.type, DCTERMS.MediaType) in g
    assert g.value(jsonld, DCAT.downloadURL) == URIRef(root + "id/dpg/healthapp.jsonld")
    assert g.value(jsonld, DCTERMS.format) is not None
    for d in dists.values():
        licence = g.value(d, DCTERMS.license)
        assert licence == URIRef("http://spdx.org/licenses/MIT")
        assert (licence, RDF.type, DCTERMS.LicenseDocument) in g


def test_catalogue_conforms_to_dcat_ap(client):
    g = parse(client.get("/catalog.ttl"))
    assert violations(g) == []


def test_whole_graph_dataset_with_dumps(client):
    g = parse(client.get("/catalog.ttl"))
    dump_dists = [d for d in g.subjects(DCAT.byteSize, None)]
    assert len(dump_dists) == 4
    index = client.get("/dumps/").get_json()
    by_url = {d["url"]: d for d in index["dumps"]}
    for d in dump_dists:
        info = by_url[str(g.value(d, DCAT.downloadURL))]
        assert int(g.value(d, DCAT.byteSize)) == info["bytes"]
        checksum = g.value(d, SPDXT.checksum)
        assert g.value(checksum, SPDXT.algorithm) == SPDXT.checksumAlgorithm_sha256
        assert str(g.value(checksum, SPDXT.checksumValue)) == info["sha256"]


def test_hydra_page_links():
    info = cat.PageInfo(number=2, size=10, total=25)
    g = rdflib.Graph().parse(data=cat.serialize(
        cat.hydra_triples(ox.NamedNode("http://x/catalog"), "http://h/catalog", info),
        ox.RdfFormat.TURTLE), format="turtle")
    (view,) = g.subjects(RDF.type, HYDRA.PartialCollectionView)
    assert str(view) == "http://h/catalog?page=2&page_size=10"
    assert str(g.value(view, HYDRA.first)) == "http://h/catalog?page=1&page_size=10"
    assert str(g.value(view, HYDRA.next)) == "http://h/catalog?page=3&page_size=10"
    assert str(g.value(view, HYDRA.last)) == "http://h/catalog?page=3&page_size=10"
    assert str(g.value(view, HYDRA.previous)) == "http://h/catalog?page=1&page_size=10"
    last = cat.hydra_triples(ox.NamedNode("http://x/c"), "http://h/c", cat.PageInfo(3, 10, 25))
    assert not [t for t in last if t.predicate.value == str(HYDRA.next)]


@pytest.mark.parametrize("query,status", [("page=0", 400), ("page=x", 400), ("page=9", 404),
                                          ("page_size=0", 400)])
def test_bad_paging(client, query, status):
    assert client.get(f"/catalog?{query}").status_code == status


@pytest.mark.parametrize("spdx_id,types", [
    ("MIT", ["Attribution"]), ("CC0-1.0", ["PublicDomain"]),
    ("GPL-3.0-only", ["ViralEffect-ShareAlike", "Attribution"]),
    ("CC-BY-NC-SA-4.0", ["NonCommercialUseOnly", "ViralEffect-ShareAlike", "Attribution"]),
    ("Made-Up-1.0", []),
])
def test_licence_types(spdx_id, types):
    assert cat.licence_types(spdx_id) == types


def test_primary_licence_prefers_one_ckan_knows():
    mit, ccby = "http://spdx.org/licenses/MIT", "http://spdx.org/licenses/CC-BY-4.0"
    assert cat.primary_licence([mit, ccby]) == ccby
    assert cat.primary_licence([mit]) == mit
    assert cat.primary_licence([]) is None


# VoID, sitemap, CodeMeta

def test_void(client, cat_settings):
    g = parse(client.get("/.well-known/void", headers={"Accept": "text/turtle"}))
    (ds,) = g.subjects(RDF.type, VOID.Dataset)
    store = open_store(cat_settings.store)
    distinct = {(q.subject, q.predicate, q.object)
                for q in store.oxigraph().quads_for_pattern(None, None, None, None)}
    assert int(g.value(ds, VOID.triples)) == len(distinct)
    for p in (VOID.entities, VOID.classes, VOID.properties):
        assert int(g.value(ds, p)) > 0
    assert str(g.value(ds, VOID.sparqlEndpoint)) == "http://localhost/sparql"
    assert str(g.value(ds, VOID.uriSpace)) == ID
    assert len(list(g.objects(ds, VOID.dataDump))) == 4
    partitions = {g.value(p, VOID["class"]): int(g.value(p, VOID.entities))
                  for p in g.objects(ds, VOID.classPartition)}
    assert partitions[URIRef("https://w3id.org/dpgkg/ontology#Solution")] == 2


def test_sitemap(client):
    resp = client.get("/sitemap.xml")
    assert resp.status_code == 200
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ElementTree.fromstring(resp.get_data())
    urls = {u.findtext("sm:loc", namespaces=ns): u.findtext("sm:lastmod", namespaces=ns)
            for u in root.findall("sm:url", ns)}
    assert urls["http://localhost/id/dpg/healthapp"] == "2024-03-15"  # its dct:modified
    assert "http://localhost/id/org/unicef" in urls
    assert not [u for u in urls if "#" in u or "/graph/" in u]


def test_sitemap_pages_resolve(client):
    root = ElementTree.fromstring(client.get("/sitemap.xml").get_data())
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    for loc in locs:
        assert client.get(loc.replace("http://localhost", "")).status_code == 200, loc


def test_codemeta(client):
    resp = client.get("/id/dpg/healthapp/codemeta.json")
    assert resp.status_code == 200 and resp.mimetype == "application/ld+json"
    doc = resp.get_json()
    assert doc["@context"] == "https://w3id.org/codemeta/3.0"
    assert doc["@type"] == "SoftwareSourceCode"
    assert doc["name"] == "HealthApp"
    assert doc["license"] == "http://spdx.org/licenses/MIT"
    assert doc["codeRepository"] == "https://github.com/example/healthapp"
    assert doc["copyrightHolder"]["name"] == "Open Health Org"
    assert "Health" in doc["keywords"]
    # the solution's own dates, as dates (CodeMeta types them schema:Date)
    assert (doc["datePublished"], doc["dateModified"]) == ("2020-05-04", "2024-03-15")
    # content, not software; and an unknown id
    assert client.get("/id/dpg/learnkit/codemeta.json").status_code == 404
    assert client.get("/id/dpg/nothing-here/codemeta.json").status_code == 404


def test_codemeta_maintainer_is_codemetas_term(full_client):
    """maintainer is codemeta:maintainer in the CodeMeta 3 context, not schema:maintainer."""
    g = parse(full_client.get("/catalog.ttl?page_size=500"))
    with_maintainer = []
    for ds in g.subjects(RDF.type, SCHEMA.SoftwareSourceCode):
        doc = full_client.get(str(ds).replace(ID, "/id/") + "/codemeta.json").get_json()
        if "maintainer" in doc:
            with_maintainer.append(doc)
    assert with_maintainer, "some software DPG has a maintainer in the registry"
    assert all(m["name"] for d in with_maintainer
               for m in (d["maintainer"] if isinstance(d["maintainer"], list)
                         else [d["maintainer"]]))


def test_resource_page_embeds_schema_org(client):
    """extruct finds the schema.org object (licence, repository) in the resource page."""
    import extruct  # the test extra

    resp = client.get("/id/dpg/healthapp", headers={"Accept": "text/html"})
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    data = extruct.extract(resp.get_data(as_text=True), base_url="http://localhost/",
                           syntaxes=["json-ld"], uniform=True)
    objects = []
    for item in data["json-ld"]:
        objects += item.get("@graph", [item]) if isinstance(item, dict) else item
    found = [o for o in objects if "license" in o and "codeRepository" in o]
    assert found, json.dumps(objects)[:1000]
    assert "MIT" in json.dumps(found[0]["license"])
    assert "github.com/example/healthapp" in json.dumps(found[0]["codeRepository"])


# The catalogue of the full graph

@pytest.fixture(scope="module")
def full_client(full_settings):
    publish(full_settings)
    return make_catalogue_app(full_settings).test_client()


def follow_pages(client, url: str) -> list[rdflib.Graph]:
    pages = []
    while url:
        g = parse(client.get(url.replace("http://localhost", "")))
        pages.append(g)
        views = list(g.subjects(RDF.type, HYDRA.PartialCollectionView))
        assert len(views) == 1
        nxt = g.value(views[0], HYDRA.next)
        url = str(nxt) if nxt else None
        assert len(pages) < 50
    return pages


def test_full_catalogue_pages_cover_every_dpg(full_client, full_settings):
    pages = follow_pages(full_client, "/catalog.ttl?page_size=40")
    per_page = [set(g.subjects(RDF.type, DCAT.Dataset)) for g in pages]
    datasets = set().union(*per_page) - {URIRef("https://w3id.org/dpgkg/.well-known/void#dataset")}
    dpgs = {URIRef(i) for i in cat.dpg_iris(open_store(full_settings.store))}
    assert len(dpgs) > 100 and datasets == dpgs
    assert sum(len(p) for p in per_page) == len(dpgs) + 1  # no DPG on two pages


def test_full_catalogue_conforms_to_dcat_ap(full_client):
    g = parse(full_client.get("/catalog.ttl?page_size=500"))
    found = violations(g)
    assert found == [], found[:10]


def test_full_catalogue_licences_ckan_knows(full_client):
    g = parse(full_client.get("/catalog.ttl?page_size=500"))
    ckan = {URIRef(u) for u, _ in cat.CKAN_LICENCES.values()}
    with_ckan = {ds for ds, _, d in g.triples((None, DCAT.distribution, None))
                 if g.value(d, DCTERMS.license) in ckan}
    assert len(with_ckan) >= 20  # CC-BY, CC-BY-SA, CC0, ODbL... DPGs


def test_no_contact_data_in_the_catalogue(full_client):
    for path in ("/catalog.ttl?page_size=500", "/catalog.jsonld?page_size=500",
                 "/.well-known/void.ttl"):
        body = full_client.get(path).get_data()
        assert not EMAIL.findall(body), EMAIL.findall(body)[:5]


def test_dcat_ap_shapes_are_the_official_ones():
    if not DCAT_AP.is_dir():
        pytest.skip(NO_SHARED)
    assert {p.name for p in Path(DCAT_AP).glob("*.ttl")} >= {
        "dcat-ap-SHACL.ttl", "shapes.ttl", "range.ttl", "shapes_recommended.ttl"}


def test_openapi_description_is_valid_and_names_real_routes(client):
    from openapi_spec_validator import validate
    from werkzeug.exceptions import MethodNotAllowed, NotFound
    from werkzeug.routing import RequestRedirect

    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    adapter = client.application.url_map.bind("localhost")
    for path, ops in doc["paths"].items():
        concrete = path.replace("{path}", "dpg/healthapp").replace("{id}", "healthapp")
        for method in ops:
            try:
                adapter.match(concrete, method=method.upper())
            except (NotFound, MethodNotAllowed, RequestRedirect) as exc:
                pytest.fail(f"{method.upper()} {path}: {exc!r}")
