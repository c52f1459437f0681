"""What the web blueprints share: the store and settings of the app, and the RDF
formats a resource is offered in."""

from __future__ import annotations

from flask import current_app

from dpgkg.config import Settings
from dpgkg.publish.formats import RDF_FORMATS
from dpgkg.web.conneg import negotiate  # noqa: F401 (re-exported for the blueprints)
from dpgkg.web.errors import abort_with as abort  # noqa: F401

# The RDF syntaxes a resource is offered in, in the order they are advertised.
_WANTED = ("application/ld+json", "text/turtle", "application/n-triples", "application/rdf+xml")
RDF_BY_MEDIA_TYPE = {f.media_type: f for f in RDF_FORMATS.values() if f.media_type in _WANTED}
RDF = {mt: RDF_BY_MEDIA_TYPE[mt] for mt in _WANTED}
FORMAT_NAMES = {"text/html": "HTML", "application/ld+json": "JSON-LD", "text/turtle": "Turtle",
                "application/n-triples": "N-Triples", "application/rdf+xml": "RDF/XML"}


def store():
    return current_app.extensions["dpgkg_store"]


def settings() -> Settings:
    return current_app.extensions["dpgkg_settings"]
