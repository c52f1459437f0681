"""Where things are on this site: the local page of an IRI, and the page parameter."""

from __future__ import annotations

from urllib.parse import quote

from flask import g, request, url_for

from dpgkg.publish import resources as R
from dpgkg.rdf import ONTOLOGY_IRI, SHAPES_IRI
from dpgkg.web import common

SDG_BASE = R.SDG_BASE


# What url_for leaves unquoted in a path (werkzeug's safe characters for a path part).
_SAFE = "/:@!$&'()*+,;=-._~"


def _prefixes() -> tuple[str, str, str]:
    """The base IRI and the paths /id/ and /sdg/ are served at, once per request: a page
    links hundreds of resources, and url_for costs ~50 µs a call."""
    found = g.get("_dpgkg_prefixes")
    if found is None:
        found = g._dpgkg_prefixes = (common.settings().base_iri,
                                     url_for("resources.resource", path="x")[:-1],
                                     url_for("resources.sdg", notation="x")[:-1])
    return found


def local_url(iri: str) -> str:
    """Where an IRI is served on this site (external IRIs link to themselves)."""
    base, id_path, sdg_path = _prefixes()
    if iri.startswith(base):
        path, _, frag = iri[len(base) :].partition("#")
        url = id_path + quote(path, safe=_SAFE)
        return f"{url}#{frag}" if frag else url
    if iri.startswith(SDG_BASE) and "/" not in iri[len(SDG_BASE) :]:
        return sdg_path + quote(iri[len(SDG_BASE) :], safe=_SAFE)
    if iri.startswith(ONTOLOGY_IRI):
        return url_for("resources.ontology") + iri[len(ONTOLOGY_IRI) :]
    if iri.startswith(SHAPES_IRI):
        return url_for("resources.shapes") + iri[len(SHAPES_IRI) :]
    return iri


def page_number() -> int:
    """The `page` parameter: a whole number from 1, else a 404 (no page is there)."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        common.abort(404, f"no page {raw!r}: pages are numbered from 1")
    return int(raw)
