"""What the web blueprints share: the store and settings of the app, and the RDF
formats a resource is offered in."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request

from dpgkg.config import Settings
from dpgkg.iris import site_root
from dpgkg.publish.formats import PAGE_FORMATS, RDF_FORMATS
from dpgkg.web.conneg import negotiate  # noqa: F401 (re-exported for the blueprints)
from dpgkg.web.errors import abort_with as abort  # noqa: F401

# The RDF syntaxes a resource is offered in, in the order they are advertised.
_WANTED = ("application/ld+json", "text/turtle", "application/n-triples", "application/rdf+xml")
RDF_BY_MEDIA_TYPE = {f.media_type: f for f in RDF_FORMATS.values() if f.media_type in _WANTED}
RDF = {mt: RDF_BY_MEDIA_TYPE[mt] for mt in _WANTED}
FORMAT_NAMES = {f.media_type: f.label for f in (PAGE_FORMATS["html"], *RDF.values())}


def store():
    """The served graph for the pages and resources: read through the query pool."""
    return current_app.extensions["dpgkg_reads"]


def settings() -> Settings:
    return current_app.extensions["dpgkg_settings"]


def public_root() -> str:
    """The site's root URL from the settings (never from the request's Host header)."""
    st = settings()
    return site_root(st.base_iri, st.public_url)


def public_url(path: str) -> str:
    """The absolute URL of a path of this site (``/catalog`` -> ``<root>catalog``)."""
    return public_root() + path.lstrip("/")


class App(Flask):
    """Flask whose external URLs (``url_for(..., _external=True)``) start at the
    configured public root: Flask builds them from the Host header, which a client
    can set to anything (cache poisoning, links to another site in the catalogue)."""

    def url_for(self, endpoint: str, *, _anchor: str | None = None,
                _method: str | None = None, _scheme: str | None = None,
                _external: bool | None = None, **values) -> str:
        if not has_request_context() or not (_external or _scheme):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method,
                                   _scheme=_scheme, _external=_external, **values)
        path = super().url_for(endpoint, _anchor=_anchor, _method=_method,
                               _external=False, **values)
        return public_url(path[len(request.script_root):])
