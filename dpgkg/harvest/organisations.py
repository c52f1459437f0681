"""One node per real organisation: the curated table ``data/organisations.csv`` decides
which names as written denote one organisation, which organisations are units of
another, and which similar names are different organisations; :mod:`.orgmatch` only
proposes. Everything here is pure: rows and names in, nodes, triples and a report out.

A name the table does not list is its own organisation (names equal but for case and
characters an IRI leaves out are one already: the IRI is minted from the name).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pyoxigraph import NamedNode, Triple

from dpgkg.harvest import HarvestContext, HarvestedGraph, Problem
from dpgkg.harvest.orgmatch import Candidate, propose
from dpgkg.harvest.provenance import graph_provenance
from dpgkg.iris import IRIs, slugify
from dpgkg.rdf import DCAT, DCT, DPG, FOAF, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, lit
from dpgkg.sources.reference import Row
from dpgkg.sources.registry import scrub_text

__all__ = [
    "ORGANISATION_TYPES",
    "OrgEntry",
    "OrganisationTable",
    "Reconciliation",
    "as_written",
    "organisation_graph",
    "reconcile",
    "record_names",
]

ORGANISATION_TYPES = {
    "government": DPG.Government,
    "multilateral": DPG.Multilateral,
    "foundation": DPG.Foundation,
    "nonprofit": DPG.Nonprofit,
    "company": DPG.Company,
    "academic": DPG.Academic,
    "community": DPG.Community,
}
# Where an external identifier may point: Wikidata entities and ROR ids.
_EXTERNAL = re.compile(r"^(?:http://www\.wikidata\.org/entity/Q\d+|https://ror\.org/0[a-z0-9]{8})$")
TABLE = "data/organisations.csv"


def as_written(name: str) -> str:
    """A name as its record wrote it, only runs of spaces made one."""
    return " ".join(name.split())


def _split(cell: str) -> list[str]:
    return [as_written(x) for x in cell.split(";") if x.strip()]


@dataclass
class OrgEntry:
    """One row of the table: an organisation and the names that denote it."""

    name: str
    variants: list[str] = field(default_factory=list)
    type: str = ""
    parent: str = ""
    same_as: str = ""
    same_as_source: str = ""
    distinct_from: list[str] = field(default_factory=list)
    note: str = ""
    line: int = 0


class OrganisationTable:
    """The curated table, checked: a name or variant in two rows, a parent or type that
    does not exist, an external identifier without its source are problems (the row or
    the field is dropped), never silently taken."""

    def __init__(self, rows: list[Row], source: str = TABLE):
        self.source = source
        self.entries: list[OrgEntry] = []
        self.problems: list[Problem] = []
        self._by_key: dict[str, OrgEntry] = {}
        for row in rows:
            self._add(row)
        for e in self.entries:
            self._check_links(e)

    def _problem(self, line: int, column: str, message: str, severity: str = "error") -> None:
        self.problems.append(
            Problem(self.source, message, field=f"row {line}, column {column}", severity=severity)
        )

    def _add(self, row: Row) -> None:
        v = row.values
        name = as_written(v.get("name", ""))
        if not name:
            self._problem(row.line, "name", "no organisation name; row skipped")
            return
        entry = OrgEntry(
            name,
            line=row.line,
            note=v.get("note", ""),
            parent=as_written(v.get("parent", "")),
            distinct_from=_split(v.get("distinct_from", "")),
        )
        names = [name] + [x for x in _split(v.get("variants", "")) if x != name]
        clash = [n for n in names if slugify(n) in self._by_key]
        if clash:
            other = self._by_key[slugify(clash[0])]
            self._problem(
                row.line,
                "variants" if clash[0] != name else "name",
                f"{clash[0]!r} is already a name of {other.name!r} (row {other.line}): "
                "a name denotes one organisation; row skipped",
            )
            return
        entry.variants = names[1:]
        kind = v.get("type", "").lower()
        if kind and kind not in ORGANISATION_TYPES:
            self._problem(
                row.line,
                "type",
                f"unknown type {kind!r} (expected one of "
                f"{', '.join(ORGANISATION_TYPES)}); field dropped",
                "warning",
            )
        else:
            entry.type = kind
        same_as, cited = v.get("same_as", ""), v.get("same_as_source", "")
        if same_as and not _EXTERNAL.match(same_as):
            self._problem(
                row.line,
                "same_as",
                f"{same_as!r} is not a Wikidata entity or ROR IRI; field dropped",
                "warning",
            )
        elif same_as and not cited:
            self._problem(
                row.line,
                "same_as_source",
                "an external identifier needs the source that gives it; same_as dropped",
                "warning",
            )
        else:
            entry.same_as, entry.same_as_source = same_as, cited
        self.entries.append(entry)
        for n in names:
            self._by_key[slugify(n)] = entry

    def _check_links(self, e: OrgEntry) -> None:
        if e.parent:
            parent = self.find(e.parent)
            seen = {e.name}
            while parent is not None and parent.name not in seen and parent.parent:
                seen.add(parent.name)
                parent = self.find(parent.parent)
            if self.find(e.parent) is None:
                self._problem(
                    e.line,
                    "parent",
                    f"parent {e.parent!r} is not a name of the table; field dropped",
                    "warning",
                )
                e.parent = ""
            elif parent is not None and parent.name in seen:
                self._problem(
                    e.line, "parent", f"parent {e.parent!r} makes a cycle; field dropped", "warning"
                )
                e.parent = ""
        for other in e.distinct_from:
            if self.find(other) is e:
                self._problem(
                    e.line,
                    "distinct_from",
                    f"{other!r} is a name of this same organisation",
                    "warning",
                )

    def find(self, name: str) -> OrgEntry | None:
        """The row naming `name` (case and punctuation as the IRI folds them), or None."""
        return self._by_key.get(slugify(as_written(name)))

    def preferred(self, name: str) -> str:
        """The organisation's preferred name: the table's, else the name itself."""
        e = self.find(name)
        return e.name if e is not None else name

    def node(self, iris: IRIs, name: str) -> NamedNode:
        return iris.organisation(self.preferred(name))

    def parent_of(self, name: str) -> OrgEntry | None:
        e = self.find(name)
        return self.find(e.parent) if e is not None and e.parent else None

    def ancestors(self, name: str) -> list[str]:
        out: list[str] = []
        p = self.parent_of(name)
        while p is not None and p.name not in out:
            out.append(p.name)
            p = self.parent_of(p.name)
        return out

    def kept_apart(self, a: str, b: str) -> bool:
        """Whether the table says on purpose that `a` and `b` are different organisations:
        one lists the other as distinct, or one is a unit of the other."""
        ea, eb = self.find(a), self.find(b)
        pa, pb = self.preferred(a), self.preferred(b)
        for e, other in ((ea, b), (eb, a)):
            if e is not None and any(
                slugify(self.preferred(x)) == slugify(self.preferred(other))
                for x in e.distinct_from
            ):
                return True
        return pa in self.ancestors(b) or pb in self.ancestors(a)

    def settles(self, c: Candidate) -> bool:
        a, b = self.find(c.a), self.find(c.b)
        return (a is not None and a is b) or self.kept_apart(c.a, c.b)


def organisation_graph(table: OrganisationTable, ctx: HarvestContext) -> HarvestedGraph:
    """id:graph/organisations: every organisation of the table with its preferred name,
    variants, type, parent, external identifier and the organisations it is not."""
    iris = ctx.iris
    graph = iris.reference_graph("organisations")
    triples: list[Triple] = []
    add = lambda s, p, o: triples.append(Triple(s, p, o))
    for e in table.entries:
        node = iris.organisation(e.name)
        add(node, RDF.type, DPG.Organisation)
        add(node, RDF.type, FOAF.Agent)
        add(node, SCHEMA.name, lit(e.name))
        add(node, RDFS.label, lit(e.name))
        for v in e.variants:
            add(node, SKOS.altLabel, lit(v))
            add(node, SCHEMA.alternateName, lit(v))
        if e.type:
            add(node, DPG.organisationType, ORGANISATION_TYPES[e.type])
        if e.parent:
            parent = iris.organisation(table.preferred(e.parent))
            add(node, ORG.subOrganizationOf, parent)
            add(node, SCHEMA.parentOrganization, parent)
        if e.same_as:
            add(node, OWL.sameAs, NamedNode(e.same_as))
        for other in e.distinct_from:
            add(node, OWL.differentFrom, table.node(iris, other))
        if e.note:
            add(node, RDFS.comment, lit(e.note, lang="en"))
    triples += graph_provenance(ctx, graph, "organisations", TABLE)
    source = iris.source("organisations")
    add(source, RDF.type, PROV.Entity)
    add(source, RDF.type, DCAT.Dataset)
    add(source, DCT.title, lit("Organisations and the names written for them", lang="en"))
    add(
        source,
        DCT.description,
        lit(
            "Curated for this project: which organisation names written in the DPG registry "
            "and the alliance's member list denote one organisation, its units, and similar "
            "names that are other organisations.",
            lang="en",
        ),
    )
    return HarvestedGraph(graph, "reference/organisations", list(dict.fromkeys(triples)))


@dataclass
class Reconciliation:
    """What the table made of the names met: for `dpgkg organisations` and the build."""

    groups: dict[str, list[str]]  # preferred name -> names as written (2 or more)
    units: dict[str, str]  # unit -> parent (preferred names)
    apart: list[Candidate]  # candidate pairs the table keeps apart
    unsettled: list[Candidate]  # candidate pairs the table does not settle yet
    unused: list[str]  # table names and variants no source writes
    problems: list[Problem]

    def summary(self) -> dict:
        return {
            "merged_groups": len(self.groups),
            "units": len(self.units),
            "kept_apart": len(self.apart),
            "unsettled_candidates": len(self.unsettled),
        }

    def text(self) -> str:
        out = ["# merged: one organisation, the names written for it"]
        for name, written in sorted(self.groups.items(), key=lambda kv: kv[0].casefold()):
            out.append(f"{name}")
            out += [f"    = {w}" for w in written if w != name]
        out.append("\n# units: unit -> the organisation it is part of")
        out += [
            f"{u} -> {p}" for u, p in sorted(self.units.items(), key=lambda kv: kv[0].casefold())
        ]
        out.append("\n# kept apart on purpose")
        out += [f"{c.a} != {c.b} ({c.reason})" for c in self.apart]
        out.append(
            f"\n# candidates the table does not settle yet: {len(self.unsettled)} "
            f"(add them to {TABLE}: one row, or distinct_from, or parent)"
        )
        out += [f"{c.a} ~ {c.b} ({c.reason})" for c in self.unsettled]
        if self.unused:
            out.append(f"\n# names of {TABLE} no source writes")
            out += self.unused
        return "\n".join(out) + "\n"


def reconcile(table: OrganisationTable, names: Counter) -> Reconciliation:
    """The table applied to `names` (names as written, with how often they are written)."""
    written: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, str] = {}
    for n, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])):
        key = slugify(table.preferred(n))
        written[key].add(as_written(n))
        shown.setdefault(key, table.preferred(n))
    groups = {
        shown[k]: sorted(v, key=str.casefold)
        for k, v in written.items()
        if len(v) > 1 or shown[k] not in v
    }
    units = {e.name: table.preferred(e.parent) for e in table.entries if e.parent}
    apart, unsettled = [], []
    for c in propose(names):
        if table.settles(c):
            if table.kept_apart(c.a, c.b):
                apart.append(c)
        else:
            unsettled.append(c)
    seen = {slugify(as_written(n)) for n in names}
    unused = [n for e in table.entries for n in e.variants if slugify(n) not in seen]
    problems = list(table.problems)
    if unsettled:
        problems.append(
            Problem(
                TABLE,
                f"{len(unsettled)} candidate pairs of organisation "
                "names are not settled by the table: run `dpgkg organisations` "
                "and extend it",
                severity="warning",
            )
        )
    return Reconciliation(groups, units, apart, unsettled, unused, problems)


def record_names(record: object) -> list[str]:
    """The organisation names a registry record writes (for the reconciliation)."""
    orgs = record.get("organizations") if isinstance(record, dict) else None
    if not isinstance(orgs, list):
        return []
    return [
        as_written(scrub_text(o["name"]))
        for o in orgs
        if isinstance(o, dict) and isinstance(o.get("name"), str) and o["name"].strip()
    ]
