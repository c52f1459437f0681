"""The one place where IRIs of instance data and URLs are minted.

Every IRI is derived from a stable key (registry file name, ISO code, member
name), so a rebuild gives the same IRIs. The base is configurable.
"""

from __future__ import annotations

import re
import unicodedata

from pyoxigraph import NamedNode

from dpgkg.config import DEFAULT_BASE_IRI


def slugify(text: str) -> str:
    """ASCII, lower case, hyphen-separated: 'UNDP India (Delhi)' -> 'undp-india-delhi'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


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

    def inferred_graph(self) -> NamedNode:
        return self._n("graph/inferred")

    def validation_graph(self) -> NamedNode:
        return self._n("graph/validation")

    def to_path(self, iri: str) -> str | None:
        """The path below the base of an IRI we minted, or None."""
        return iri[len(self.base):] if iri.startswith(self.base) else None
