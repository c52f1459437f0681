"""Errors in one place: every HTTP error, query error and store outage, as JSON or HTML.

The body is ``{"error": {"status": 404, "title": "Not Found", "detail": "..."}}`` for
API clients and a small HTML page for browsers, chosen by ``Accept``. Views raise
with :func:`abort_with`; nothing else renders an error.
"""

from __future__ import annotations

import json
import logging
from html import escape

from flask import Flask, Response, render_template, request
from jinja2 import TemplateNotFound
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

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


def error_body(status: int, title: str, detail: str) -> dict:
    return {"error": {"status": status, "title": title, "detail": detail}}


def render_error(status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None) -> Response:
    """The error as JSON or HTML, whichever the request's Accept prefers."""
    choice = negotiate(request.headers.get("Accept"), OFFERS) or "application/json"
    if choice == "text/html":
        try:
            body = render_template("error.html", status=status, title=title, detail=detail)
        except TemplateNotFound:
            body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{status} {escape(title)}</title></head><body>"
                    f"<h1>{status} {escape(title)}</h1><p>{escape(detail)}</p>"
                    f"<p><a href=\"/\">Home</a></p></body></html>")
        resp = Response(body, status=status, mimetype="text/html")
        resp.mimetype_params["charset"] = "utf-8"
    else:
        resp = Response(json.dumps(error_body(status, title, detail), ensure_ascii=False),
                        status=status, mimetype=choice)
    resp.vary.add("Accept")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


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
    return render_error(503, "Service Unavailable", str(exc), {"Retry-After": "30"})


def handle_unexpected(exc: Exception) -> Response:
    # The traceback goes to the log (never the query text or results); the client
    # gets a generic message.
    log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
    return render_error(500, "Internal Server Error",
                        "the server failed to answer this request; it has been logged")


def init_app(app: Flask) -> None:
    """Register the one handler for every blueprint (app-level handlers cover them all)."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(QueryError, handle_query_error)
    app.register_error_handler(StoreUnavailable, handle_unavailable)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
