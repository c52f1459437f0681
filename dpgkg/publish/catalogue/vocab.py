"""The catalogue's vocabulary and fixed metadata: namespaces, titles, licence, paging."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import pyoxigraph as ox

from dpgkg.publish.formats import IANA
from dpgkg.rdf import (
    NS,
    PREFIXES,
)

HYDRA = NS("http://www.w3.org/ns/hydra/core#")


SPDX = NS("http://spdx.org/rdf/terms#")


DCATAP = NS("http://data.europa.eu/r5r/")


VCARD = NS("http://www.w3.org/2006/vcard/ns#")


EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


AVAILABILITY_STABLE = ox.NamedNode(
    "http://publications.europa.eu/resource/authority/planned-availability/STABLE")


CODEMETA_3 = ox.NamedNode("https://w3id.org/codemeta/3.0")


SDG_SCHEME = ox.NamedNode("http://metadata.un.org/sdg")


CATALOGUE_PREFIXES = {**PREFIXES, "hydra": str(HYDRA), "spdxt": str(SPDX),
                      "dcatap": str(DCATAP), "vcard": str(VCARD)}


DEFAULT_PAGE_SIZE = 50


MAX_PAGE_SIZE = 500


# The catalogue's own metadata licence (the graph re-publishes open sources; see README).
CATALOGUE_LICENCE = ox.NamedNode("http://spdx.org/licenses/CC-BY-4.0")


CATALOGUE_TITLE = "Digital Public Goods knowledge graph"


CATALOGUE_DESCRIPTION = (
    "The Digital Public Goods registry, the DPG Standard, the Sustainable Development "
    "Goals and the Digital Public Goods Alliance as one linked-data graph: one dataset "
    "per digital public good, plus full dumps of the graph.")


PUBLISHER_NAME = "dpgkg"


GZIP = ox.NamedNode(IANA + "application/gzip")


TYPE_KEYWORDS = {"Software": "software", "Data": "data", "Content": "content",
                 "Standard": "standard", "AIModel": "AI model"}


def _n(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _t(s, p, o) -> ox.Triple:
    return ox.Triple(s, p, o)


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


_CACHE_LOCK = threading.Lock()


def serialize(triples: Iterable[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    """Deduplicated triples in `fmt` (pyoxigraph: fast, and prefixes for Turtle)."""
    unique = list(dict.fromkeys(triples))
    kwargs = {}
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD):
        kwargs["prefixes"] = CATALOGUE_PREFIXES
    try:
        return ox.serialize(unique, format=fmt, **kwargs)
    except TypeError:  # a format without prefix support
        return ox.serialize(unique, format=fmt)
