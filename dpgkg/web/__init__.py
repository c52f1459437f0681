"""The web app: `create_app(settings, test_config)` wires the store, blueprints, errors, CORS.

Blueprints: the SPARQL endpoint (`dpgkg.web.sparql`), linked-data resources
(`dpgkg.web.resources`), the catalogue (`dpgkg.web.catalogue`) and the human
site (`dpgkg.web.site`); one error handler (`dpgkg.web.errors`) serves them all.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask, Response, jsonify, request

from dpgkg.config import Settings
from dpgkg.store import StoreUnavailable, open_store
from dpgkg.web import errors

log = logging.getLogger(__name__)

# Optional blueprints: each is registered when its module imports.
BLUEPRINTS = ("dpgkg.web.sparql", "dpgkg.web.resources", "dpgkg.web.catalogue",
              "dpgkg.web.site", "dpgkg.web.validate")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Link, ETag, Last-Modified, Content-Location, "
                                     "Retry-After, Content-Disposition",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
ALLOWED_REQUEST_HEADERS = "Accept, Accept-Language, Content-Type, If-None-Match, " \
                          "If-Modified-Since, Cache-Control"


def create_app(settings: Settings | None = None, test_config: dict | None = None) -> Flask:
    """The app over the store named in `settings` (default: from the environment).

    `test_config` overrides Flask config, e.g. ``{"TESTING": True}``; the query pool
    reads ``SPARQL_WORKERS``, ``SPARQL_IN_MEMORY``, ``SPARQL_HOLD_BYTES`` and
    starts at once when ``SPARQL_POOL_WARM`` is true (the server sets it).
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        DPGKG=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False
    # The store is opened once per process; the embedded store reopens by itself
    # when a build swaps in a new version.
    app.extensions["dpgkg_settings"] = settings
    app.extensions["dpgkg_store"] = open_store(
        settings.store, in_memory=bool(app.config.get("STORE_IN_MEMORY", False)),
        settings=settings)

    errors.init_app(app)
    for name in BLUEPRINTS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            log.warning("blueprint %s not available: %s", name, exc)
            continue
        app.register_blueprint(module.bp)

    init_cors(app)
    if "sparql" in app.blueprints:
        from dpgkg.web.sparql import FastPath

        app.wsgi_app = FastPath(app, CORS_HEADERS)

    @app.route("/health")
    def health():
        try:
            version = app.extensions["dpgkg_store"].version()
        except StoreUnavailable as exc:
            return errors.render_error(503, "Service Unavailable", str(exc),
                                       {"Retry-After": "30"})
        return jsonify({"status": "ok", "version": version})

    if app.config.get("SPARQL_POOL_WARM"):
        from dpgkg.web.sparql import start_pool

        start_pool(app)
    return app


def init_cors(app: Flask) -> None:
    """Every response may be read by any origin; preflights are answered before routing."""

    @app.before_request
    def preflight():
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            resp = Response(status=204)
            resp.headers.update(PREFLIGHT_HEADERS)
            asked = request.headers.get("Access-Control-Request-Headers")
            resp.headers["Access-Control-Allow-Headers"] = asked or ALLOWED_REQUEST_HEADERS
            return resp
        return None

    @app.after_request
    def cors(resp: Response) -> Response:
        for k, v in CORS_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp
