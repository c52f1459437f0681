"""What spreadsheets, API clients, CodeMeta tools and search engines get (issue 12, 5-6):
CSV of the browse list and of search results, search paging with a total, CodeMeta 3
that a JSON-LD processor reads without loss, schema.org that extruct finds with the
properties search engines document, and the OpenAPI description of all of it."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import html as lxml_html
from pyld import jsonld

from dpgkg.publish import table
from dpgkg.publish.dumps import after_build
from dpgkg.publish.search import MAX_PER_PAGE
from dpgkg.store import open_store
from tests.conftest import FIXTURES, load_fixture_store
from tests.web_fixtures import EXTRA_TRIG

ROOT = "http://localhost/"
ID = "https://w3id.org/dpgkg/id/"
HTML = {"Accept": "text/html"}
CODEMETA_CONTEXT = FIXTURES / "codemeta" / "codemeta-3.0.jsonld"
README = Path(__file__).resolve().parents[1] / "README.md"

# Beside mini.trig: a data DPG owned by a unit of UNICEF (which the organisations table
# ties to Wikidata), a DPG whose name a spreadsheet would run as a formula, HealthApp's
# documentation links (indicator 5) and an alias.
CONSUMER_TRIG = """
@prefix dpg: <https://w3id.org/dpgkg/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
@prefix spdx: <http://spdx.org/licenses/> .
@prefix sdg: <http://metadata.un.org/sdg/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/dpgkg/id/graph/nominees/opendata> {
  <https://w3id.org/dpgkg/id/dpg/opendata> a dpg:Solution, dpg:DigitalPublicGood, schema:Dataset ;
      schema:name "Open Clinic Data" ;
      schema:description "Anonymised counts of clinic visits, published monthly." ;
      schema:url <https://opendata.example.org/> ;
      schema:codeRepository <https://data.example.org/clinic-visits.csv> ;
      dpg:stage dpg:DPGStage ; dpg:solutionType dpg:Data ;
      dct:license spdx:CC-BY-4.0 ; dpg:relevantToSDG sdg:3 ;
      dpg:ownedBy <https://w3id.org/dpgkg/id/org/unicef-venture-fund> .
  <https://w3id.org/dpgkg/id/org/unicef-venture-fund> a dpg:Organisation ; schema:name "UNICEF Venture Fund" .
}
<https://w3id.org/dpgkg/id/graph/nominees/formula> {
  <https://w3id.org/dpgkg/id/dpg/formula> a dpg:Solution, dpg:DigitalPublicGood, schema:SoftwareSourceCode ;
      schema:name "=HYPERLINK(\\"http://evil.example\\", \\"click\\")" ;
      schema:description "-2+3 is what a spreadsheet would compute." ;
      dpg:stage dpg:DPGStage ; dpg:solutionType dpg:Software ; dct:license spdx:MIT .
}
<https://w3id.org/dpgkg/id/graph/nominees/healthapp> {
  <https://w3id.org/dpgkg/id/dpg/healthapp> schema:alternateName "HApp" ;
      dpg:indicatorAnswer <https://w3id.org/dpgkg/id/dpg/healthapp#indicator-5> .
  <https://w3id.org/dpgkg/id/dpg/healthapp#indicator-5> a dpg:IndicatorAnswer ;
      dpg:answersIndicator dpg:Indicator5 ; dpg:isDocumentationAvailable "Yes" ;
      dpg:documentationURL "https://docs.healthapp.example.org/", "see the wiki" .
}
<https://w3id.org/dpgkg/id/graph/organisations> {
  <https://w3id.org/dpgkg/id/org/unicef-venture-fund> a dpg:Organisation ; schema:name "UNICEF Venture Fund" ;
      schema:alternateName "UNICEF Ventures Fund" ; schema:url <https://www.unicef.org/innovation/> ;
      org:subOrganizationOf <https://w3id.org/dpgkg/id/org/unicef> ; schema:parentOrganization <https://w3id.org/dpgkg/id/org/unicef> ;
      owl:sameAs <http://www.wikidata.org/entity/Q00000001> .
}
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The real app over mini.trig and the graphs above, with the dumps a build writes."""
    from dpgkg.web import create_app

    tmp = tmp_path_factory.mktemp("consumers")
    trig = tmp / "consumers.trig"
    trig.write_text((FIXTURES / "mini.trig").read_text() + EXTRA_TRIG + CONSUMER_TRIG)
    settings = load_fixture_store(tmp / "store", trig)
    after_build(settings, SimpleNamespace(version=open_store(settings.store).version(),
                                          extra={}))
    return create_app(settings.with_(public_url=ROOT), {"TESTING": True}).test_client()


def rows(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "text/csv" and resp.mimetype_params["charset"] == "utf-8"
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def html(resp):
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    return lxml_html.fromstring(resp.get_data(as_text=True))


def links(resp) -> dict[str, str]:
    """rel -> URL of the response's Link header."""
    found = {}
    for part in resp.headers.get("Link", "").split(", "):
        if m := re.match(r'<([^>]*)>; rel="([^"]+)"', part):
            found[m.group(2)] = m.group(1)
    return found


# CSV -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("a=1", "a=1"), ("", ""), (None, ""), (3, "3"),
])
def test_cells_a_spreadsheet_would_run_are_text(value, cell):
    assert table.guard(value) == cell


def test_browse_list_as_csv(client):
    by_suffix = client.get("/dpgs.csv")
    by_accept = client.get("/dpgs", headers={"Accept": "text/csv"})
    table_rows = rows(by_suffix)
    assert by_accept.get_data() == by_suffix.get_data()
    assert list(table_rows[0]) == list(table.SOLUTION_COLUMNS)
    page = html(client.get("/dpgs", headers=HTML))
    shown = [" ".join(a.text_content().split()) for a in page.xpath('//li/a[@class="name"]')]
    formula = next(r for r in table_rows if r["iri"] == ID + "dpg/formula")
    # the browse list's rows, by name, in its order (the guard's quote aside)
    assert [r["name"].removeprefix("'") for r in table_rows] == shown
    assert formula["name"].startswith("'=HYPERLINK(") and formula["description"][0] == "'"
    health = next(r for r in table_rows if r["iri"] == ID + "dpg/healthapp")
    assert health | {"description": ""} == {
        "name": "HealthApp", "iri": ID + "dpg/healthapp", "page": ROOT + "id/dpg/healthapp",
        "type": "Software", "stage": "DPG", "description": "", "licences": "MIT", "sdgs": "3",
        "owners": "Open Health Org", "maintainers": "", "funders": "",
        "website": "https://healthapp.example.org/",
        "repositories": "https://github.com/example/healthapp", "sectors": "Health",
        "issued": "2020-05-04", "modified": "2024-03-15"}
    # the filters apply; every stage lists the nominee too
    assert [r["name"] for r in rows(client.get("/dpgs.csv?type=Data"))] == ["Open Clinic Data"]
    every = rows(client.get("/dpgs.csv?stage=all"))
    assert {"LearnKit", "HealthApp"} <= {r["name"] for r in every}
    # people find it: a visible link and a <link rel="alternate" type="text/csv">
    (href,) = page.xpath('//a[@id="csv-link"]/@href')
    (alt,) = page.xpath('//link[@rel="alternate"][@type="text/csv"]/@href')
    assert href == alt and client.get(href).get_data() == by_suffix.get_data()
    assert "/dpgs.csv?type=Data" in html(client.get("/dpgs?type=Data", headers=HTML)) \
        .xpath('//a[@id="csv-link"]/@href')


def test_search_as_csv_holds_every_match(client):
    every = client.get(f"/search?q=open&per_page={MAX_PER_PAGE}&format=json").get_json()
    assert every["total"] >= 3
    for resp in (client.get("/search.csv?q=open"),
                 client.get("/search?q=open&per_page=1", headers={"Accept": "text/csv"}),
                 client.get("/search?q=open&format=csv")):
        got = rows(resp)
        assert list(got[0]) == list(table.SEARCH_COLUMNS)
        assert [(r["name"], r["iri"], r["kind"]) for r in got] == [
            (h["name"], h["iri"], h["kind"]) for h in every["results"]]
    assert rows(client.get("/search.csv?q=zzzqqq")) == []


@pytest.mark.parametrize("path", ["/dpgs.csv?type=Data", "/search.csv?q=open",
                                  "/search?q=open&format=json&per_page=1"])
def test_tables_answer_conditional_requests(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    for header in ({"If-None-Match": etag}, {"If-None-Match": "W/" + etag},
                   {"If-Modified-Since": first.headers["Last-Modified"]}):
        assert client.get(path, headers=header).status_code == 304, header
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # another filter or page is another document; past the last page, 404 before 304
    assert client.get(path + "&x=1").headers["ETag"] != etag
    assert client.get("/search?q=open&format=json&page=99",
                      headers={"If-None-Match": "*"}).status_code == 404


# Search paging -------------------------------------------------------------------------

def test_search_pages_with_a_total_and_links(client):
    every = client.get(f"/search?q=open&per_page={MAX_PER_PAGE}&format=json").get_json()
    total = every["total"]
    seen, url, pages = [], "/search?q=open&per_page=1&format=json", 0
    while url:
        resp = client.get(url.removeprefix(ROOT.rstrip("/")))
        js = resp.get_json()
        pages += 1
        assert (js["total"], js["per_page"], js["pages"], js["page"]) == (total, 1, total, pages)
        seen += [r["iri"] for r in js["results"]]
        rel = links(resp)
        assert ("prev" in rel) == (pages > 1) and rel["last"].endswith(f"page={total}")
        url = rel.get("next")
        assert pages <= total
    assert seen == [r["iri"] for r in every["results"]]
    first = html(client.get("/search?q=open&per_page=2", headers=HTML))
    assert first.xpath('//*[@id="total"]/text()') == [str(total)]
    assert len(first.xpath('//ol[contains(@class, "results")]/li')) == 2
    resp = client.get("/search?q=open&per_page=2", headers=HTML)
    assert links(resp)["next"] == ROOT + "search?q=open&per_page=2&page=2"
    assert first.xpath('//a[@rel="next"]/@href') == ["/search?q=open&per_page=2&page=2"]
    assert client.get(f"/search?q=open&per_page={MAX_PER_PAGE}").status_code == 200
    assert client.get(f"/search?q=open&page={total + 1}&per_page=1").status_code == 404


@pytest.mark.parametrize("query", [
    "page=0", "page=x", "page=-1", "page=1.5", "per_page=0", "per_page=x",
    f"per_page={MAX_PER_PAGE + 1}", "per_page=99999999999"])
def test_bad_paging_values_are_400(client, query):
    resp = client.get("/search?q=open&" + query, headers={"Accept": "application/json"})
    assert resp.status_code == 400, query
    assert resp.get_json()["error"]


def test_search_results_are_named_as_in_the_browse_list(client):
    for row in rows(client.get("/dpgs.csv?stage=all")):
        name = row["name"].removeprefix("'")
        js = client.get("/search", query_string={"q": name, "format": "json"}).get_json()
        hit = next(r for r in js["results"] if r["iri"] == row["iri"])
        assert (hit["name"], hit["page"]) == (name, row["page"])
    # an alias finds the DPG, under its name
    js = client.get("/search?q=HApp&format=json").get_json()
    assert js["results"][0]["name"] == "HealthApp"


# CodeMeta ------------------------------------------------------------------------------

def _expand(doc: dict) -> dict:
    """`doc` expanded by pyld against the local copy of the CodeMeta 3 context."""
    context = json.loads(CODEMETA_CONTEXT.read_text())

    def loader(url, options=None):
        assert url.rstrip("/") == "https://w3id.org/codemeta/3.0", url
        return {"contextUrl": None, "documentUrl": url, "document": context}

    (expanded,) = jsonld.expand(doc, {"documentLoader": loader})
    return expanded


def test_codemeta_loses_nothing_to_the_codemeta_3_context(client):
    doc = client.get("/id/dpg/healthapp/codemeta.json").get_json()
    expanded = _expand(doc)
    keys = set(doc) - {"@context"}
    assert len(expanded) == len(keys), (sorted(keys), sorted(expanded))
    s = "http://schema.org/"
    assert expanded[s + "alternateName"] == [{"@value": "HApp"}]
    for key, value in (("datePublished", "2020-05-04"), ("dateModified", "2024-03-15")):
        assert expanded[s + key] == [{"@type": s + "Date", "@value": value}]
    (authors,) = expanded[s + "author"]
    assert [a["@id"] for a in authors["@list"]] == [ID + "org/open-health-org"]
    assert expanded[s + "copyrightHolder"][0]["@id"] == ID + "org/open-health-org"
    # the documentation links of the indicator 5 answer, not its free text
    assert expanded[s + "softwareHelp"] == [{"@value": "https://docs.healthapp.example.org/"}]
    assert expanded[s + "license"] == [{"@id": "http://spdx.org/licenses/MIT"}]
    assert expanded[s + "codeRepository"] == [{"@id": "https://github.com/example/healthapp"}]
    assert "programmingLanguage" not in doc and "dateCreated" not in doc  # not known


def test_dpg_page_links_its_codemeta(client):
    resp = client.get("/id/dpg/healthapp", headers=HTML)
    page = html(resp)
    (head,) = page.xpath('//head/link[@rel="describedby"]/@href')
    (visible,) = page.xpath('//a[@id="codemeta-link"]/@href')
    assert head == visible == "/id/dpg/healthapp/codemeta.json"
    assert client.get(visible).get_json()["name"] == "HealthApp"
    described = [p for p in resp.headers["Link"].split(", ") if 'rel="describedby"' in p]
    assert any(p.startswith(f"<{ROOT}id/dpg/healthapp/codemeta.json>") for p in described)
    data = html(client.get("/id/dpg/opendata", headers=HTML))  # data: no CodeMeta
    assert not data.xpath('//link[@rel="describedby"]') and not data.xpath('//*[@id="codemeta-link"]')


# schema.org, as extruct reads it -------------------------------------------------------

def schema_objects(client, path: str) -> list[dict]:
    import extruct  # the test extra

    resp = client.get(path, headers=HTML)
    assert resp.status_code == 200, path
    data = extruct.extract(resp.get_data(as_text=True), base_url=ROOT, syntaxes=["json-ld"])
    return data["json-ld"]


def the(objects: list[dict], kind: str) -> dict:
    found = [o for o in objects if kind in ([o["@type"]] if isinstance(o["@type"], str)
                                            else o["@type"])]
    assert len(found) == 1, objects
    return found[0]


def test_software_dpg_is_a_software_application(client):
    app = the(schema_objects(client, "/id/dpg/healthapp"), "SoftwareApplication")
    assert "SoftwareSourceCode" in app["@type"]
    assert (app["name"], app["url"]) == ("HealthApp", "https://healthapp.example.org/")
    assert app["description"] and app["license"] == "http://spdx.org/licenses/MIT"
    assert app["offers"]["price"] == 0 and app["offers"]["@type"] == "Offer"
    assert app["applicationCategory"] == "Health"
    assert [a["name"] for a in app["author"]] == [a["name"] for a in app["creator"]] == [
        "Open Health Org"]
    assert app["codeRepository"] == "https://github.com/example/healthapp"
    assert app["softwareHelp"] == [{"@type": "CreativeWork",
                                    "url": "https://docs.healthapp.example.org/"}]


def test_data_dpg_is_a_dataset_with_its_downloads(client):
    ds = the(schema_objects(client, "/id/dpg/opendata"), "Dataset")
    assert ds["name"] == "Open Clinic Data" and len(ds["description"]) >= 50
    assert ds["license"] == "http://spdx.org/licenses/CC-BY-4.0"
    assert ds["creator"] == [{"@type": "Organization", "@id": ID + "org/unicef-venture-fund",
                              "name": "UNICEF Venture Fund"}]
    assert ds["distribution"] == [{"@type": "DataDownload",
                                   "contentUrl": "https://data.example.org/clinic-visits.csv"}]
    assert "offers" not in ds and "codeRepository" not in ds


def test_organisation_with_its_parent_and_identity(client):
    org = the(schema_objects(client, "/id/org/unicef-venture-fund"), "Organization")
    assert org["name"] == "UNICEF Venture Fund"
    assert org["alternateName"] == ["UNICEF Ventures Fund"]
    assert org["url"] == "https://www.unicef.org/innovation/"
    assert org["parentOrganization"] == {"@type": "Organization", "@id": ID + "org/unicef",
                                         "name": "UNICEF"}
    assert org["sameAs"] == "http://www.wikidata.org/entity/Q00000001"


def test_home_page_dataset_names_its_licence_creator_and_dumps(client):
    ds = the(schema_objects(client, "/"), "Dataset")
    assert ds["license"] == "http://spdx.org/licenses/CC-BY-4.0"
    assert ds["creator"]["name"] and ds["creator"]["url"] == ROOT
    listed = client.get("/dumps/").get_json()["dumps"]
    assert listed and {d["contentUrl"] for d in ds["distribution"]} == {d["url"] for d in listed}
    for d in ds["distribution"]:
        assert d["contentUrl"].startswith(ROOT + "dumps/")
        resp = client.get(d["contentUrl"].removeprefix(ROOT.rstrip("/")))
        assert resp.status_code == 200 and resp.mimetype == d["encodingFormat"]
        resp.close()
    action = ds["potentialAction"]
    assert action["@type"] == "SearchAction" and action["query-input"] == "required name=q"
    found = client.get(action["target"].replace("{q}", "health").removeprefix(
        ROOT.rstrip("/")), headers={"Accept": "application/json"}).get_json()
    assert found["total"] >= 1


# OpenAPI -------------------------------------------------------------------------------

def test_openapi_describes_the_lists_and_their_limits(client):
    from openapi_spec_validator import validate

    doc = client.get("/openapi.json").get_json()
    validate(doc)
    paths = doc["paths"]
    assert {"/dpgs", "/dpgs.csv", "/search", "/search.csv"} <= set(paths)
    params = {p["name"]: p for p in paths["/search"]["get"]["parameters"]}
    assert params["per_page"]["schema"]["maximum"] == MAX_PER_PAGE
    assert params["per_page"]["schema"]["default"] == 50
    assert "text/csv" in paths["/search"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in paths["/dpgs"]["get"]["responses"]["200"]["content"]
    assert str(MAX_PER_PAGE) in doc["info"]["description"]
    # the stated limit is the one applied
    assert client.get(f"/search?q=a&per_page={MAX_PER_PAGE}").status_code == 200
    assert client.get(f"/search?q=a&per_page={MAX_PER_PAGE + 1}").status_code == 400
    readme = README.read_text()
    assert "/dpgs.csv" in readme and "per_page" in readme and str(MAX_PER_PAGE) in readme


# The full graph (slow: built once per session from ../shared) ---------------------------

@pytest.fixture(scope="module")
def full_client(full_settings):
    from dpgkg.web import create_app

    return create_app(full_settings.with_(public_url=ROOT), {"TESTING": True}).test_client()


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def test_full_csv_is_the_browse_list(full_client):
    for query in ("", "?stage=all", "?type=Data"):
        resp = full_client.get("/dpgs.csv" + query)
        body = resp.get_data(as_text=True)
        got = rows(resp)
        total = html(full_client.get("/dpgs" + query, headers=HTML)).xpath(
            '//*[@id="total"]/text()')
        assert [str(len(got))] == total, query
        assert len({r["iri"] for r in got}) == len(got)
        assert not EMAIL.findall(body), EMAIL.findall(body)[:3]
        for r in got:
            assert not r["name"].startswith(table.FORMULA_STARTS)
    dpgs = rows(full_client.get("/dpgs.csv"))
    assert len(dpgs) > 100 and sum(bool(r["issued"]) for r in dpgs) > 100


def test_full_codemeta_of_every_software_dpg_loses_nothing(full_client):
    software = [r for r in rows(full_client.get("/dpgs.csv?stage=all"))
                if r["type"] in ("Software", "AIModel")]
    assert len(software) > 100
    for r in software:
        doc = full_client.get(r["page"].removeprefix(ROOT.rstrip("/")) + "/codemeta.json")
        assert doc.status_code == 200, r["iri"]
        doc = doc.get_json()
        assert len(_expand(doc)) == len(set(doc) - {"@context"}), r["iri"]
        for key in ("datePublished", "dateModified"):
            assert key not in doc or re.fullmatch(r"\d{4}-\d\d-\d\d", doc[key]), doc[key]
    helped = [r for r in software[:200] if "softwareHelp" in full_client.get(
        r["page"].removeprefix(ROOT.rstrip("/")) + "/codemeta.json").get_json()]
    assert helped  # the registry's documentation links reach CodeMeta


def test_full_schema_org_of_real_pages(full_client):
    dpgs = rows(full_client.get("/dpgs.csv"))
    data = next(r for r in dpgs if r["type"] == "Data" and r["repositories"])
    ds = the(schema_objects(full_client, data["page"].removeprefix(ROOT.rstrip("/"))),
             "Dataset")
    assert ds["creator"] and ds["license"] and ds["distribution"]
    assert {d["contentUrl"] for d in ds["distribution"]} == set(
        data["repositories"].split(table.SEPARATOR))
    soft = next(r for r in dpgs if r["type"] == "Software" and r["sectors"] and r["owners"])
    app = the(schema_objects(full_client, soft["page"].removeprefix(ROOT.rstrip("/"))),
              "SoftwareApplication")
    assert app["offers"]["price"] == 0 and app["applicationCategory"]
    assert [a["name"] for a in app["author"]] == soft["owners"].split(table.SEPARATOR)


def test_full_home_and_organisation_schema_org(full_client, full_settings):
    home = the(schema_objects(full_client, "/"), "Dataset")
    listed = full_client.get("/dumps/").get_json()["dumps"]
    assert listed, "the build writes dumps"
    assert {d["contentUrl"] for d in home["distribution"]} == {d["url"] for d in listed}
    st = open_store(full_settings.store)
    (unit,) = st.select("""SELECT ?o WHERE { ?o <http://schema.org/parentOrganization> ?p }
                           ORDER BY ?o LIMIT 1""")
    org = the(schema_objects(full_client, unit["o"].value.replace(ID, "/id/")), "Organization")
    assert org["name"] and org["parentOrganization"]["name"]
