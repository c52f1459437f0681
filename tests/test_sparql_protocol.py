"""The SPARQL 1.1 Protocol over real HTTP, case by case (after the W3C protocol tests).

Every case runs against `dpgkg serve` over tests/fixtures/mini.trig and
asserts on parsed results: SPARQL results through pyoxigraph/csv, graphs through
rdflib.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
import requests

from dpgkg.config import Settings
from dpgkg.publish import formats
from dpgkg.publish.sparql import ServiceRefused, UpdateRefused, check_query, inspect_query
from tests.webserver import live_server_url  # noqa: F401  (the session fixture)

ID = "https://w3id.org/dpgkg/id/"
COUNTRIES, LICENCES = ID + "graph/countries", ID + "graph/licences"
HEALTHAPP_GRAPH = ID + "graph/nominees/healthapp"
NAMES = "SELECT DISTINCT ?name { ?s <http://schema.org/name> ?name }"
ALL_NAMES = {"UNICEF", "Digital Public Goods Alliance", "Open Health Org", "LearnKit",
             "HealthApp"}
COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{COUNTRIES}> {{ ?s ?p ?o }} }}"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.fixture(scope="module")
def url(live_server_url):  # noqa: F811
    return live_server_url + "/sparql"


def solutions(resp: requests.Response) -> list[dict[str, str]]:
    """Rows of a SELECT response in any result format, as {var: lexical value}."""
    assert resp.status_code == 200, resp.text
    mt = resp.headers["Content-Type"].split(";")[0]
    if mt == "text/csv":
        return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8"))))
    fmt = formats.by_media_type(mt, formats.RESULT_FORMATS)
    result = ox.parse_query_results(resp.content, fmt.ox_format)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def boolean(resp: requests.Response) -> bool:
    assert resp.status_code == 200, resp.text
    mt = resp.headers["Content-Type"].split(";")[0]
    fmt = formats.by_media_type(mt, formats.RESULT_FORMATS)
    return bool(ox.parse_query_results(resp.content, fmt.ox_format))


def graph(resp: requests.Response) -> rdflib.Graph:
    assert resp.status_code == 200, resp.text
    mt = resp.headers["Content-Type"].split(";")[0]
    fmt = formats.by_media_type(mt, formats.RDF_FORMATS)
    rdflib_format = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt",
                     "rdfxml": "xml", "trig": "trig", "nquads": "nquads"}[fmt.name]
    if fmt.name in ("trig", "nquads"):
        ds = rdflib.Dataset()
        ds.parse(data=resp.content, format=rdflib_format)
        g = rdflib.Graph()
        for s, p, o, _ in ds.quads():
            g.add((s, p, o))
        return g
    return rdflib.Graph().parse(data=resp.content, format=rdflib_format)


def error(resp: requests.Response, status: int) -> str:
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()["error"]
    assert body["status"] == status
    return body["detail"]


# The three ways to send a query --------------------------------------------------

def test_query_get(url):
    rows = solutions(requests.get(url, params={"query": NAMES}, timeout=10))
    assert {r["name"] for r in rows} == ALL_NAMES


def test_query_post_form(url):
    rows = solutions(requests.post(url, data={"query": NAMES}, timeout=10))
    assert {r["name"] for r in rows} == ALL_NAMES


def test_query_post_direct(url):
    resp = requests.post(url, data=NAMES.encode(), timeout=10,
                         headers={"Content-Type": "application/sparql-query; charset=utf-8"})
    assert {r["name"] for r in solutions(resp)} == ALL_NAMES


# A GET with one query is answered below Flask (dpgkg.web.sparql.FastPath); a POST
# goes through the Flask view. The two must not be told apart.
@pytest.mark.parametrize(("query", "accept", "params"), [
    (NAMES, "application/sparql-results+json", {}),
    (CONSTRUCT, "text/turtle", {}),
    (NAMES, None, {"format": "csv"}),
    ("SELECT * WHERE { ?s ?p }", "application/sparql-results+json", {}),  # 400 from the worker
    (CONSTRUCT, "application/sparql-results+json", {}),  # 406 from the worker
    (NAMES, None, {"format": "yaml"}),  # 400 before the query runs
    ("  ", None, {}),  # 400: empty
])
def test_get_and_post_answer_alike(url, query, accept, params):
    headers = {"Accept": accept} if accept else {}
    got = requests.get(url, params={"query": query, **params}, headers=headers, timeout=10)
    posted = requests.post(url, data={"query": query, **params}, headers=headers, timeout=10)
    assert got.status_code == posted.status_code
    assert got.content == posted.content
    same = {"content-type", "content-length", "vary", "cache-control",
            "access-control-allow-origin", "access-control-expose-headers"}
    assert {k.lower(): v for k, v in got.headers.items() if k.lower() in same} == \
        {k.lower(): v for k, v in posted.headers.items() if k.lower() in same}


def test_no_accept_gives_json_and_turtle(url):
    sel = requests.get(url, params={"query": "ASK {}"}, headers={"Accept": ""}, timeout=10)
    assert sel.headers["Content-Type"] == "application/sparql-results+json"
    assert sel.json() == {"head": {}, "boolean": True}
    con = requests.get(url, params={"query": CONSTRUCT}, headers={"Accept": ""}, timeout=10)
    assert con.headers["Content-Type"].startswith("text/turtle")
    assert len(graph(con)) == 5


# The dataset -----------------------------------------------------------------------

def _n(resp) -> int:
    return int(solutions(resp)[0]["n"])


def test_default_graph_is_the_union(url):
    """The RDF merge of the named graphs: a triple in two graphs counts once."""
    ask = lambda q: _n(requests.get(url, params={"query": q}, timeout=10))
    distinct = ask("SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }")
    assert ask(COUNT) == distinct < ask("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")


@pytest.mark.parametrize("method", ["get", "post"])
def test_dataset_default_graphs(url, method):
    send = (lambda p: requests.get(url, params=p, timeout=10)) if method == "get" else \
        (lambda p: requests.post(url, data=p, timeout=10))
    assert _n(send({"query": COUNT, "default-graph-uri": COUNTRIES})) == 5
    assert _n(send({"query": COUNT, "default-graph-uri": [COUNTRIES, LICENCES]})) == 18


@pytest.mark.parametrize("method", ["get", "post"])
def test_dataset_named_graphs(url, method):
    params = {"query": PER_GRAPH, "named-graph-uri": [COUNTRIES, LICENCES]}
    resp = (requests.get(url, params=params, timeout=10) if method == "get"
            else requests.post(url, data=params, timeout=10))
    assert {r["g"]: int(r["n"]) for r in solutions(resp)} == {COUNTRIES: 5, LICENCES: 13}
    # Named graphs only: the default graph is the merge of no graphs, so empty.
    params = {"query": COUNT, "named-graph-uri": COUNTRIES}
    resp = (requests.get(url, params=params, timeout=10) if method == "get"
            else requests.post(url, data=params, timeout=10))
    assert _n(resp) == 0


def test_dataset_full_and_direct_post_takes_dataset_from_the_url(url):
    resp = requests.post(url, params={"default-graph-uri": COUNTRIES,
                                      "named-graph-uri": HEALTHAPP_GRAPH},
                         data=b"SELECT (COUNT(*) AS ?n) { { ?s ?p ?o } UNION "
                              b"{ GRAPH ?g { ?s ?p ?o } } }",
                         headers={"Content-Type": "application/sparql-query"}, timeout=10)
    mini = Path(__file__).parent / "fixtures" / "mini.trig"
    in_graph = sum(1 for q in ox.parse(path=str(mini), format=ox.RdfFormat.TRIG)
                   if q.graph_name == ox.NamedNode(HEALTHAPP_GRAPH))
    assert _n(resp) == 5 + in_graph


def test_protocol_dataset_overrides_from(url):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{LICENCES}> {{ ?s ?p ?o }}"
    assert _n(requests.get(url, params={"query": query}, timeout=10)) == 13
    assert _n(requests.get(url, params={"query": query, "default-graph-uri": COUNTRIES},
                           timeout=10)) == 5
    named = f"SELECT ?g (COUNT(*) AS ?n) FROM NAMED <{COUNTRIES}> {{ GRAPH ?g {{ ?s ?p ?o }} }} " \
            "GROUP BY ?g"
    rows = solutions(requests.get(url, params={"query": named}, timeout=10))
    assert {r["g"]: int(r["n"]) for r in rows} == {COUNTRIES: 5}


# Formats -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(formats.RESULT_FORMATS.values()), ids=lambda f: f.name)
@pytest.mark.parametrize("how", ["accept", "format-name", "format-media-type"])
def test_select_in_every_result_format(url, fmt, how):
    params, headers = {"query": NAMES}, {}
    if how == "accept":
        headers["Accept"] = fmt.media_type
    else:
        params["format"] = fmt.name if how == "format-name" else fmt.media_type
    resp = requests.get(url, params=params, headers=headers, timeout=10)
    assert resp.headers["Content-Type"].split(";")[0] == fmt.media_type
    assert {r["name"] for r in solutions(resp)} == ALL_NAMES


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_ask_in_result_formats(url, fmt):
    yes = requests.get(url, params={"query": "ASK { ?s ?p ?o }", "format": fmt}, timeout=10)
    no = requests.get(url, params={"query": "ASK { ?s <urn:x:none> ?o }"},
                      headers={"Accept": formats.RESULT_FORMATS[fmt].media_type}, timeout=10)
    assert boolean(yes) is True and boolean(no) is False


@pytest.mark.parametrize("fmt", [formats.RDF_FORMATS[n] for n in formats.GRAPH_RESULT_FORMATS],
                         ids=lambda f: f.name)
@pytest.mark.parametrize("how", ["accept", "format"])
def test_construct_and_describe_in_every_rdf_format(url, fmt, how):
    expected = graph(requests.get(url, params={"query": CONSTRUCT}, timeout=10))
    params = {"query": CONSTRUCT}
    headers = {"Accept": fmt.media_type} if how == "accept" else {}
    if how == "format":
        params["format"] = fmt.name
    resp = requests.get(url, params=params, headers=headers, timeout=10)
    assert resp.headers["Content-Type"].split(";")[0] == fmt.media_type
    assert rdflib.compare.isomorphic(graph(resp), expected)
    described = graph(requests.get(url, params={"query": f"DESCRIBE <{ID}country/KE>"},
                                   headers=headers | {"Accept": fmt.media_type}, timeout=10))
    assert (rdflib.URIRef(ID + "country/KE"), None, None) in described


def test_aliases_are_understood(url):
    resp = requests.get(url, params={"query": NAMES}, headers={"Accept": "application/json"},
                        timeout=10)
    assert {r["name"] for r in solutions(resp)} == ALL_NAMES
    con = requests.get(url, params={"query": CONSTRUCT},
                       headers={"Accept": "application/x-turtle"}, timeout=10)
    assert con.headers["Content-Type"].startswith("text/turtle") and len(graph(con)) == 5


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+xml;q=0.5, text/csv;q=0.9", "text/csv"),
    ("text/csv;q=0.2, */*;q=0.1", "text/csv"),
    ("text/*", "text/csv"),
    ("text/csv;q=0, text/*", "text/tab-separated-values"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
     "application/sparql-results+xml"),
])
def test_q_values(url, accept, expected):
    resp = requests.get(url, params={"query": NAMES}, headers={"Accept": accept}, timeout=10)
    assert resp.headers["Content-Type"].split(";")[0] == expected
    assert {r["name"] for r in solutions(resp)} == ALL_NAMES


def test_q_values_for_graphs(url):
    resp = requests.get(url, params={"query": CONSTRUCT}, timeout=10,
                        headers={"Accept": "text/turtle;q=0.3, application/n-triples;q=0.8"})
    assert resp.headers["Content-Type"].startswith("application/n-triples")
    assert len(graph(resp)) == 5


@pytest.mark.parametrize("query, accept", [
    (NAMES, "image/png"), (NAMES, "text/turtle"), (CONSTRUCT, "text/csv"),
    ("ASK {}", "application/sparql-results+json;q=0"),
])
def test_unacceptable_is_406(url, query, accept):
    resp = requests.get(url, params={"query": query}, headers={"Accept": accept}, timeout=10)
    assert "available as" in error(resp, 406)


def test_format_parameter_wins_and_unknown_format_is_400(url):
    resp = requests.get(url, params={"query": NAMES, "format": "csv"},
                        headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert "unknown format" in error(
        requests.get(url, params={"query": NAMES, "format": "yaml"}, timeout=10), 400)
    # format=csv names no syntax for a graph: Accept decides, and refuses here
    assert "available as" in error(
        requests.get(url, params={"query": CONSTRUCT, "format": "csv"},
                     headers={"Accept": "text/csv"}, timeout=10), 406)
    anything = requests.get(url, params={"query": CONSTRUCT, "format": "csv"},
                            headers={"Accept": "*/*"}, timeout=10)
    assert anything.headers["Content-Type"].startswith("text/turtle")


# Service description ------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["", "text/turtle", "application/ld+json",
                                    "application/rdf+xml", "application/n-triples"])
def test_service_description(url, accept, mini_settings):
    resp = requests.get(url, headers={"Accept": accept}, timeout=10)
    g = graph(resp)
    # the endpoint at the site's public root (no public_url set: where the base IRI's
    # /id/ documents live), whatever host the request named
    assert mini_settings.public_url is None
    service = rdflib.URIRef(mini_settings.base_iri.removesuffix("id/") + "sparql")
    assert (service, rdflib.RDF.type, SD.Service) in g
    assert (service, SD.endpoint, service) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.feature, SD.UnionDefaultGraph) in g
    dataset = g.value(service, SD.defaultDataset)
    assert (dataset, rdflib.RDF.type, SD.Dataset) in g
    advertised = set(g.objects(service, SD.resultFormat))
    assert advertised == {rdflib.URIRef(f.iri) for f in [*formats.RDF_FORMATS.values(),
                                                         *formats.RESULT_FORMATS.values()]}


def test_browser_without_query_goes_to_the_query_page(url):
    resp = requests.get(url, allow_redirects=False, timeout=10, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/query")


# Refusals ----------------------------------------------------------------------------

UPDATE = "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"


@pytest.mark.parametrize("how", ["get-update", "post-form-update", "post-sparql-update",
                                 "query-insert", "query-prefixed-delete"])
def test_update_is_refused_as_400(url, how):
    if how == "get-update":
        resp = requests.get(url, params={"update": UPDATE}, timeout=10)
    elif how == "post-form-update":
        resp = requests.post(url, data={"update": UPDATE}, timeout=10)
    elif how == "post-sparql-update":
        resp = requests.post(url, data=UPDATE.encode(), timeout=10,
                             headers={"Content-Type": "application/sparql-update"})
    elif how == "query-insert":
        resp = requests.post(url, data={"query": UPDATE}, timeout=10)
    else:
        resp = requests.get(url, params={"query": "PREFIX ex: <urn:x:> # a comment\n"
                                                  "DELETE WHERE { ?s ex:p ?o }"}, timeout=10)
    assert "read-only" in error(resp, 400)
    # ... and nothing was written.
    assert boolean(requests.get(url, params={"query": "ASK { <urn:x:a> ?p ?o }"}, timeout=10)) \
        is False


def test_syntax_error_is_400_with_the_position(url):
    detail = error(requests.get(url, params={"query": "SELECT * WHERE { ?s ?p }"}, timeout=10),
                   400)
    assert "syntax error" in detail and re.search(r"\b1:\d+\b", detail), detail
    detail = error(requests.post(url, data={"query": "SELECT ?x\nWHERE { ?x ?y ?z . FILTER( }"},
                                 timeout=10), 400)
    assert re.search(r"\b2:\d+\b", detail), detail


@pytest.mark.parametrize("how", ["get", "post-form", "direct-and-url"])
def test_two_queries_are_400(url, how):
    two = ["ASK {}", "SELECT * {}"]
    if how == "get":
        resp = requests.get(url, params={"query": two}, timeout=10)
    elif how == "post-form":
        resp = requests.post(url, data={"query": two}, timeout=10)
    else:
        resp = requests.post(url, params={"query": "ASK {}"}, data=b"SELECT * {}", timeout=10,
                             headers={"Content-Type": "application/sparql-query"})
    assert "exactly one query" in error(resp, 400)


@pytest.mark.parametrize("query, endpoint", [
    ("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
     "http://example.org/sparql"),
    ("select * { service silent <http://example.org/sparql> { ?s ?p ?o } }",
     "http://example.org/sparql"),
    ("PREFIX ex: <http://example.org/>\nSELECT * { ?a ?b ?c SERVICE ex:sparql { ?s ?p ?o } }",
     "http://example.org/sparql"),
    ("SELECT * { BIND(<http://example.org/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }", "?e"),
    ('SELECT * { ?s ?p "x" . #"\nSERVICE <http://evil.example/> { ?a ?b ?c } }',
     "http://evil.example/"),
])
def test_service_outside_the_allow_list_is_400_naming_the_endpoint(url, query, endpoint):
    assert endpoint in error(requests.get(url, params={"query": query}, timeout=10), 400)


def test_service_in_comments_strings_and_iris_is_not_a_call(url):
    query = ('# SERVICE <http://example.org/sparql>\n'
             'SELECT ?x { BIND("SERVICE <http://example.org/sparql> {}" AS ?x) '
             'FILTER(?x != <http://example.org/SERVICE#x>) }')
    rows = solutions(requests.get(url, params={"query": query}, timeout=10))
    assert rows == [{"x": "SERVICE <http://example.org/sparql> {}"}]


# The HTTP shape of requests -------------------------------------------------------------

def test_bad_query_method_is_405(url):
    resp = requests.put(url, params={"query": "ASK {}"}, timeout=10)
    error(resp, 405)
    assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Allow"].split(",")}


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_post_body_of_the_wrong_or_no_media_type_is_415(url, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    resp = requests.post(url, data=b"ASK {}", headers=headers, timeout=10)
    if content_type is None:
        assert "Content-Type" not in resp.request.headers
    assert "application/sparql-query" in error(resp, 415)


def test_non_utf8_query_is_refused(url):
    resp = requests.post(url, data="ASK {}".encode("utf-16"), timeout=10,
                         headers={"Content-Type": "application/sparql-query; charset=UTF-16"})
    error(resp, 415)
    resp = requests.post(url, data="ASK {}".encode("utf-16"), timeout=10,
                         headers={"Content-Type": "application/sparql-query"})
    assert "UTF-8" in error(resp, 400)


def test_empty_query_and_post_without_query_are_400(url):
    error(requests.get(url, params={"query": " "}, timeout=10), 400)
    error(requests.post(url, data={"default-graph-uri": COUNTRIES}, timeout=10), 400)


def test_errors_are_html_for_browsers(url):
    resp = requests.get(url, params={"query": "SELECT"}, headers={"Accept": "text/html"},
                        timeout=10)
    assert resp.status_code == 400 and resp.headers["Content-Type"].startswith("text/html")
    assert "syntax error" in resp.text


# The checks on their own ---------------------------------------------------------------

@pytest.mark.parametrize("query, form, services", [
    ("SELECT * {}", "SELECT", []),
    ("  prefix x: <urn:x:> base <http://b/> ask {}", "ASK", []),
    ("# CONSTRUCT\nDESCRIBE <urn:x>", "DESCRIBE", []),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", []),
    ("BASE <http://h.example/> SELECT * { SERVICE <sparql> {} }", "SELECT",
     ["http://h.example/sparql"]),
    ("SELECT * { ?s <http://x/#SERVICE> '''SERVICE <urn:a>''' }", "SELECT", []),
    ("PREFIX : <http://e/> SELECT * { SERVICE :q {} SERVICE <http://f/> {} }", "SELECT",
     ["http://e/q", "http://f/"]),
    ("SELECT * { ?service ?p ?o }", "SELECT", []),
    ("nonsense", None, []),
])
def test_inspect_query(query, form, services):
    info = inspect_query(query)
    assert (info.form, info.services) == (form, services)


def test_inspect_query_reads_the_dataset_clauses():
    info = inspect_query("PREFIX g: <http://g/> SELECT * FROM <http://g/a> FROM g:b "
                         "FROM NAMED <http://g/c> # FROM <http://g/z>\n{ ?s ?p '<FROM>' }")
    assert (info.from_graphs, info.from_named) == (["http://g/a", "http://g/b"], ["http://g/c"])


@pytest.mark.parametrize("query", [
    "INSERT DATA { <a:b> <a:b> <a:b> }", "PREFIX a: <a:> DELETE WHERE { ?s a:p ?o }",
    "WITH <g:x> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "load <http://x/>", "CLEAR ALL",
    "DROP GRAPH <g:x>", "create graph <g:x>", "COPY <g:a> TO <g:b>",
])
def test_updates_are_recognised(query):
    with pytest.raises(UpdateRefused):
        check_query(query, Settings())


def test_allow_listed_service_passes_the_check():
    settings = Settings(service_allow_list=("http://example.org/sparql",))
    check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", settings)
    with pytest.raises(ServiceRefused, match="http://example.org/other"):
        check_query("SELECT * { SERVICE <http://example.org/other> { ?s ?p ?o } }", settings)
