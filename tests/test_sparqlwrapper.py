"""SPARQLWrapper as shipped (no setOnlyConneg): every return format with every query form,
GET and POST, against `dpgkg serve` over tests/fixtures/mini.trig.

SPARQLWrapper sends its format name as `format=`/`output=`/`results=` beside an Accept
header (for TSV, JSON-LD and RDF/XML the media types as a second `format=` value). The
endpoint lets `format=` decide for the kind of answer it names, and Accept otherwise
(README, "On the web"), so each pair below has one right media type.
"""

from __future__ import annotations

import warnings

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.webserver import live_server_url  # noqa: F401  (the session fixture)

COUNTRIES = "https://w3id.org/dpgkg/id/graph/countries"
QUERIES = {
    "SELECT": f"SELECT ?s ?p ?o {{ GRAPH <{COUNTRIES}> {{ ?s ?p ?o }} }}",
    "ASK": f"ASK {{ GRAPH <{COUNTRIES}> {{ ?s ?p ?o }} }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{COUNTRIES}> {{ ?s ?p ?o }} }}",
    "DESCRIBE": "DESCRIBE <https://w3id.org/dpgkg/id/country/KE>",
}
SOLUTIONS = {  # SELECT and ASK: what each return format gets
    JSON: "application/sparql-results+json",
    XML: "application/sparql-results+xml",
    CSV: "text/csv",
    TSV: "text/tab-separated-values",
    JSONLD: "application/sparql-results+json",  # JSON-LD's counterpart
    RDFXML: "application/sparql-results+xml",  # RDF/XML's counterpart
    RDF: "application/sparql-results+xml",  # SPARQLWrapper's "rdf" is RDF/XML
    TURTLE: "application/sparql-results+json",  # no results in Turtle: Accept */* decides
    N3: "application/sparql-results+json",
}
GRAPHS = {  # CONSTRUCT and DESCRIBE
    JSON: "application/ld+json",
    XML: "application/rdf+xml",
    CSV: "text/turtle",  # no graph in CSV: Accept */* decides
    TSV: "text/turtle",
    JSONLD: "application/ld+json",
    RDFXML: "application/rdf+xml",
    RDF: "application/rdf+xml",
    TURTLE: "text/turtle",
    N3: "text/turtle",  # Turtle is N3
}
RDFLIB = {"application/ld+json": "json-ld", "application/rdf+xml": "xml", "text/turtle": "turtle"}


def _expected_graph(url: str, form: str) -> rdflib.Graph:
    """The same query's graph, asked for plainly as N-Triples (no SPARQLWrapper)."""
    resp = requests.get(
        url,
        params={"query": QUERIES[form]},
        headers={"Accept": "application/n-triples"},
        timeout=10,
    )
    assert resp.status_code == 200
    return rdflib.Graph().parse(data=resp.content, format="nt")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("fmt", list(SOLUTIONS))
def test_every_return_format_and_query_form(live_server_url, fmt, form, method):  # noqa: F811
    url = live_server_url + "/sparql"
    client = SPARQLWrapper(url)
    if method == "POST":
        client.setMethod(POST)
    client.setQuery(QUERIES[form])
    client.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # its own "Accept */*" notes
        result = client.query()
    info = result.info()
    media_type = info["content-type"].split(";")[0]
    graph_query = form in ("CONSTRUCT", "DESCRIBE")
    assert media_type == (GRAPHS if graph_query else SOLUTIONS)[fmt], (fmt, form)
    body = result.response.read()
    if graph_query:
        g = rdflib.Graph().parse(data=body, format=RDFLIB[media_type])
        assert len(g) > 0 and isomorphic(g, _expected_graph(url, form))
    elif media_type.startswith("application/sparql-results"):
        fmt_ox = (
            ox.QueryResultsFormat.JSON if media_type.endswith("json") else ox.QueryResultsFormat.XML
        )
        parsed = ox.parse_query_results(body, fmt_ox)
        if form == "ASK":
            assert bool(parsed) is True
        else:
            assert len(list(parsed)) == 5
    else:
        lines = body.decode().strip().splitlines()
        if form == "ASK":
            assert "true" in body.decode()
        else:
            assert len(lines) == 6  # a header and the rows


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("json", "json"),
        ("xml", "xml"),
        ("csv", "csv"),
        ("tsv", "tsv"),
        ("turtle", "turtle"),
        ("ttl", "turtle"),
        ("n3", "turtle"),
        ("text/n3", "turtle"),
        ("rdf+xml", "rdfxml"),
        ("rdf", "rdfxml"),
        ("application/rdf+xml", "rdfxml"),
        ("json-ld", "jsonld"),
        ("jsonld", "jsonld"),
        ("application/ld+json,application/x-json+ld", "jsonld"),
        ("ntriples", "ntriples"),
        ("nt", "ntriples"),
        ("n-triples", "ntriples"),
        ("nquads", "nquads"),
        ("trig", "trig"),
        ("text/tab-separated-values", "tsv"),
        ("application/sparql-results+json", "json"),
        ("srx", "xml"),
        ("JSON-LD", "jsonld"),
        ("yaml", None),
        ("", None),
    ],
)
def test_format_names_clients_send(name, expected):
    from dpgkg.publish.formats import by_name

    found = by_name(name)
    assert (found.name if found else None) == expected
