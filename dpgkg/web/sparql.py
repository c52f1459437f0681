"""The SPARQL 1.1 Protocol endpoint at /sparql (query only; the graph is read-only).

    GET  /sparql?query=...&default-graph-uri=...&named-graph-uri=...&format=...
    POST /sparql  application/x-www-form-urlencoded  (same parameters in the body)
    POST /sparql  application/sparql-query            (the query is the body)
    GET  /sparql  without a query: the SPARQL Service Description (browsers: /query)

The format is chosen by `format` (or `output`: a short name, a client's alias such as
SPARQLWrapper's `json-ld` or `rdf+xml`, or media types) where it names one for the
query's kind of answer, else by Accept.
Queries are checked here (update, SERVICE, one query), then run in the query
pool's worker processes under the time limit; this process only forwards bytes.

`FastPath` answers the commonest request, a GET with one query, below Flask: the
same checks and pool (`_run`), but without the request context, routing and
response objects, which cost about a third of a cheap query's time. Everything
else, and every error, is answered by the Flask view, so there is one protocol.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, redirect, request, url_for

from dpgkg.config import Settings
from dpgkg.publish import formats
from dpgkg.publish.querypool import Answer, QueryPool
from dpgkg.publish.sparql import check_query, dataset_args
from dpgkg.store import is_remote
from dpgkg.web.conneg import negotiate
from dpgkg.web.errors import abort_with
from dpgkg.web.gateway import REFUSED

log = logging.getLogger(__name__)

bp = Blueprint("sparql", __name__)

RESULT_OFFERS = formats.offers(formats.SOLUTION_FORMATS, formats.RESULT_FORMATS)
GRAPH_OFFERS = formats.offers(formats.GRAPH_RESULT_FORMATS, formats.RDF_FORMATS)
SD_OFFERS = [*GRAPH_OFFERS, "text/html"]
READ_ONLY = "SPARQL Update is not allowed: this endpoint is read-only"

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCT_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")

_pool_lock = threading.Lock()


def settings() -> Settings:
    return current_app.extensions["dpgkg_settings"]


def pool(app: Flask | None = None) -> QueryPool:
    """This process's query pool, started on first use (or at start-up by the server)."""
    app = app or current_app
    found = app.extensions.get("dpgkg_querypool")
    if found is None:
        with _pool_lock:
            found = app.extensions.get("dpgkg_querypool")
            if found is None:
                found = start_pool(app)
    return found


def start_pool(app) -> QueryPool:
    cfg = app.config
    st: Settings = app.extensions["dpgkg_settings"]
    env = {"DPGKG_QUERY_TIMEOUT": repr(st.query_timeout),
           "DPGKG_QUERY_IN_MEMORY_MAX_MB": str(st.query_in_memory_max_mb)}
    if st.store_user:
        env["DPGKG_STORE_USER"] = st.store_user
    if st.store_password:
        env["DPGKG_STORE_PASSWORD"] = st.store_password
    qp = QueryPool(st.store, env=env,
                   size=int(cfg.get("SPARQL_WORKERS", st.query_workers)),
                   in_memory=bool(cfg.get("SPARQL_IN_MEMORY", st.query_in_memory)),
                   hold_bytes=int(cfg.get("SPARQL_HOLD_BYTES", st.hold_bytes)),
                   # A remote store is reached over the network; a local one needs none
                   # unless federated calls are allowed.
                   no_network=not st.service_allow_list and not is_remote(st.store),
                   memory_limit=st.query_memory_mb << 20, share=st.query_share or None)
    app.extensions["dpgkg_querypool"] = qp
    return qp


# Reading the request -----------------------------------------------------------

OTHER_PARAMETERS = ("default-graph-uri", "named-graph-uri", "format", "output")


def _params() -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(queries, updates, other parameters) from the URL and a form or direct body."""
    args = request.args
    queries, updates = args.getlist("query"), args.getlist("update")
    other = {k: args.getlist(k) for k in OTHER_PARAMETERS}
    if request.method == "POST":
        mimetype = request.mimetype
        charset = (request.mimetype_params.get("charset") or "utf-8").lower()
        if mimetype == "application/x-www-form-urlencoded":
            form = request.form
            queries += form.getlist("query")
            updates += form.getlist("update")
            for k in other:
                other[k] += form.getlist(k)
        elif mimetype == "application/sparql-query":
            if charset not in ("utf-8", "utf8"):
                abort_with(415, f"the query must be UTF-8, not {charset}")
            try:
                queries.append(request.get_data(cache=False).decode("utf-8"))
            except UnicodeDecodeError:
                abort_with(400, "the query is not valid UTF-8")
        elif mimetype == "application/sparql-update":
            abort_with(400, READ_ONLY)
        elif not mimetype:
            abort_with(415, "a POST needs Content-Type application/x-www-form-urlencoded "
                            "or application/sparql-query")
        else:
            abort_with(415, f"cannot read a {mimetype} body; send "
                            "application/x-www-form-urlencoded or application/sparql-query")
    return queries, updates, other


def _requested_format(other: dict[str, list[str]]) -> formats.Format | None:
    # `output` is the older name; clients such as SPARQLWrapper send both.
    # SPARQLWrapper sends its name and, for some, its Accept list too; "" in place of "*/*".
    values = [v for v in other["format"] + other["output"] if v.strip()]
    if not values:
        return None
    found = []
    for value in values:
        fmt = formats.by_name(value)
        if fmt is None:
            names = ", ".join([*formats.RESULT_FORMATS, *formats.RDF_FORMATS])
            abort_with(400, f"unknown format {value!r}; use one of {names} or a media type")
        found.append(fmt)
    if len(set(found)) > 1:
        abort_with(400, "the format parameters name different formats")
    return found[0]


def _choose(fmt: formats.Format | None, accept: str | None) -> tuple[str | None, str | None]:
    """(result format, graph format) names for this request, None where nothing fits.

    `format=` wins over Accept for the kind of answer it names (and its counterpart:
    xml and RDF/XML, json and JSON-LD); for the other kind, Accept decides. So
    SPARQLWrapper's `format=turtle` with a SELECT and `Accept: */*` gets JSON results.
    """
    result = graph = None
    if fmt is not None:
        name = formats.COUNTERPART.get(fmt.name)
        result = fmt.name if not fmt.is_rdf else name
        graph = fmt.name if fmt.is_rdf else name
    if result is None:
        mt = negotiate(accept, RESULT_OFFERS)
        result = formats.by_media_type(mt, formats.RESULT_FORMATS).name if mt else None
    if graph is None:
        mt = negotiate(accept, GRAPH_OFFERS)
        graph = formats.by_media_type(mt, formats.RDF_FORMATS).name if mt else None
    # No format for the query's kind is a 406 from the worker, after the query has
    # parsed: a syntax error is the more useful answer.
    return result, graph


# The endpoint --------------------------------------------------------------------

# An error the fast path met, for the view to render (the query is not run again).
FAST_PATH_ERROR = "dpgkg.sparql.error"


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    error = request.environ.pop(FAST_PATH_ERROR, None)
    if error is not None:
        raise error
    queries, updates, other = _params()
    if updates:
        abort_with(400, READ_ONLY)
    if len(queries) > 1:
        abort_with(400, f"give exactly one query, not {len(queries)}")
    if not queries:
        if request.method == "POST":
            abort_with(400, "no query: give it as the 'query' parameter or the request body")
        return service_description()
    answer = _run(current_app, queries[0], other, request.headers.get("Accept"),
                  request.remote_addr)
    return Response(answer.body, headers=_answer_headers(answer), direct_passthrough=True)


def _run(app: Flask, sparql: str, other: dict[str, list[str]], accept: str | None,
         client: str | None) -> Answer:
    """Check and run one query; raises QueryError or an HTTP error the view renders."""
    if not sparql.strip():
        abort_with(400, "the query is empty")
    st: Settings = app.extensions["dpgkg_settings"]
    info = check_query(sparql, st)  # QueryError -> 400 through the error handler
    result_format, graph_format = _choose(_requested_format(other), accept)
    started = time.perf_counter()
    answer = pool(app).run(sparql, timeout=st.query_timeout,
                           **dataset_args(info, other["default-graph-uri"],
                                          other["named-graph-uri"]),
                           result_format=result_format, graph_format=graph_format,
                           client=client, services=info.services)
    # Never the query text or results in the log: the form, the format and the time.
    log.debug("sparql %s -> %s in %.1f ms", info.form, answer.format.name,
              (time.perf_counter() - started) * 1000)
    return answer


def _answer_headers(answer: Answer) -> list[tuple[str, str]]:
    headers = [("Content-Type", answer.format.content_type), ("Vary", "Accept"),
               ("Cache-Control", "no-cache")]
    if answer.length is not None:
        headers.append(("Content-Length", str(answer.length)))
    return headers


class FastPath:
    """WSGI middleware: GET /sparql with one query, answered without Flask when it succeeds.

    Anything else goes to the app unchanged; an error met here goes to the app too,
    in the environ, so the view renders it like any other (`FAST_PATH_ERROR`).
    """

    def __init__(self, app: Flask, cors_headers: dict[str, str]):
        self.app = app
        self.next = app.wsgi_app
        self.cors = list(cors_headers.items())

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/sparql" or environ.get("REQUEST_METHOD") != "GET" \
                or REFUSED in environ:
            return self.next(environ, start_response)
        params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        queries = params.get("query", [])
        if len(queries) != 1 or "update" in params:
            return self.next(environ, start_response)
        other = {k: params.get(k, []) for k in OTHER_PARAMETERS}
        try:
            answer = _run(self.app, queries[0], other, environ.get("HTTP_ACCEPT"),
                          environ.get("REMOTE_ADDR"))
        except Exception as exc:  # noqa: BLE001 - rendered by the app's error handlers
            environ[FAST_PATH_ERROR] = exc
            return self.next(environ, start_response)
        start_response("200 OK", _answer_headers(answer) + self.cors)
        return answer.body


# The service description ---------------------------------------------------------

def _sd_triples(endpoint_iri: str, st: Settings) -> list[ox.Triple]:
    sd = lambda term: ox.NamedNode(SD + term)
    service = ox.NamedNode(endpoint_iri)
    dataset = ox.NamedNode(endpoint_iri + "#dataset")
    default_graph = ox.NamedNode(endpoint_iri + "#default-graph")
    triples = [
        ox.Triple(service, RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(service, DCT_TITLE, ox.Literal("dpgkg SPARQL endpoint", language="en")),
        ox.Triple(dataset, RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, sd("Graph")),
    ]
    if st.service_allow_list:
        triples.append(ox.Triple(service, sd("feature"), sd("BasicFederatedQuery")))
    for f in [*formats.RESULT_FORMATS.values(), *formats.RDF_FORMATS.values()]:
        triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(f.iri)))
    return triples


def service_description():
    mt = negotiate(request.headers.get("Accept"), SD_OFFERS)
    if mt is None:
        abort_with(406, "the service description is available as: " + ", ".join(SD_OFFERS))
    if mt == "text/html":  # a person with a browser wants the query page
        has_site = "site.query" in current_app.view_functions
        target = url_for("site.query") if has_site else "/query"
        return redirect(target, code=303)
    fmt = formats.by_media_type(mt, formats.RDF_FORMATS)
    endpoint_iri = url_for("sparql.endpoint", _external=True)
    kwargs = {"prefixes": {"sd": SD, "dct": "http://purl.org/dc/terms/"}} \
        if fmt.ox_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    body = ox.serialize(_sd_triples(endpoint_iri, settings()), format=fmt.ox_format, **kwargs)
    resp = Response(body, content_type=fmt.content_type)
    resp.vary.add("Accept")
    return resp
