"""The web app: `create_app(settings, test_config)` wires the store, blueprints, errors, CORS.

Blueprints: the SPARQL endpoint (`dpgkg.web.sparql`), linked-data resources
(`dpgkg.web.resources`), the catalogue (`dpgkg.web.catalogue`) and the human
site (`dpgkg.web.site`); one error handler (`dpgkg.web.errors`) serves them all.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask, Response, has_request_context, jsonify, request

from dpgkg.config import Settings
from dpgkg.publish.querypool.reads import PooledReads
from dpgkg.store import StoreUnavailable, open_store
from dpgkg.web import common, errors, security
from dpgkg.web.gateway import REFUSED

log = logging.getLogger(__name__)

# Every blueprint is part of the app: one that fails to import fails the app (no
# half-app serving without, say, its SPARQL endpoint).
BLUEPRINTS = ("dpgkg.web.sparql", "dpgkg.web.resources", "dpgkg.web.catalogue",
              "dpgkg.web.changes",
              "dpgkg.web.site", "dpgkg.web.pages", "dpgkg.web.validate")
# Modules whose views join another module's blueprint (the browse and search views, on the
# site's): imported before the blueprints are registered.
VIEWS = ("dpgkg.web.lists",)

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
    app = common.App(__name__, static_folder=None)
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
    # The pages' and resources' queries run in the query pool, under the query timeout.
    from dpgkg.web.sparql import pool as sparql_pool

    app.extensions["dpgkg_reads"] = PooledReads(
        app.extensions["dpgkg_store"], lambda: sparql_pool(app), settings.query_timeout,
        lambda: request.remote_addr if has_request_context() else None)

    errors.init_app(app)
    for name in VIEWS:
        importlib.import_module(name)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)

    init_cors(app)

    @app.before_request
    def refused_by_gateway():
        # A request the gateway refused before reading it all (body too large or too
        # slow): rendered here so it gets the same JSON or HTML as every other error.
        refused = request.environ.get(REFUSED)
        if refused is not None:
            errors.abort_with(*refused)

    security.init_app(app)
    from dpgkg.web.sparql import FastPath

    app.wsgi_app = FastPath(app, {**CORS_HEADERS, **security.EVERY_RESPONSE})

    @app.route("/health")
    def health():
        try:
            version = app.extensions["dpgkg_store"].version()
        except StoreUnavailable as exc:
            return errors.handle_unavailable(exc)
        pool = app.extensions.get("dpgkg_querypool")
        warm = app.extensions.get("dpgkg_warm")
        # Healthy means answered at full speed: queries, pages and validations.
        if (pool is not None and not pool.ready()) or (warm is not None and not warm.is_set()):
            return errors.render_error(503, "Service Unavailable", "the server is starting",
                                       {"Retry-After": "1"})
        return jsonify({"status": "ok", "version": version})

    if app.config.get("SPARQL_POOL_WARM"):
        from dpgkg.web.sparql import start_pool

        start_pool(app)
        start_warming(app)
    return app


def start_warming(app: Flask) -> None:
    """Do once, before the server reports healthy, what the first requests of a fresh
    worker would otherwise wait for: the validation process with its shapes (1.5 s) and
    the templates and the tables kept per store version of the HTML pages (home, browse,
    search, organisations, a DPG's page). Under load those stalls queued every request
    behind them."""
    import threading

    from dpgkg.publish.worldmap import world_map
    from dpgkg.web import validate

    done = threading.Event()
    app.extensions["dpgkg_warm"] = done

    def warm() -> None:
        try:
            with app.app_context():
                validate.warm(app.extensions["dpgkg_settings"])
                world_map(app.extensions["dpgkg_settings"].world_atlas)
                for name in app.jinja_env.list_templates(extensions=["html"]):
                    app.jinja_env.get_template(name)  # compiled once, not on a first request
            with app.test_client() as client:
                for path in WARM_PATHS:
                    client.get(path, headers={"Accept": "text/html"})
                # a DPG's page: the tables every DPG page reads (labels, countries,
                # indicators, licence approvals, the world map)
                with app.test_request_context():
                    dpg = _a_dpg_page(app)
                if dpg:
                    client.get(dpg, headers={"Accept": "text/html"})
        except Exception as exc:  # noqa: BLE001 (it fails again for its request, and says so)
            log.warning("warming up stopped: %s", str(exc).splitlines()[0] if str(exc) else
                        type(exc).__name__)
        finally:
            done.set()

    threading.Thread(target=warm, name="dpgkg-warm", daemon=True).start()


WARM_PATHS = ("/", "/dpgs", "/sdg/1", "/search?q=data", "/organisations", "/validate")


def _a_dpg_page(app: Flask) -> str | None:
    from dpgkg.publish import catalogue as cat
    from dpgkg.publish.cache import per_version
    from dpgkg.web.links import local_url

    kinds = per_version(app.extensions["dpgkg_reads"], "dpg-kinds", cat.dpg_kinds)
    return local_url(min(kinds)) if kinds else None


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
