"""What lets other catalogues harvest the graph: DCAT catalogue, VoID, dumps, sitemap,
change feed and CodeMeta.

    /catalog[.jsonld|.ttl|.rdf]?page=N&page_size=M   DCAT-AP 3, paged with Hydra
    /.well-known/void[.ttl|.jsonld|.rdf]              VoID of the whole graph
    /dumps/  /dumps/<file>                            the dumps of the graph served now
    /sitemap.xml                                      resource pages
    /changes                                          added/changed/removed records per build
                                                      (JSON; ActivityStreams 2.0 by Accept or
                                                      ?format=as2)
    /id/dpg/<id>/codemeta.json                        CodeMeta 3 of a software DPG

The work is done by the framework-free builders in `dpgkg.publish`; the views only
negotiate the format and serialise.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

import pyoxigraph as ox
from flask import Blueprint, Response, abort, request, send_file

from dpgkg.publish import catalogue as cat
from dpgkg.publish.changes import activity_stream, read_feed
from dpgkg.publish.codemeta import CODEMETA_MEDIA_TYPE, codemeta
from dpgkg.publish.dumps import DUMP_FORMATS, VOID_STATISTICS, dumps_root, read_dumps
from dpgkg.web.common import settings, store

try:
    from dpgkg.web.conneg import negotiate
except ImportError:  # until the shared Accept parser lands
    def negotiate(accept, offers):
        """The first offer the Accept header names (q ignored), else the first offer."""
        for part in (accept or "").split(","):
            mt = part.split(";")[0].strip().lower()
            for offer in offers:
                if mt in (offer, offer.split("/")[0] + "/*"):
                    return offer
        return offers[0] if not accept or "*/*" in accept else None

bp = Blueprint("catalogue", __name__)

RDF_OFFERS = {"text/turtle": ("ttl", ox.RdfFormat.TURTLE),
              "application/ld+json": ("jsonld", ox.RdfFormat.JSON_LD),
              "application/rdf+xml": ("rdf", ox.RdfFormat.RDF_XML),
              "application/n-triples": ("nt", ox.RdfFormat.N_TRIPLES)}
SUFFIXES = {ext: mt for mt, (ext, _) in RDF_OFFERS.items()}
AS2_MEDIA_TYPE = "application/activity+json"




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


def _rdf_response(triples, media_type: str, alternates_of: str) -> Response:
    body = cat.serialize(triples, RDF_OFFERS[media_type][1])
    resp = Response(body, mimetype=media_type)
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = ", ".join(
        f'<{alternates_of}.{ext}>; rel="alternate"; type="{mt}"'
        for mt, (ext, _) in RDF_OFFERS.items())
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


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
                                     root=request.url_root, dumps=_dumps(),
                                     saved_statistics=saved)


@bp.route("/catalog", defaults={"suffix": None})
@bp.route("/catalog.<suffix>")
def catalog(suffix: str | None):
    media_type = _media_type(suffix)
    page = _int_arg("page", 1)
    size = _int_arg("page_size", cat.DEFAULT_PAGE_SIZE)
    url = request.base_url
    triples, info = cat.catalogue_page(
        store(), base_iri=settings().base_iri, root=request.url_root, url=url,
        page=page, page_size=size, graph_dataset=_graph_dataset() if page == 1 else None)
    if page > info.last:
        abort(404, description=f"the catalogue has {info.last} pages of {info.size}")
    return _rdf_response(triples, media_type, request.url_root + "catalog")


@bp.route("/.well-known/void", defaults={"suffix": None})
@bp.route("/.well-known/void.<suffix>")
def void(suffix: str | None):
    media_type = _media_type(suffix)
    return _rdf_response(_graph_dataset(), media_type, request.url_root + ".well-known/void")


@bp.route("/dumps/")
def dumps_index():
    return {"version": store().version(),
            "dumps": [{**d.to_json(), "url": request.url_root + "dumps/" + d.path.name}
                      for d in _dumps()]}


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
    urls = cat.sitemap_entries(store(), base_iri=settings().base_iri, root=request.url_root)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in urls:
        lines.append(f"<url><loc>{escape(loc)}</loc>"
                     + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "") + "</url>")
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", mimetype="application/xml")


@bp.route("/changes")
def changes():
    feed = read_feed(dumps_root(settings().store))
    wants_as2 = request.args.get("format") == "as2" or negotiate(
        request.headers.get("Accept"), ["application/json", AS2_MEDIA_TYPE]) == AS2_MEDIA_TYPE
    if wants_as2:
        body = activity_stream(feed, request.base_url)
        return Response(json.dumps(body, indent=1), mimetype=AS2_MEDIA_TYPE)
    resp = Response(json.dumps({"builds": feed}, indent=1), mimetype="application/json")
    resp.headers["Link"] = f'<{request.base_url}?format=as2>; rel="alternate"; type="{AS2_MEDIA_TYPE}"'
    return resp


@bp.route("/id/dpg/<record_id>/codemeta.json")
def codemeta_json(record_id: str):
    iri = cat.Site(settings().base_iri).iris.solution(record_id).value
    doc = codemeta(store(), iri)
    if doc is None:
        abort(404, description="no software DPG with this id")
    return Response(json.dumps(doc, indent=1, ensure_ascii=False), mimetype=CODEMETA_MEDIA_TYPE)
