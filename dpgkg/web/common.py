"""What the linked-data and site blueprints share: the store, settings, formats, errors.

Uses the app's shared pieces (`dpgkg.web.conneg`, `dpgkg.publish.formats`,
`dpgkg.web.errors`) and only falls back to small local versions while one of
them is missing, so the blueprints can be developed and tested on their own.
"""

from __future__ import annotations

from collections import namedtuple

import pyoxigraph as ox
from flask import abort as flask_abort
from flask import current_app

from dpgkg.config import Settings

try:
    from dpgkg.publish.formats import RDF_FORMATS
except ImportError:  # pragma: no cover - until the shared format registry exists
    _F = namedtuple("Format", "name media_type suffix ox_format aliases")
    RDF_FORMATS = {
        "jsonld": _F("jsonld", "application/ld+json", ".jsonld", ox.RdfFormat.JSON_LD, ()),
        "turtle": _F("turtle", "text/turtle", ".ttl", ox.RdfFormat.TURTLE, ()),
        "ntriples": _F("ntriples", "application/n-triples", ".nt", ox.RdfFormat.N_TRIPLES, ()),
        "rdfxml": _F("rdfxml", "application/rdf+xml", ".rdf", ox.RdfFormat.RDF_XML, ()),
    }

try:
    from dpgkg.web.conneg import negotiate
except ImportError:  # pragma: no cover
    def negotiate(accept_header: str | None, offers: list[str]) -> str | None:
        """The offer the client prefers (first offer when it does not say)."""
        if not accept_header or not accept_header.strip():
            return offers[0]
        best, best_q = None, 0.0
        for i, part in enumerate(accept_header.split(",")):
            fields = [f.strip() for f in part.split(";")]
            mt, q = fields[0].lower(), 1.0
            for f in fields[1:]:
                if f.startswith("q="):
                    try:
                        q = float(f[2:])
                    except ValueError:
                        q = 0.0
            for offer in offers:
                if mt in (offer, "*/*", offer.split("/")[0] + "/*"):
                    specific = 0 if mt == "*/*" else (1 if mt.endswith("/*") else 2)
                    rank = q + specific * 1e-3 - offers.index(offer) * 1e-6
                    if q > 0 and rank > best_q:
                        best, best_q = offer, rank
        return best

try:
    from dpgkg.web.errors import abort_with
except ImportError:  # pragma: no cover
    def abort_with(status: int, detail: str):
        flask_abort(status, description=detail)

# The RDF syntaxes a resource is offered in, in the order they are advertised.
_WANTED = ("application/ld+json", "text/turtle", "application/n-triples", "application/rdf+xml")
RDF_BY_MEDIA_TYPE = {f.media_type: f for f in RDF_FORMATS.values() if f.media_type in _WANTED}
RDF = {mt: RDF_BY_MEDIA_TYPE[mt] for mt in _WANTED if mt in RDF_BY_MEDIA_TYPE}
FORMAT_NAMES = {"text/html": "HTML", "application/ld+json": "JSON-LD", "text/turtle": "Turtle",
                "application/n-triples": "N-Triples", "application/rdf+xml": "RDF/XML"}


def store():
    return current_app.extensions["dpgkg_store"]


def settings() -> Settings:
    for found in (current_app.extensions.get("dpgkg_settings"),
                  current_app.config.get("DPGKG_SETTINGS"), current_app.config.get("SETTINGS")):
        if isinstance(found, Settings):
            return found
    return Settings.from_env()


def abort(status: int, detail: str):
    abort_with(status, detail)
    flask_abort(status)  # abort_with always raises; this line keeps type checkers calm
