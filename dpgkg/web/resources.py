"""Dereferenceable IRIs: one URL per resource, HTML or RDF by Accept or suffix.

``/id/<path>`` is ``settings.base_iri + path`` (whatever the base), ``/sdg/<notation>``
is the UN SDG concept, ``/ontology`` and ``/shapes`` are their named graphs, and
``/context.jsonld`` is the JSON-LD context the solution documents use.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request, url_for

from dpgkg.publish import resources as R
from dpgkg.publish.cache import per_version
from dpgkg.publish.jsonld import published_context
from dpgkg.web import common
from dpgkg.web.conditional import Validators

bp = Blueprint("resources", __name__)

SUFFIXES = {".html": "text/html", **{f.suffix: f.media_type for f in common.RDF.values()}}
OFFERS = ["text/html", *(f.media_type for f in common.RDF.values()), "application/json"]


def _split_suffix(path: str) -> tuple[str, str | None]:
    for suffix in SUFFIXES:
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)], suffix
    return path, None


def _headers(resp: Response, validators: Validators, path: str, media_type: str) -> None:
    validators.apply(resp)
    resp.vary.add("Accept")
    resp.headers["Link"] = ", ".join(
        f'<{path}{suffix}>; rel="alternate"; type="{mt}"'
        for suffix, mt in SUFFIXES.items() if mt != media_type)


def alternates(path: str) -> list[tuple[str, str, str]]:
    """(url, media type, name) of every representation of the document at `path`."""
    return [(f"{path}{suffix}", mt, common.FORMAT_NAMES[mt]) for suffix, mt in SUFFIXES.items()]


def _serve(path: str, suffix: str | None, iri: str, load, render_html,
           exists=None):
    """Negotiate, describe (via `load`), answer 304s, and serialise or render.

    `exists()` says cheaply whether there is anything to serve, so a conditional request
    for what does not exist is a 404, not a 304 (default: `iri` is a subject).
    """
    if suffix:
        media_type = SUFFIXES[suffix]
    else:
        media_type = common.negotiate(request.headers.get("Accept", ""), OFFERS)
        if media_type == "application/json":  # plain-JSON clients get the JSON-LD
            media_type = "application/ld+json"
        if media_type is None:
            common.abort(406, "acceptable formats: " + ", ".join(OFFERS))
    # The HTML has views (`?view=all`, an SDG page's `?stage=`): each its own ETag.
    validators = Validators(media_type, path, query=media_type == "text/html")
    store = common.store()
    if request.if_none_match or request.if_modified_since:
        found = exists() if exists is not None else R.exists(store, iri)
        if not found:
            common.abort(404, f"nothing is known about {request.path}")
        not_modified = validators.not_modified()
        if not_modified is not None:
            _headers(not_modified, validators, path, media_type)
            return not_modified
    if media_type == "application/ld+json":
        body = R.jsonld_bytes(store, load, iri, url_for("resources.context", _external=True))
        if body is None:
            common.abort(404, f"nothing is known about {request.path}")
        resp = Response(body, mimetype="application/ld+json")
    else:
        description = load()
        if description is None:
            common.abort(404, f"nothing is known about {request.path}")
        if media_type == "text/html":
            resp = Response(render_html(description, alternates(path)), mimetype="text/html")
        else:
            fmt = common.RDF_BY_MEDIA_TYPE[media_type]
            resp = Response(R.serialize(description, fmt.ox_format), mimetype=media_type)
            if media_type.startswith("text/"):
                resp.mimetype_params["charset"] = "utf-8"
    _headers(resp, validators, path, media_type)
    return resp


@bp.route("/id/<path:path>")
def resource(path: str):
    base_path, suffix = _split_suffix(path)
    settings = common.settings()

    iri = settings.base_iri + base_path

    from dpgkg.web.site import render_resource

    resp = _serve(request.path[: len(request.path) - len(suffix or "")], suffix, iri,
                  lambda: R.describe(common.store(), iri), render_resource)
    if base_path.startswith("dpg/") and resp.status_code in (200, 304):
        _describedby(resp, iri)
    return resp


def _describedby(resp: Response, iri: str) -> None:
    """A DPG names its DCAT record and (software) its CodeMeta: rel="describedby"."""
    from dpgkg.publish import catalogue as cat

    software = per_version(common.store(), "dpg-kinds", cat.dpg_kinds).get(iri)
    if software is None:
        return
    site = cat.Site(common.settings().base_iri, common.public_root())
    links = [f'<{site.record(iri)}>; rel="describedby"; type="text/turtle"']
    if software:
        links.append(f'<{site.page(iri)}/codemeta.json>; rel="describedby"; '
                     'type="application/ld+json"; profile="https://w3id.org/codemeta/3.0"')
    resp.headers["Link"] = ", ".join([resp.headers.get("Link", ""), *links]).lstrip(", ")


@bp.route("/sdg/<path:notation>")
def sdg(notation: str):
    notation, suffix = _split_suffix(notation)
    from dpgkg.web.site import render_resource

    iri = R.SDG_BASE + notation
    return _serve(url_for("resources.sdg", notation=notation), suffix, iri,
                  lambda: R.describe(common.store(), iri), render_resource)


def _graph_view(name: str, suffix: str | None):
    from dpgkg.web.site import render_graph

    iri = R.graph_iri_for(name)
    return _serve(url_for(f"resources.{name}"), suffix, iri,
                  lambda: R.describe_graph(common.store(), iri),
                  lambda d, alts: render_graph(name, d, alts),
                  exists=lambda: R.graph_exists(common.store(), iri))


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
    resp = Response(json.dumps(published_context(), indent=1), mimetype="application/ld+json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.cache_control.public = True
    resp.cache_control.max_age = 3600
    return resp

