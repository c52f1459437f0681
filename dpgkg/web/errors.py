"""Errors in one place: every HTTP error, query error and store outage, as JSON or HTML.

The body is ``{"error": {"status": 404, "title": "Not Found", "detail": "..."}}`` for
API clients and a small HTML page for browsers, chosen by ``Accept``. Views raise
with :func:`abort_with`; nothing else renders an error.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from dpgkg.config import PROJECT_ROOT
from dpgkg.publish.sparql import QueryError
from dpgkg.store import StoreUnavailable
from dpgkg.web.conneg import negotiate

log = logging.getLogger(__name__)

# JSON first: API clients that say */* (curl, SPARQL libraries) get JSON; browsers
# list text/html explicitly and get the page.
OFFERS = ["application/json", "text/html", "application/problem+json"]


class HTTPError(HTTPException):
    """An HTTP error with our detail text and optional extra headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(description=detail)
        self.code = status
        self.extra_headers = dict(headers or {})


def abort_with(status: int, detail: str, headers: dict[str, str] | None = None):
    """Stop the request with this status and a detail a user can act on."""
    raise HTTPError(status, detail, headers)


# An absolute filesystem path (not part of a URL): at least two segments after a "/"
# that no word character, ":" or "/" precedes.
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.%~-])/(?:[\w.@+~-]+/)+[\w.@+~-]*")


def _server_paths() -> list[str]:
    """Directories of this server that an error text may name (longest first)."""
    found = {tempfile.gettempdir(), str(Path.home()), sys.prefix, str(PROJECT_ROOT)}
    settings = current_app.extensions.get("dpgkg_settings")
    for where in (settings.store, settings.sources) if settings else ():
        if where and "://" not in where:
            found |= {where, str(Path(where).resolve())}
    return sorted((p for p in found if len(p) > 1), key=len, reverse=True)


def public_detail(status: int, detail: str) -> str:
    """The detail without the server's filesystem paths (a store directory, a file an
    OSError names): they tell a client nothing it can act on, and an attacker where
    things are. An outage is logged with the full text (`handle_unavailable`)."""
    for root in _server_paths():
        detail = re.sub(r"(?<![\w/.~-])" + re.escape(root) + r"(?![\w.~-])[^\s'\"]*",
                        "[a path on the server]", detail)
    if status >= 500:  # only server texts: a 4xx may quote the client's own request path
        detail = _ABSOLUTE_PATH.sub("[a path on the server]", detail)
    return detail


def error_body(status: int, title: str, detail: str) -> dict:
    return {"error": {"status": status, "title": title, "detail": detail}}


def render_error(status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None) -> Response:
    """The error as JSON or HTML, whichever the request's Accept prefers."""
    detail = public_detail(status, detail)
    choice = negotiate(request.headers.get("Accept"), OFFERS) or "application/json"
    if choice == "text/html":
        body = render_template("error.html", status=status, title=title, detail=detail)
        resp = Response(body, status=status, mimetype="text/html")
        resp.mimetype_params["charset"] = "utf-8"
    else:
        resp = Response(json.dumps(error_body(status, title, detail), ensure_ascii=False),
                        status=status, mimetype=choice)
    resp.vary.add("Accept")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _loggable_path() -> str:
    """The request path as sent (percent-encoded): a decoded %0A would start a forged
    line in the log."""
    return quote(request.path, safe="/:@!$&'()*+,;=~")


def handle_http(exc: HTTPException) -> Response:
    headers = dict(getattr(exc, "extra_headers", {}))
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers.setdefault("Allow", ", ".join(exc.valid_methods))
    return render_error(exc.code or 500, exc.name, exc.description or exc.name, headers)


def handle_query_error(exc: QueryError) -> Response:
    status = getattr(exc, "status", 400)
    title = HTTP_STATUS_CODES.get(status, "Error")
    return render_error(status, title, str(exc), getattr(exc, "headers", None))


def handle_unavailable(exc: StoreUnavailable) -> Response:
    # One line for the operator, with the store's own words (the client's copy loses
    # any server path); no traceback: the store being down is not a bug here.
    log.warning("store unavailable on %s %s: %s", request.method, _loggable_path(), exc)
    return render_error(503, "Service Unavailable", str(exc), {"Retry-After": "30"})


def handle_unexpected(exc: Exception) -> Response:
    # The traceback goes to the log (never the query text or results); the client
    # gets a generic message.
    log.exception("unhandled %s on %s %s", type(exc).__name__, request.method,
                  _loggable_path())
    return render_error(500, "Internal Server Error",
                        "the server failed to answer this request; it has been logged")


def init_app(app: Flask) -> None:
    """Register the one handler for every blueprint (app-level handlers cover them all)."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(QueryError, handle_query_error)
    app.register_error_handler(StoreUnavailable, handle_unavailable)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
