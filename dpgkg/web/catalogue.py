"""What lets other catalogues harvest the graph: DCAT catalogue, VoID, dumps, sitemap
and CodeMeta (the change feed: :mod:`dpgkg.web.changes`).

    /catalog[.jsonld|.ttl|.rdf]?page=N&page_size=M   DCAT-AP 3, paged with Hydra
    /.well-known/void[.ttl|.jsonld|.rdf]              VoID of the whole graph
    /dumps/  /dumps/<file>                            the dumps of the graph served now
    /sitemap.xml                                      resource pages
    /id/dpg/<id>/codemeta.json                        CodeMeta 3 of a software DPG

The work is done by the framework-free builders in `dpgkg.publish`; the views only
negotiate the format and serialise.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, redirect, render_template, request, send_file

from dpgkg.publish import catalogue as cat
from dpgkg.publish.codemeta import CODEMETA_MEDIA_TYPE, codemeta
from dpgkg.publish.dumps import DUMP_FORMATS, VOID_STATISTICS, dumps_root, read_dumps
from dpgkg.publish.formats import RDF_FORMATS
from dpgkg.publish.openapi import openapi
from dpgkg.web.common import public_root, public_url, settings, store
from dpgkg.web.conditional import Validators
from dpgkg.web.conneg import negotiate

bp = Blueprint("catalogue", __name__)

# The syntaxes the catalogue and VoID are offered in, Turtle first (from the registry).
RDF_OFFERS = {f.media_type: (f.ext, f.ox_format) for f in (
    RDF_FORMATS[n] for n in ("turtle", "jsonld", "rdfxml", "ntriples"))}
SUFFIXES = {ext: mt for mt, (ext, _) in RDF_OFFERS.items()}




def _media_type(suffix: str | None, default: str = "text/turtle") -> str:
    if suffix:
        if suffix not in SUFFIXES:
            abort(404)
        return SUFFIXES[suffix]
    offers = list(RDF_OFFERS)
    if default in offers:
        offers.remove(default)
        offers.insert(0, default)
    chosen = negotiate(request.headers.get("Accept"), offers)
    if chosen is None:
        abort(406)
    return chosen


def wants_html() -> bool:
    """A browser (text/html named before anything this document also comes in): the HTML
    view, a separate branch; machines keep their formats by Accept."""
    accept = request.headers.get("Accept") or ""
    return "text/html" in accept and negotiate(
        accept, ["text/html", "application/json", *RDF_OFFERS]) == "text/html"


def _html(template: str, **context) -> Response:
    resp = Response(render_template(template, **context), mimetype="text/html")
    resp.mimetype_params["charset"] = "utf-8"
    resp.vary.add("Accept")
    return resp


_DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset"
_DCT_TITLE = "http://purl.org/dc/terms/title"


def _datasets(triples) -> list[dict]:
    titles, datasets = {}, []
    for t in triples:
        if t.predicate.value == _DCT_TITLE and t.subject.value not in titles:
            titles[t.subject.value] = t.object.value
        elif t.predicate.value.endswith("#type") and t.object.value == _DCAT_DATASET:
            datasets.append(t.subject.value)
    return sorted(({"iri": d, "title": titles.get(d, d)} for d in dict.fromkeys(datasets)),
                  key=lambda x: x["title"].lower())


def _rdf_response(triples, media_type: str, alternates_of: str,
                  validators: Validators) -> Response:
    body = cat.serialize(triples, RDF_OFFERS[media_type][1])
    resp = Response(body, mimetype=media_type)
    resp.headers["Vary"] = "Accept"
    # Alternates keep the query (page 2 in Turtle is page 2 in JSON-LD).
    query = request.query_string.decode("latin-1")
    query = "?" + query if query else ""
    resp.headers["Link"] = ", ".join(
        f'<{alternates_of}.{ext}{query}>; rel="alternate"; type="{mt}"'
        for mt, (ext, _) in RDF_OFFERS.items())
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return validators.apply(resp)


def _int_arg(name: str, default: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        abort(400, description=f"{name} must be an integer")
    if value < 1:
        abort(400, description=f"{name} must be at least 1")
    return value


def _dumps():
    return read_dumps(dumps_root(settings().store), store().version())


def _graph_dataset():
    st, root = store(), dumps_root(settings().store)
    saved = root / st.version() / VOID_STATISTICS if root else None
    return cat.graph_dataset_triples(st, base_iri=settings().base_iri,
                                     root=public_root(), dumps=_dumps(),
                                     saved_statistics=saved)


@bp.route("/catalog", defaults={"suffix": None})
@bp.route("/catalog.<suffix>")
def catalog(suffix: str | None):
    if "id" in request.args:  # one DPG's record: /catalog?id=<id or IRI>
        wanted = request.args["id"]
        iri = wanted if wanted.startswith(settings().base_iri) else \
            settings().base_iri + "dpg/" + wanted
        url = cat.Site(settings().base_iri, public_root()).record(iri)
        if url is None or not cat.is_dpg(store(), iri):
            abort(404, description=f"no DPG {wanted!r} in the catalogue")
        return redirect(url + (f".{suffix}" if suffix else ""), code=303)
    html = not suffix and wants_html()
    media_type = "text/html" if html else _media_type(suffix)
    page = _int_arg("page", 1)
    size = _int_arg("page_size", cat.DEFAULT_PAGE_SIZE)
    info = cat.PageInfo(page, min(size, cat.MAX_PAGE_SIZE),
                        cat.dpg_count(store()))
    if page > info.last:  # 404 before any 304
        abort(404, description=f"the catalogue has {info.last} pages of {info.size}")
    validators = Validators(media_type)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    url = public_url(request.path)
    triples, info = cat.catalogue_page(
        store(), base_iri=settings().base_iri, root=public_root(), url=url,
        page=page, page_size=size, graph_dataset=_graph_dataset() if page == 1 else None)
    if html:
        return validators.apply(_html(
            "catalog.html", title="Catalogue", datasets=_datasets(triples), info=info,
            formats=[(f"{request.path}.{ext}", mt) for mt, (ext, _) in RDF_OFFERS.items()]))
    return _rdf_response(triples, media_type, public_url("catalog"), validators)


@bp.route("/catalog/<path:path>")
def record(path: str):
    """One DPG's DCAT description: /catalog/dpg/<id>[.ttl|.jsonld|.rdf|.nt]."""
    suffix = next((ext for ext in SUFFIXES if path.endswith("." + ext)), None)
    if suffix:
        path = path[: -len(suffix) - 1]
    media_type = _media_type(suffix)
    iri = settings().base_iri + path
    if not cat.is_dpg(store(), iri):
        abort(404, description="no DPG with this id in the catalogue")
    validators = Validators(media_type)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    triples = cat.dpg_record(store(), base_iri=settings().base_iri, iri=iri,
                             root=public_root())
    return _rdf_response(triples, media_type, public_url("catalog/" + path), validators)


@bp.route("/.well-known/void", defaults={"suffix": None})
@bp.route("/.well-known/void.<suffix>")
def void(suffix: str | None):
    media_type = _media_type(suffix)
    validators = Validators(media_type)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    return _rdf_response(_graph_dataset(), media_type, public_url(".well-known/void"),
                         validators)


@bp.route("/dumps/")
def dumps_index():
    if wants_html():
        return _html("dumps.html", title="Dumps", version=store().version(), dumps=_dumps())
    validators = Validators("application/json")
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    resp = Response(json.dumps(
        {"version": store().version(),
         "dumps": [{**d.to_json(), "url": public_url("dumps/" + d.path.name)}
                   for d in _dumps()]}, indent=1), mimetype="application/json")
    return validators.apply(resp)


@bp.route("/dumps/<name>")
def dump_file(name: str):
    if name not in DUMP_FORMATS:
        abort(404)
    found = {d.path.name: d for d in _dumps()}
    if name not in found:
        abort(404, description="no dump of the graph served now (yet)")
    d = found[name]
    resp = send_file(d.path, mimetype=d.media_type, as_attachment=False, conditional=True,
                     etag=d.sha256)
    resp.headers["Digest"] = f"sha-256={d.sha256}"
    return resp


@bp.route("/sitemap.xml")
def sitemap():
    validators = Validators("application/xml")
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    urls = cat.sitemap_entries(store(), base_iri=settings().base_iri, root=public_root())
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in urls:
        lines.append(f"<url><loc>{escape(loc)}</loc>"
                     + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "") + "</url>")
    lines.append("</urlset>")
    return validators.apply(Response("\n".join(lines) + "\n", mimetype="application/xml"))


@bp.route("/id/dpg/<record_id>/codemeta.json")
def codemeta_json(record_id: str):
    try:
        iri = cat.Site(settings().base_iri).iris.solution(record_id).value
    except ValueError:  # the id makes no IRI (`a<b`, `%FF`): no DPG can have it
        abort(404, description="no software DPG with this id")
    doc = codemeta(store(), iri)
    if doc is None:
        abort(404, description="no software DPG with this id")
    validators = Validators(CODEMETA_MEDIA_TYPE)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    return validators.apply(Response(json.dumps(doc, indent=1, ensure_ascii=False),
                                     mimetype=CODEMETA_MEDIA_TYPE))


@bp.route("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 description of this interface."""
    validators = Validators("application/json")
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    st = settings()
    doc = openapi(public_root(), query_timeout=st.query_timeout,
                  max_body_bytes=st.max_body_bytes)
    resp = Response(json.dumps(doc, indent=1), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return validators.apply(resp)
