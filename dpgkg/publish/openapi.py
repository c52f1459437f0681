"""The OpenAPI 3.1 description of the HTTP interface, served at /openapi.json.

Built from the format registry and the settings, so the media types, page sizes and
limits it states are the ones the server applies.
"""

from __future__ import annotations

from dpgkg.publish import activities, formats
from dpgkg.publish.catalogue.vocab import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from dpgkg.publish.search import BROWSE_PAGE_SIZE
from dpgkg.publish.search import DEFAULT_PER_PAGE as SEARCH_PER_PAGE
from dpgkg.publish.search import MAX_PER_PAGE as SEARCH_MAX_PER_PAGE

CSV = formats.PAGE_FORMATS["csv"].media_type


def _content(media_types) -> dict:
    return {
        mt: {"schema": {"type": "string"} if not mt.endswith("json") else {"type": "object"}}
        for mt in media_types
    }


def _get(summary: str, media_types, parameters: list | None = None, not_found: bool = True) -> dict:
    responses: dict = {
        "200": {"description": "the document", "content": _content(media_types)},
        "304": {"description": "not modified (If-None-Match, If-Modified-Since)"},
        "406": {"description": "no acceptable representation"},
    }
    if not_found:
        responses["404"] = {"description": "nothing there (also for conditional requests)"}
    op: dict = {"summary": summary, "responses": responses}
    if parameters:
        op["parameters"] = parameters
    return {"get": op}


def _param(name: str, where: str, description: str, schema: dict, required: bool = False) -> dict:
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": required,
        "schema": schema,
    }


FEED_TYPES = [activities.AS2_MEDIA_TYPE, activities.AS2_PROFILE, "application/json"]


def _changes() -> dict:
    """/changes: the collection, or one page of it with ?page= (docs/changes-feed.md)."""
    op = _get(
        "the change feed: an ActivityStreams 2.0 OrderedCollection of what each build "
        "created, updated (content or provenance) and deleted, one activity per named "
        "graph, oldest first; with ?page= one OrderedCollectionPage",
        FEED_TYPES,
        [
            _param("since", "query", "only builds after this build version, or built at "
                   "or after this ISO 8601 date or date-time (UTC unless it names an "
                   "offset); anything else is a 400", {"type": "string", "examples": [
                       "20261207T193921300605Z", "2026-12-01", "2026-12-01T12:00:00Z"]}),
            _param("page", "query", "the page, from 1 (without it: the collection, "
                   "which names its first and last pages)", {"type": "integer", "minimum": 1}),
            _param("page_size", "query",
                   f"activities per page (default {activities.DEFAULT_PAGE_SIZE})",
                   {"type": "integer", "minimum": 1, "maximum": activities.MAX_PAGE_SIZE}),
        ],
    )
    op["get"]["responses"]["400"] = {"description": "a bad since, page or page_size"}
    op["get"]["responses"]["404"] = {"description": "a page past the last"}
    return op


RDF_TYPES = [formats.RDF_FORMATS[n].media_type for n in ("turtle", "jsonld", "rdfxml", "ntriples")]


def openapi(server_url: str, *, query_timeout: float, max_body_bytes: int) -> dict:
    """The description, with `server_url` (the public site root) as its one server."""
    result_types = [formats.RESULT_FORMATS[n].media_type for n in formats.SOLUTION_FORMATS]
    graph_types = [formats.RDF_FORMATS[n].media_type for n in formats.GRAPH_RESULT_FORMATS]
    names = sorted({*formats.RESULT_FORMATS, *formats.RDF_FORMATS, *formats.NAME_ALIASES})
    page = _param("page", "query", "page number, from 1", {"type": "integer", "minimum": 1})
    size = _param(
        "page_size",
        "query",
        f"items per page (default {DEFAULT_PAGE_SIZE})",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    )
    query = _param(
        "query",
        "query",
        "a SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE)",
        {"type": "string"},
    )
    fmt = _param(
        "format",
        "query",
        "the answer's syntax: a media type or one of these names; it wins over "
        "Accept for the kind of answer it names, Accept decides otherwise",
        {"type": "string", "examples": names},
    )
    sparql_responses = {
        "200": {
            "description": "results (SELECT, ASK) or a graph (CONSTRUCT, DESCRIBE)",
            "content": _content([*result_types, *graph_types]),
        },
        "400": {"description": "a malformed query, an update, or an unknown format"},
        "406": {"description": "no acceptable syntax for this kind of answer"},
        "413": {"description": f"a body over {max_body_bytes} bytes"},
        "503": {"description": f"the query ran past {query_timeout} s or its memory limit"},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dpgkg: the Digital Public Goods knowledge graph",
            "version": "1",
            "description": f"Linked data, SPARQL and DCAT. Limits: queries stop after "
            f"{query_timeout} s; request bodies up to {max_body_bytes} "
            f"bytes; catalogue pages up to {MAX_PAGE_SIZE} datasets (default "
            f"{DEFAULT_PAGE_SIZE}); search pages up to {SEARCH_MAX_PER_PAGE} results "
            f"(default {SEARCH_PER_PAGE}); browse pages of {BROWSE_PAGE_SIZE}; CSV "
            f"tables hold every match, unpaged. Paged answers link their neighbours with "
            f'`Link: <...>; rel="prev"` / `rel="next"`.',
        },
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": {
            **_list_paths(page),
            "/sparql": {
                "get": {
                    "summary": "SPARQL 1.1 Protocol query (without a query: the service "
                    "description)",
                    "parameters": [query, fmt],
                    "responses": sparql_responses,
                },
                "post": {
                    "summary": "SPARQL 1.1 Protocol query in the body",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "query": {"type": "string"},
                                        "format": {"type": "string"},
                                    },
                                }
                            },
                            "application/sparql-query": {"schema": {"type": "string"}},
                        }
                    },
                    "responses": sparql_responses,
                },
            },
            "/id/{path}": _get(
                "any resource of the graph, in HTML or RDF by Accept or suffix "
                "(.ttl .jsonld .nt .rdf .html)",
                ["text/html", *RDF_TYPES],
                [
                    _param(
                        "path", "path", "the IRI below the base", {"type": "string"}, required=True
                    )
                ],
            ),
            "/catalog": _get(
                "the DCAT-AP 3 catalogue, Hydra-paged (?id=<DPG id> redirects to its record)",
                RDF_TYPES,
                [page, size],
            ),
            "/catalog/dpg/{id}": _get(
                "one DPG's DCAT record",
                RDF_TYPES,
                [_param("id", "path", "the DPG's registry id", {"type": "string"}, required=True)],
            ),
            "/.well-known/void": _get("VoID of the whole graph", RDF_TYPES, not_found=False),
            "/dumps/": _get(
                "the dumps of the graph served now", ["application/json"], not_found=False
            ),
            "/changes": _changes(),
            "/changes/{version}/{key}": _get(
                "one activity of the change feed (its id)",
                FEED_TYPES,
                [_param("version", "path", "the build's version", {"type": "string"},
                        required=True),
                 _param("key", "path", "16 hex digits of sha256(graph IRI)",
                        {"type": "string"}, required=True)],
            ),
            "/changes/graph": _get(
                "a named graph as served now, as N-Quads (an activity's object.url)",
                ["application/n-quads"],
                [_param("iri", "query", "the graph's IRI", {"type": "string"},
                        required=True)],
            ),
            "/sitemap.xml": _get("every resource page", ["application/xml"], not_found=False),
            "/context.jsonld": _get(
                "the JSON-LD context", ["application/ld+json"], not_found=False
            ),
            "/id/dpg/{id}/codemeta.json": _get(
                "CodeMeta 3 of a software DPG",
                ["application/ld+json"],
                [_param("id", "path", "the DPG's registry id", {"type": "string"}, required=True)],
            ),
            "/health": _get("ready or not", ["application/json"], not_found=False),
        },
    }


def _list_paths(page: dict) -> dict:
    """The site's lists: browse (HTML, CSV) and search (HTML, JSON, CSV)."""
    filters = [_param(name, "query", text, {"type": "string"}) for name, text in (
        ("sdg", "an SDG goal number"), ("type", "a solution type (Software, Data, ...)"),
        ("licence", "an SPDX licence id"), ("country", "an ISO 3166 alpha-2 code"),
        ("stage", "DPGStage (default), NomineeStage, ArchivedStage, ExcludedStage or all"))]
    q = _param("q", "query", "words that every result's name or description contains",
               {"type": "string"})
    per_page = _param("per_page", "query",
                      f"results per page (default {SEARCH_PER_PAGE}; more than "
                      f"{SEARCH_MAX_PER_PAGE} is a 400)",
                      {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX_PER_PAGE,
                       "default": SEARCH_PER_PAGE})
    fmt = _param("format", "query", "json or csv: wins over Accept",
                 {"type": "string", "enum": ["html", "json", "csv"]})
    search_page = {**page, "description": "page number, from 1 (not a whole number from 1: "
                   "400; past the last page: 404)"}
    results = {"type": "object", "properties": {
        "q": {"type": "string"}, "total": {"type": "integer"}, "page": {"type": "integer"},
        "per_page": {"type": "integer"}, "pages": {"type": "integer"},
        "results": {"type": "array", "items": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("name", "iri", "url", "page", "kind",
                                            "description")}}}}}
    csv = {CSV: {"schema": {"type": "string"}}}
    browse = _get(f"the DPGs (or solutions at a stage) with filters, by name, "
                  f"{BROWSE_PAGE_SIZE} a page; CSV (by Accept): every match",
                  ["text/html", CSV], [page, *filters], not_found=True)
    search = _get("full-text search over names and descriptions, best first; CSV (by "
                  "Accept or format=csv): every match", ["text/html", "application/json", CSV],
                  [q, search_page, per_page, fmt], not_found=True)
    search["get"]["responses"]["200"]["content"]["application/json"]["schema"] = results
    search["get"]["responses"]["400"] = {"description": "a bad page or per_page"}
    return {
        "/dpgs": browse,
        "/dpgs.csv": {"get": {"summary": "the browse list as CSV (every match, the "
                              "browse list's columns)", "parameters": filters,
                              "responses": {"200": {"description": "the table",
                                                    "content": csv}}}},
        "/search": search,
        "/search.csv": {"get": {"summary": "search results as CSV (every match)",
                                "parameters": [q],
                                "responses": {"200": {"description": "the table",
                                                      "content": csv}}}},
    }
