"""The Accept parser and negotiation, as a table; the format registry lookups."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from dpgkg.publish import formats
from dpgkg.web.conneg import negotiate, parse_accept

JSON, XML = "application/sparql-results+json", "application/sparql-results+xml"
TTL, JSONLD, NT = "text/turtle", "application/ld+json", "application/n-triples"
HTML = "text/html"


@pytest.mark.parametrize("header, expected", [
    (None, [("*/*", 1.0)]),
    ("", [("*/*", 1.0)]),
    ("text/turtle", [("text/turtle", 1.0)]),
    ("Text/Turtle", [("text/turtle", 1.0)]),
    ("text/turtle;q=0.5, application/ld+json", [(JSONLD, 1.0), (TTL, 0.5)]),
    ("*/*, text/*, text/turtle", [(TTL, 1.0), ("text/*", 1.0), ("*/*", 1.0)]),
    ("text/html;level=1, text/html", [(HTML, 1.0), (HTML, 1.0)]),
    ("a/b;q=0.3, c/d;q=0.7, e/f", [("e/f", 1.0), ("c/d", 0.7), ("a/b", 0.3)]),
    ("a/b ; q = 0.2", [("a/b", 0.2)]),
    ("a/b;q=2", [("a/b", 1.0)]),
    ("a/b;q=nonsense", [("a/b", 0.0)]),
    ("a/b, , c/d", [("a/b", 1.0), ("c/d", 1.0)]),
    ("garbage, a/b", [("a/b", 1.0)]),
    ("*", [("*/*", 1.0)]),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
     [(HTML, 1.0), ("application/xhtml+xml", 1.0), ("application/xml", 0.9), ("*/*", 0.8)]),
])
def test_parse_accept(header, expected):
    assert parse_accept(header) == expected


RESULTS = [JSON, XML, "text/csv", "text/tab-separated-values"]
GRAPHS = [TTL, JSONLD, NT]


@pytest.mark.parametrize("header, offers, expected", [
    (None, RESULTS, JSON),
    ("", RESULTS, JSON),
    ("*/*", RESULTS, JSON),
    ("*/*", GRAPHS, TTL),
    (XML, RESULTS, XML),
    (f"{XML};charset=utf-8", RESULTS, XML),
    ("text/csv;q=0.9, text/tab-separated-values", RESULTS, "text/tab-separated-values"),
    ("text/*", RESULTS, "text/csv"),
    ("text/*;q=0.5, text/tab-separated-values;q=0.8", RESULTS, "text/tab-separated-values"),
    (f"{JSONLD}, {TTL}", GRAPHS, JSONLD),  # equal q: the client's order
    (f"{TTL};q=0.5, */*;q=0.1", GRAPHS, TTL),
    (f"{TTL};q=0.5, */*", GRAPHS, JSONLD),  # turtle takes its own q; the rest */*'s
    (f"{TTL};q=0.5, */*", [JSONLD, TTL], JSONLD),
    (f"{TTL};q=0, */*", GRAPHS, JSONLD),  # q=0 refuses turtle even though */* matches
    ("image/png", RESULTS, None),
    ("image/*", RESULTS, None),
    (f"{JSON};q=0", RESULTS, None),
    ("application/json", RESULTS + ["application/json"], "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", [TTL, HTML], HTML),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", GRAPHS, TTL),
    ("application/sparql-results+json,*/*;q=0.9", RESULTS, JSON),  # SPARQLWrapper
    ("garbage", RESULTS, JSON),
    ("text/turtle", [], None),
])
def test_negotiate(header, offers, expected):
    assert negotiate(header, offers) == expected


def test_registry_names_suffixes_and_media_types():
    assert set(formats.RDF_FORMATS) == {"turtle", "jsonld", "ntriples", "rdfxml", "trig",
                                        "nquads"}
    assert set(formats.RESULT_FORMATS) == {"json", "xml", "csv", "tsv"}
    assert formats.by_suffix(".ttl").name == "turtle"
    assert formats.by_suffix("jsonld").name == "jsonld"
    assert formats.by_suffix(".nope") is None
    assert formats.by_media_type("application/x-turtle").name == "turtle"
    assert formats.by_media_type("text/turtle; charset=utf-8").name == "turtle"
    assert formats.by_media_type("application/json").name == "json"
    assert formats.by_media_type("text/plain") is None
    assert formats.by_media_type("application/xml", formats.RESULT_FORMATS).name == "xml"
    assert formats.by_name("ttl").name == "turtle"
    assert formats.by_name("text/csv").name == "csv"
    assert formats.by_name("json").ox_format == ox.QueryResultsFormat.JSON
    for f in [*formats.RDF_FORMATS.values(), *formats.RESULT_FORMATS.values()]:
        assert f.ox_format.media_type.split(";")[0] == f.media_type, f
        assert f.is_rdf == (f.name in formats.RDF_FORMATS)
