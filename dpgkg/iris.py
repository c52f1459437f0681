"""The one place where IRIs of instance data and URLs are minted.

Every IRI is derived from a stable key (registry file name, ISO code, member
name), so a rebuild gives the same IRIs. The base is configurable. :class:`IRIs`
mints the graph's resources; :class:`Site` the site's documents and pages.
"""

from __future__ import annotations

import re
import unicodedata

import pyoxigraph as ox
from pyoxigraph import NamedNode

from dpgkg.config import DEFAULT_BASE_IRI


def site_root(base_iri: str = DEFAULT_BASE_IRI, public_url: str | None = None) -> str:
    """The site's root URL (ending in "/"): `public_url` when configured, else the public
    site of the base IRI (:attr:`Site.public`: the base less its final ``id/``)."""
    root = public_url or Site(base_iri).public
    return root if root.endswith("/") else root + "/"


def is_iri(text: str) -> bool:
    """Whether `text` is an absolute IRI (RFC 3987, as the store parses it).

    Request paths become IRIs (``/id/<path>`` is ``base + path``); a path that is no IRI
    (``a<b``, ``%FF``, a control character) names nothing, so callers answer 404 rather
    than letting the store's parser fail.
    """
    try:
        NamedNode(text)
    except ValueError:
        return False
    return True


def slugify(text: str) -> str:
    """ASCII, lower case, hyphen-separated: 'UNDP India (Delhi)' -> 'undp-india-delhi'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


REGISTRY_COMMIT_BASE = "https://github.com/DPGAlliance/publicgoods-candidates/commit/"


class IRIs:
    """Mints instance IRIs under one base, e.g. ``IRIs().solution('kobotoolbox')``."""

    def __init__(self, base: str = DEFAULT_BASE_IRI):
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _n(self, path: str) -> NamedNode:
        return NamedNode(self.base + path)

    # Registry
    def solution(self, record_id: str) -> NamedNode:
        return self._n(f"dpg/{record_id}")

    def part(self, parent: NamedNode, fragment: str) -> NamedNode:
        """A node that belongs to one resource and is described in its document."""
        return NamedNode(f"{parent.value}#{fragment}")

    def organisation(self, name: str) -> NamedNode:
        return self._n(f"org/{slugify(name)}")

    def sector(self, name: str) -> NamedNode:
        return self._n(f"sector/{slugify(name)}")

    def country(self, alpha2: str) -> NamedNode:
        return self._n(f"country/{alpha2.upper()}")

    def record_graph(self, folder: str, record_id: str) -> NamedNode:
        """The named graph that holds one registry file's triples."""
        return self._n(f"graph/{folder}/{record_id}")

    # Alliance and UN reference data
    def alliance(self) -> NamedNode:
        return self._n("org/digital-public-goods-alliance")

    def membership(self, member_name: str) -> NamedNode:
        return self._n(f"membership/{slugify(member_name)}")

    def recommendation(self, rec_id: str) -> NamedNode:
        return self._n(f"recommendation/{rec_id}")

    def roadmap_area(self, number: int | str) -> NamedNode:
        return self._n(f"roadmap-area/{number}")

    def compact_objective(self, number: int | str) -> NamedNode:
        return self._n(f"compact-objective/{number}")

    def reference_graph(self, name: str) -> NamedNode:
        """Named graph of one reference source: 'sdg', 'countries', 'members', 'licences'..."""
        return self._n(f"graph/{name}")

    # Provenance and build products
    def source(self, name: str) -> NamedNode:
        return self._n(f"source/{name}")

    def build(self, build_id: str) -> NamedNode:
        return self._n(f"build/{build_id}")

    @staticmethod
    def registry_commit(sha: str) -> NamedNode:
        """A commit of the registry's repository, at its public address (the same SHA
        wherever the history was read from)."""
        return NamedNode(REGISTRY_COMMIT_BASE + sha)

    def inferred_graph(self) -> NamedNode:
        return self._n("graph/inferred")

    def validation_graph(self) -> NamedNode:
        return self._n("graph/validation")

    def to_path(self, iri: str) -> str | None:
        """The path below the base of an IRI we minted, or None."""
        return iri[len(self.base):] if iri.startswith(self.base) else None


class Site:
    """Where documents live: the public site (stable IRIs) and the root answering now (URLs)."""

    def __init__(self, base_iri: str, root: str | None = None):
        self.iris = IRIs(base_iri)
        base = self.iris.base
        self.public = base[:-3] if base.endswith("/id/") else base
        self.root = root if root else self.public
        if not self.root.endswith("/"):
            self.root += "/"

    def url(self, path: str) -> str:
        return self.root + path.lstrip("/")

    def catalogue_iri(self) -> ox.NamedNode:
        return ox.NamedNode(self.public + "catalog")

    def graph_dataset_iri(self) -> ox.NamedNode:
        """The whole graph as one dataset: the VoID dataset and the dumps' dcat:Dataset."""
        return ox.NamedNode(self.public + ".well-known/void#dataset")

    def publisher_iri(self) -> ox.NamedNode:
        return ox.NamedNode(self.public + "#publisher")

    def page_path(self, iri: str) -> str | None:
        """Path of a resource's page on this site (resources are served below /id/)."""
        path = self.iris.to_path(iri)
        return None if path is None or "#" in path else "id/" + path

    def document(self, iri: str, ext: str) -> str | None:
        path = self.page_path(iri)
        return None if path is None else self.url(f"{path}.{ext}")

    def record(self, iri: str) -> str | None:
        """The URL of a resource's DCAT record (its dataset description): /catalog/<path>."""
        path = self.iris.to_path(iri)
        return None if path is None or "#" in path else self.url("catalog/" + path)

    def page(self, iri: str) -> str | None:
        path = self.page_path(iri)
        return None if path is None else self.url(path)
