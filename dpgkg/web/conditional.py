"""Conditional GET for every published document, with werkzeug's own machinery.

Every document the site publishes is a function of the store version, the request's
path and query, and the representation chosen: that is its entity tag. Its
Last-Modified is the build's time. ``werkzeug.http.is_resource_modified`` compares
(weakly for If-None-Match, as RFC 9110 13.1.2 says; If-None-Match wins over
If-Modified-Since). A view checks existence first, then asks `not_modified`: a
document that does not exist is a 404 whatever the client sends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Response, request
from werkzeug.http import is_resource_modified

from dpgkg.web import common

_STARTED = datetime.now(UTC).replace(microsecond=0)


def last_modified(version: str) -> datetime:
    """A build's time from its version id (``20261127T055512056376Z``), else the start time."""
    try:
        return datetime.strptime(version[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return _STARTED


class Validators:
    """The ETag and Last-Modified of one representation of one document."""

    def __init__(
        self, media_type: str, path: str | None = None, query: bool = True, extra: str = ""
    ):
        version = common.store().version()
        path = request.path if path is None else path
        q = request.query_string.decode("latin-1") if query else ""
        self.etag = hashlib.sha1(f"{version} {path}?{q} {media_type} {extra}".encode()).hexdigest()[
            :24
        ]
        self.modified = last_modified(version)

    def not_modified(self) -> Response | None:
        """A 304 carrying the validators if the client's copy is current, else None."""
        if request.method not in ("GET", "HEAD"):
            return None
        if is_resource_modified(request.environ, etag=self.etag, last_modified=self.modified):
            return None
        return self.apply(Response(status=304))

    def apply(self, resp: Response) -> Response:
        resp.set_etag(self.etag)
        resp.last_modified = self.modified
        return resp
