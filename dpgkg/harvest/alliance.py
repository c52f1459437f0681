"""The alliance and its reference tables: members and memberships, the Digital Cooperation
recommendations, the Roadmap's areas of action and the Global Digital Compact's objectives.

The tables are this project's own facts (``data/``; their columns: ``data/README.md``)."""

from __future__ import annotations

import re
from collections import Counter

from pyoxigraph import NamedNode, Triple

from dpgkg.harvest import HarvestContext, HarvestedGraph, HarvestResult, Problem
from dpgkg.harvest.organisations import OrganisationTable, as_written
from dpgkg.harvest.provenance import graph_provenance, source_description
from dpgkg.rdf import DCAT, DCT, DPG, ORG, PROV, RDF, RDFS, SCHEMA, SKOS, TIME, XSD, lit
from dpgkg.sources import is_url
from dpgkg.sources.data import documents
from dpgkg.sources.reference import Row, display_path, parse_partial_date, read_csv_rows

__all__ = ["ALLIANCE_NAME", "ALLIANCE_URL", "JOINED_BASES", "MEMBER_TYPES", "harvest_alliance"]

ALLIANCE_NAME = "Digital Public Goods Alliance"
ALLIANCE_URL = "https://www.digitalpublicgoods.net/"

MEMBER_TYPES = {
    "government": DPG.Government,
    "multilateral": DPG.Multilateral,
    "foundation": DPG.Foundation,
    "nonprofit": DPG.Nonprofit,
    "company": DPG.Company,
}
JOINED_BASES = {
    "announcement": DPG.Announcement,
    "first-listed": DPG.FirstListed,
    "first-mentioned": DPG.FirstMentioned,
    "co-founder": DPG.CoFounder,
}
# xsd type of the value, and the time: property of an Instant that carries it
_PRECISION = {
    "date": (XSD.date, TIME.inXSDDate),
    "gYearMonth": (XSD.gYearMonth, TIME.inXSDgYearMonth),
    "gYear": (XSD.gYear, TIME.inXSDgYear),
}

_PRECISION_OF = {DPG.joined.value: DPG.joinedPrecision, DPG.left.value: DPG.leftPrecision}

_SCHEMES = {
    "recommendations": DPG.DigitalCooperationRecommendations,
    "roadmap": DPG.RoadmapForDigitalCooperation,
    "compact": DPG.GlobalDigitalCompact,
}
_ALPHA2 = re.compile(r"^[A-Za-z]{2}$")
_REC_ID = re.compile(r"^\d+[A-Z]?$")
_NUMBER = re.compile(r"^\d+$")


class _Table:
    """One CSV being harvested: its rows, where problems are reported, its triples."""

    def __init__(self, name: str, location: str, ctx: HarvestContext, result: HarvestResult):
        self.name, self.location, self.ctx, self.result = name, location, ctx, result
        self.path = display_path(name, location)
        self.graph = ctx.iris.reference_graph(name)
        self.triples: list[Triple] = []
        self.organisations: OrganisationTable | None = None
        self.names: Counter | None = None
        try:
            self.rows: list[Row] | None = read_csv_rows(location)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.rows = None
            self.problem(None, None, f"cannot read the CSV: {exc}")

    def problem(self, row: Row | None, column: str | None, message: str,
                severity: str = "error") -> None:
        where = None
        if row is not None:
            where = f"row {row.line}" + (f", column {column}" if column else "")
        self.result.problems.append(Problem(self.path, message, field=where, severity=severity))

    def add(self, s: NamedNode, p: NamedNode, o) -> None:
        self.triples.append(Triple(s, p, o))

    def finish(self, describes: NamedNode | None = None) -> None:
        if self.rows is None:
            return
        triples = self.triples + graph_provenance(self.ctx, self.graph, self.name, self.path,
                                                  describes=describes)
        triples += _source(self.ctx, self.name, self.location)
        self.result.graphs.append(
            HarvestedGraph(self.graph, f"reference/{self.name}", triples, subject=describes))


def _source(ctx: HarvestContext, name: str, location: str) -> list[Triple]:
    """The source description; these tables were compiled for the project and have an
    access URL only when read from one."""
    doc = documents()[name]
    title, description = doc["title"], doc["description"]
    if is_url(location):
        triples = source_description(ctx, name, title, location)
    else:
        s = ctx.iris.source(name)
        triples = [
            Triple(s, RDF.type, PROV.Entity),
            Triple(s, RDF.type, DCAT.Dataset),
            Triple(s, DCT.title, lit(title, lang="en")),
        ]
        if ctx.commit:
            triples.append(Triple(s, DPG.sourceCommit, lit(ctx.commit)))
    triples.append(Triple(ctx.iris.source(name), DCT.description, lit(description, lang="en")))
    return triples


def _split_ids(text: str) -> list[str]:
    return [x for x in re.split(r"[\s,;]+", text) if x]


# --- recommendations, roadmap, compact ----------------------------------------------------

def _concept(t: _Table, node: NamedNode, cls: NamedNode, notation: str, label: str,
             description: str | None) -> None:
    t.add(node, RDF.type, cls)
    t.add(node, RDF.type, SKOS.Concept)
    t.add(node, SKOS.inScheme, _SCHEMES[t.name])
    t.add(node, SKOS.notation, lit(notation))
    t.add(node, SKOS.prefLabel, lit(label, lang="en"))
    if description:
        t.add(node, DCT.description, lit(description, lang="en"))


def _recommendations(t: _Table, alliance: NamedNode) -> tuple[dict[str, NamedNode], set[str]]:
    """Recommendation nodes by id, and the ids the alliance answers (their summaries say so)."""
    found: dict[str, NamedNode] = {}
    answered: set[str] = set()
    for row in t.rows or []:
        rec_id = row.values.get("id", "").upper()
        if not _REC_ID.match(rec_id):
            t.problem(row, "id", f"not a recommendation id: {row.values.get('id', '')!r}; "
                                 "row skipped")
            continue
        if rec_id in found:
            t.problem(row, "id", f"recommendation {rec_id} listed twice; row skipped")
            continue
        node = t.ctx.iris.recommendation(rec_id)
        found[rec_id] = node
        summary = row.values.get("summary", "")
        _concept(t, node, DPG.Recommendation, rec_id, f"Recommendation {rec_id}", summary)
        if chapter := row.values.get("chapter"):
            t.add(node, DPG.chapter, lit(chapter, lang="en"))
        if row.values.get("answered_by", "").casefold() == ALLIANCE_NAME.casefold():
            t.add(alliance, DPG.answersRecommendation, node)
            answered.add(rec_id)
    if t.rows is not None and not answered:
        t.problem(None, "answered_by", "no recommendation is answered by the alliance",
                  severity="warning")
    return found, answered


def _roadmap(t: _Table, alliance: NamedNode, recommendations: dict[str, NamedNode],
             answered: set[str]) -> None:
    """Roadmap areas; the alliance contributes to those that follow up what it answers."""
    for row, number, title in _numbered_rows(t, "area", "area"):
        node = t.ctx.iris.roadmap_area(int(number))
        _concept(t, node, DPG.RoadmapArea, str(int(number)), title,
                 row.values.get("description"))
        for rec_id in _split_ids(row.values.get("follows_up", "")):
            rec_id = rec_id.upper()
            if not _REC_ID.match(rec_id):
                t.problem(row, "follows_up",
                          f"not a recommendation id: {rec_id!r}; link dropped", "warning")
                continue
            if recommendations and rec_id not in recommendations:
                t.problem(row, "follows_up",
                          f"unknown recommendation {rec_id!r}; link dropped", "warning")
                continue
            t.add(node, DPG.followsUp, t.ctx.iris.recommendation(rec_id))
            if rec_id in answered:
                t.add(alliance, DPG.contributesToRoadmapArea, node)


def _bound(t: _Table, row, membership, interval, column: str, fragment: str,
           shortcut, time_prop) -> None:
    """One end of a membership: the dated shortcut and the OWL-Time instant."""
    when = _instant(t, row, column)
    if when:
        instant = t.ctx.iris.part(membership, fragment)
        # the shortcut is always an xsd:date (the period's first day) so a filter is a
        # plain comparison; how precise it is known is said beside it (and by the instant)
        text = when[0].value
        t.add(membership, shortcut, lit((text + "-01-01")[:10], XSD.date))
        t.add(membership, _PRECISION_OF[shortcut.value],
              lit({4: "year", 7: "month"}.get(len(text), "day")))
        t.add(interval, time_prop, instant)
        t.add(instant, RDF.type, TIME.Instant)
        t.add(instant, when[1], when[0])


def _numbered_rows(t: _Table, kind: str, column: str):
    """(row, number, title) of each row with a new number in `column` and a title; the
    rest reported."""
    seen: set[str] = set()
    for row in t.rows or []:
        number = row.values.get(column, "")
        if not _NUMBER.match(number) or number in seen:
            t.problem(row, column, f"not a new {kind} number: {number!r}; row skipped")
            continue
        seen.add(number)
        title = row.values.get("title", "")
        if not title:
            t.problem(row, "title", "no title; row skipped")
            continue
        yield row, number, title


def _compact(t: _Table) -> None:
    for row, number, title in _numbered_rows(t, "objective", "objective"):
        node = t.ctx.iris.compact_objective(int(number))
        _concept(t, node, DPG.CompactObjective, str(int(number)), title,
                 row.values.get("description"))
        # what the objective continues: Roadmap areas by number, recommendations by id
        for ref in _split_ids(row.values.get("continues", "")):
            if ref.isdigit():
                t.add(node, DPG.continues, t.ctx.iris.roadmap_area(int(ref)))
            elif _REC_ID.match(ref.upper()):
                t.add(node, DPG.continues, t.ctx.iris.recommendation(ref.upper()))
            else:
                t.problem(row, "continues", f"neither a Roadmap area number nor a "
                          f"recommendation id: {ref!r}; link dropped", "warning")


# --- members --------------------------------------------------------------------------------

def _instant(t: _Table, row: Row, column: str):
    """The partial date in `column` as (literal, time: property), or None (blank or bad)."""
    text = row.values.get(column, "")
    if not text:
        return None
    try:
        when = parse_partial_date(text)
    except ValueError as exc:
        t.problem(row, column, f"{exc}; field dropped", "warning")
        return None
    datatype, prop = _PRECISION[when.precision]
    return lit(when.text, datatype), prop


def _organisation(t: _Table, name: str) -> NamedNode:
    """The organisation a member name denotes (the curated table decides), with the name
    as the member list writes it when that is not its preferred name."""
    if t.names is not None:
        t.names[as_written(name)] += 1
    preferred = t.organisations.preferred(name) if t.organisations is not None else name
    org = t.ctx.iris.organisation(preferred)
    t.add(org, RDF.type, DPG.Organisation)
    t.add(org, SCHEMA.name, lit(preferred))
    t.add(org, RDFS.label, lit(preferred))
    if as_written(name) != preferred:
        t.add(org, SKOS.altLabel, lit(as_written(name)))
        t.add(org, SCHEMA.alternateName, lit(as_written(name)))
    return org


def _members(t: _Table, alliance: NamedNode) -> None:
    t.add(alliance, RDF.type, DPG.Alliance)
    t.add(alliance, SCHEMA.name, lit(ALLIANCE_NAME))
    t.add(alliance, SCHEMA.url, NamedNode(ALLIANCE_URL))
    seen: set[str] = set()
    for row in t.rows or []:
        v = row.values
        name = v.get("name", "")
        if not name:
            t.problem(row, "name", "no member name; row skipped")
            continue
        key = t.ctx.iris.membership(name).value
        if key in seen:
            t.problem(row, "name", f"{name!r} listed twice; row skipped")
            continue
        seen.add(key)

        org = _organisation(t, name)
        member_type = v.get("type", "").lower()
        if member_type in MEMBER_TYPES:
            t.add(org, DPG.memberType, MEMBER_TYPES[member_type])
        elif member_type:
            t.problem(row, "type", f"unknown member type {v['type']!r} (expected one of "
                                   f"{', '.join(MEMBER_TYPES)}); field dropped", "warning")
        country = v.get("headquarters", "")
        if _ALPHA2.match(country):
            t.add(org, DPG.headquarters, t.ctx.iris.country(country))
        elif country:
            t.problem(row, "headquarters", f"not an ISO 3166 alpha-2 code: {country!r}; "
                                      "field dropped", "warning")

        m = t.ctx.iris.membership(name)
        interval = t.ctx.iris.part(m, "interval")
        t.add(m, RDF.type, ORG.Membership)
        t.add(m, ORG.member, org)
        t.add(m, ORG.organization, alliance)
        t.add(m, ORG.memberDuring, interval)
        t.add(interval, RDF.type, TIME.Interval)
        _bound(t, row, m, interval, "joined", "start", DPG.joined, TIME.hasBeginning)
        basis = v.get("joined_basis", "").lower()
        if basis in JOINED_BASES:
            t.add(m, DPG.joinedBasis, JOINED_BASES[basis])
        elif basis:
            t.problem(row, "joined_basis", f"unknown basis {v['joined_basis']!r} (expected "
                                           f"one of {', '.join(JOINED_BASES)}); field dropped",
                      "warning")
        _bound(t, row, m, interval, "left", "end", DPG.left, TIME.hasEnd)
        # A left date that did not parse still says the membership ended.
        t.add(m, DPG.isCurrent, lit(not v.get("left")))
        if note := v.get("note"):
            t.add(m, RDFS.comment, lit(note))
        if predecessor := v.get("predecessor"):
            before = _organisation(t, predecessor)
            if before == org:
                t.problem(row, "predecessor", "a member cannot be its own predecessor; "
                                              "field dropped", "warning")
                continue
            t.add(org, DPG.predecessor, before)
            t.add(before, DPG.successor, org)
    # A predecessor named above and then met as a member row was given its triples twice.
    t.triples = list(dict.fromkeys(t.triples))


def harvest_alliance(locations: dict[str, str], ctx: HarvestContext,
                     organisations: OrganisationTable | None = None,
                     organisation_names: Counter | None = None) -> HarvestResult:
    """Graphs ``reference_graph`` 'members', 'recommendations', 'roadmap', 'compact'.

    ``locations`` maps those four names to CSV paths or URLs; a missing key skips that
    table. A malformed row is a Problem naming the file, the row's line and the column;
    the row is skipped (no id/name) or the bad field dropped. `organisations` (the
    curated table) makes each member the node of the organisation its name denotes;
    member names as written are counted into `organisation_names` when given.
    """
    result = HarvestResult()
    alliance = ctx.iris.alliance()
    recommendations: dict[str, NamedNode] = {}
    answered: set[str] = set()

    if "members" in locations:
        members = _Table("members", locations["members"], ctx, result)
        members.organisations, members.names = organisations, organisation_names
        _members(members, alliance)
        members.finish(describes=alliance)
    if "recommendations" in locations:
        recs = _Table("recommendations", locations["recommendations"], ctx, result)
        recommendations, answered = _recommendations(recs, alliance)
        recs.finish(describes=_SCHEMES["recommendations"])
    if "roadmap" in locations:
        roadmap = _Table("roadmap", locations["roadmap"], ctx, result)
        _roadmap(roadmap, alliance, recommendations, answered)
        roadmap.finish(describes=_SCHEMES["roadmap"])
    if "compact" in locations:
        compact = _Table("compact", locations["compact"], ctx, result)
        _compact(compact)
        compact.finish(describes=_SCHEMES["compact"])
    return result
