"""Dereferenceable IRIs: one URL per resource, HTML or RDF by Accept or suffix.

``/id/<path>`` is ``settings.base_iri + path`` (whatever the base), ``/sdg/<notation>``
is the UN SDG concept, ``/ontology`` and ``/shapes`` are their named graphs, and
``/context.jsonld`` is the JSON-LD context the solution documents use.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for

from dpgkg.publish import resources as R
from dpgkg.web import common

bp = Blueprint("resources", __name__)

SUFFIXES = {".html": "text/html", **{f.suffix: f.media_type for f in common.RDF.values()}}
OFFERS = ["text/html", *(f.media_type for f in common.RDF.values()), "application/json"]
_STARTED = datetime.now(UTC).replace(microsecond=0)


def _split_suffix(path: str) -> tuple[str, str | None]:
    for suffix in SUFFIXES:
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)], suffix
    return path, None


def _last_modified(version: str) -> datetime:
    """A build's time from its version id (``20261127T055512056376Z``), else the start time."""
    try:
        return datetime.strptime(version[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return _STARTED


def _conditional(path: str, media_type: str) -> tuple[str, datetime, Response | None]:
    """ETag and Last-Modified of this representation, and a 304 if the client has it."""
    version = common.store().version()
    etag = hashlib.sha1(f"{version} {path} {media_type}".encode()).hexdigest()[:24]
    modified = _last_modified(version)
    not_modified = None
    if request.if_none_match:
        if request.if_none_match.contains(etag):
            not_modified = Response(status=304)
    elif request.if_modified_since and request.if_modified_since >= modified:
        not_modified = Response(status=304)
    if not_modified is not None:
        _headers(not_modified, etag, modified, path, media_type)
    return etag, modified, not_modified


def _headers(resp: Response, etag: str, modified: datetime, path: str, media_type: str) -> None:
    resp.set_etag(etag)
    resp.last_modified = modified
    resp.vary.add("Accept")
    resp.headers["Link"] = ", ".join(
        f'<{path}{suffix}>; rel="alternate"; type="{mt}"'
        for suffix, mt in SUFFIXES.items() if mt != media_type)


def alternates(path: str) -> list[tuple[str, str, str]]:
    """(url, media type, name) of every representation of the document at `path`."""
    return [(f"{path}{suffix}", mt, common.FORMAT_NAMES[mt]) for suffix, mt in SUFFIXES.items()]


def _serve(path: str, suffix: str | None, load, render_html, solution_ok: bool = True):
    """Negotiate, answer 304s, describe (via `load`), and serialise or render."""
    if suffix:
        media_type = SUFFIXES[suffix]
    else:
        media_type = common.negotiate(request.headers.get("Accept", ""), OFFERS)
        if media_type == "application/json":  # plain-JSON clients get the JSON-LD
            media_type = "application/ld+json"
        if media_type is None:
            common.abort(406, "acceptable formats: " + ", ".join(OFFERS))
    etag, modified, not_modified = _conditional(path, media_type)
    if not_modified is not None:
        return not_modified
    description = load()
    if description is None:
        common.abort(404, f"nothing is known about {request.path}")
    if media_type == "text/html":
        resp = Response(render_html(description, alternates(path)), mimetype="text/html")
    elif media_type == "application/ld+json":
        ctx = url_for("resources.context", _external=True)
        doc = (R.solution_jsonld(description, ctx) if solution_ok and R.is_solution(description)
               else R.generic_jsonld(description, ctx))
        resp = Response(json.dumps(doc, ensure_ascii=False, indent=1),
                        mimetype="application/ld+json")
    else:
        fmt = common.RDF_BY_MEDIA_TYPE[media_type]
        resp = Response(R.serialize(description, fmt.ox_format), mimetype=media_type)
        if media_type.startswith("text/"):
            resp.mimetype_params["charset"] = "utf-8"
    _headers(resp, etag, modified, path, media_type)
    return resp


@bp.route("/id/<path:path>")
def resource(path: str):
    base_path, suffix = _split_suffix(path)
    settings = common.settings()

    def load():
        found = R.describe(common.store(), settings.base_iri + base_path)
        if found is None and suffix:  # an IRI that really ends in ".ttl" etc.
            return None
        return found

    from dpgkg.web.site import render_resource

    return _serve(request.path[: len(request.path) - len(suffix or "")], suffix, load,
                  render_resource)


@bp.route("/sdg/<path:notation>")
def sdg(notation: str):
    notation, suffix = _split_suffix(notation)
    from dpgkg.web.site import render_resource

    return _serve(url_for("resources.sdg", notation=notation), suffix,
                  lambda: R.describe(common.store(), R.SDG_BASE + notation), render_resource)


def _graph_view(name: str, suffix: str | None):
    from dpgkg.web.site import render_graph

    return _serve(url_for(f"resources.{name}"), suffix,
                  lambda: R.describe_graph(common.store(), R.graph_iri_for(name)),
                  lambda d, alts: render_graph(name, d, alts), solution_ok=False)


@bp.route("/ontology")
def ontology():
    return _graph_view("ontology", None)


@bp.route("/ontology<any('.html', '.jsonld', '.ttl', '.nt', '.rdf'):suffix>")
def ontology_suffix(suffix: str):
    return _graph_view("ontology", suffix)


@bp.route("/shapes")
def shapes():
    return _graph_view("shapes", None)


@bp.route("/shapes<any('.html', '.jsonld', '.ttl', '.nt', '.rdf'):suffix>")
def shapes_suffix(suffix: str):
    return _graph_view("shapes", suffix)


@bp.route("/context.jsonld")
def context():
    resp = Response(json.dumps(R.published_context(), indent=1), mimetype="application/ld+json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp

