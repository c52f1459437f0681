"""The change feed for harvesters (docs/changes-feed.md).

    /changes[?since=<build version or ISO date/date-time>][&page=N][&page_size=M]
        ActivityStreams 2.0: the OrderedCollection, or with ?page= one of its pages
        (application/activity+json; application/ld+json with the AS2 profile and
        application/json by Accept); an HTML summary of the latest builds for browsers
    /changes/<version>/<key>    one activity
    /changes/graph?iri=<graph IRI>   that named graph as served now, as N-Quads

The feed lists the builds published up to the version served (a build publishes its
entry just before it is swapped in). Pages and entries are built by
`dpgkg.publish.activities` from the files `dpgkg.sources.feed` reads; the graph is
read through the query pool like every page.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from dpgkg.publish import activities as A
from dpgkg.publish.dumps import dumps_root
from dpgkg.sources import feed as files
from dpgkg.web.common import abort, negotiate, public_root, settings, store
from dpgkg.web.conditional import Validators

bp = Blueprint("changes", __name__)

# Offered in this order; */* gets the first.
OFFERS = [A.AS2_MEDIA_TYPE, "application/ld+json", "application/json"]
CONTENT_TYPES = {"application/ld+json": A.AS2_PROFILE}
HTML_BUILDS = 30
NQUADS = "application/n-quads"


def _wants_html() -> bool:
    accept = request.headers.get("Accept") or ""
    return "text/html" in accept and negotiate(accept, ["text/html", *OFFERS]) == "text/html"


def _summaries() -> list[dict]:
    served = store().version()
    return [s for s in files.read_summaries(dumps_root(settings().store))
            if s["version"] <= served]


def _int_arg(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"{name} must be an integer")
    if value < 1 or (maximum is not None and value > maximum):
        abort(400, f"{name} must be between 1 and {maximum}" if maximum
              else f"{name} must be at least 1")
    return value


def _json(doc: dict, media_type: str, validators: Validators) -> Response:
    resp = Response(json.dumps(doc, indent=1, ensure_ascii=False), status=200)
    resp.headers["Content-Type"] = CONTENT_TYPES.get(media_type, media_type)
    resp.vary.add("Accept")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return validators.apply(resp)


def _media_type() -> str:
    if request.args.get("format") == "as2":  # what the first feed linked to
        return A.AS2_MEDIA_TYPE
    chosen = negotiate(request.headers.get("Accept"), OFFERS)
    if chosen is None:
        abort(406, "the change feed is JSON: " + ", ".join(OFFERS))
    return chosen


@bp.route("/changes")
def changes():
    if _wants_html():
        resp = Response(render_template("changes.html", title="Changes per build",
                                        builds=_summaries()[::-1][:HTML_BUILDS]),
                        mimetype="text/html")
        resp.vary.add("Accept")
        return resp
    since = None
    if "since" in request.args:
        try:
            since = A.parse_since(request.args["since"])
        except A.BadSince as exc:
            abort(400, str(exc))
    size = _int_arg("page_size", A.DEFAULT_PAGE_SIZE, A.MAX_PAGE_SIZE)
    page = _int_arg("page", 0) if "page" in request.args else None
    media_type = _media_type()
    urls = A.FeedURLs(public_root(), since, size)
    feed = A.Feed(_summaries(), lambda v: files.read_entry(dumps_root(settings().store), v),
                  urls)
    if page is not None and page > feed.last:  # 404 before any 304
        abort(404, f"the feed has {feed.last} page{'s' if feed.last > 1 else ''} "
                   f"of {size} activities")
    validators = Validators(media_type)
    if (not_modified := validators.not_modified()) is not None:
        not_modified.vary.add("Accept")
        return not_modified
    doc = feed.collection() if page is None else feed.page(page)
    resp = _json(doc, media_type, validators)
    links = [f'<{urls.page(1)}>; rel="first"', f'<{urls.page(feed.last)}>; rel="last"']
    if page is not None and page > 1:
        links.append(f'<{urls.page(page - 1)}>; rel="prev"')
    if page is not None and page < feed.last:
        links.append(f'<{urls.page(page + 1)}>; rel="next"')
    resp.headers["Link"] = ", ".join(links)
    return resp


@bp.route("/changes/<version>/<key>")
def activity(version: str, key: str):
    if not A.VERSION.fullmatch(version) or version > store().version():
        abort(404, "no build with this version in the feed")
    found = A.find_activity(files.read_entry(dumps_root(settings().store), version), key,
                            A.FeedURLs(public_root()))
    if found is None:
        abort(404, "no activity with this id in the feed")
    media_type = _media_type()
    validators = Validators(media_type)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    return _json(found, media_type, validators)


@bp.route("/changes/graph")
def graph():
    """A named graph's content now, as N-Quads (what an activity's object.url names)."""
    iri = request.args.get("iri", "")
    try:
        name = ox.NamedNode(iri)
    except ValueError:
        abort(400, "iri must be the IRI of a named graph of the feed")
    if not store().ask(f"ASK {{ GRAPH {name} {{ ?s ?p ?o }} }}"):
        abort(404, "no such named graph in the graph served now (a later activity of "
                   "the feed deletes it)")
    validators = Validators(NQUADS)
    if (not_modified := validators.not_modified()) is not None:
        return not_modified
    triples = store().query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}")
    body = ox.serialize((ox.Quad(t.subject, t.predicate, t.object, name) for t in triples),
                        format=ox.RdfFormat.N_QUADS)
    resp = Response(body, mimetype=NQUADS)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return validators.apply(resp)
