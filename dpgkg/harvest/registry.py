"""Registry records -> RDF, per docs/model.md (one named graph per registry file).

Normalisation, in short (details in :mod:`dpgkg.sources.registry`):

* ``""``, ``[""]`` and whitespace-only are no answer;
* contact names and e-mail addresses (every key mentioning e-mail or contact) are
  dropped, and e-mail addresses inside free text become "[e-mail removed]";
* URLs are stripped; a field holding several URLs or a URL inside text gives each URL;
  ``www.example.org`` gets ``https://``; characters an IRI cannot hold are
  percent-encoded; what still is not an absolute IRI is dropped with a warning;
* SPDX ids are normalised (GPL-3.0 -> GPL-3.0-only), the id as written is kept on the
  licence declaration; an id not on the SPDX list is kept only as
  ``dpg:spdxIdAsWritten`` with a warning;
* organisations with the same normalised name are one resource; sectors likewise;
* country names are matched to ISO codes when a :class:`CountryMatcher` is given,
  otherwise (and when a name does not match) kept as ``dpg:countryAsWritten``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from pyoxigraph import NamedNode, Triple

from dpgkg.harvest import HarvestContext, HarvestedGraph, HarvestResult, Problem
from dpgkg.harvest.countries import CountryMatcher
from dpgkg.harvest.directory import (
    Directory,
    PrivateNames,
    _contact_names,
    _private_pattern,
    clean_url,
    normalise_name,
)
from dpgkg.harvest.licences import LicenceIndex, default_index
from dpgkg.harvest.memo import RecordMemo
from dpgkg.harvest.organisations import OrganisationTable, as_written, record_names
from dpgkg.harvest.provenance import graph_provenance, source_description
from dpgkg.iris import slugify
from dpgkg.rdf import DCT, DPG, FOAF, RDF, RDFS, SCHEMA, SDG, SKOS, SPDX_LICENSE, XSD, lit
from dpgkg.sources.registry import (
    RegistryFile,
    clean_record,
    clean_screening,
    open_registry,
    scrub_text,
)

__all__ = ["Directory", "clean_url", "harvest_registry", "normalise_name", "record_to_graph"]

REGISTRY_URL = "https://github.com/DPGAlliance/publicgoods-candidates"
REGISTRY_LICENCE = "http://spdx.org/licenses/Unlicense"
CONTACT_REMOVED = "[contact removed]"

STAGES = {"dpg": DPG.DPGStage, "nominee": DPG.NomineeStage,
          "archive": DPG.ArchivedStage, "archived": DPG.ArchivedStage,
          "excluded": DPG.ExcludedStage}
STAGE_CLASS = {
    DPG.DPGStage.value: DPG.DigitalPublicGood, DPG.NomineeStage.value: DPG.Nominee,
    DPG.ArchivedStage.value: DPG.ArchivedSolution, DPG.ExcludedStage.value: DPG.ExcludedSolution,
}  # an archived record is also dpg:ArchivedSolution whatever its stage (dpg:isArchived)
TYPE_CONCEPT = {"software": DPG.Software, "data": DPG.Data, "content": DPG.Content,
                "standard": DPG.Standard, "aimodel": DPG.AIModel}
TYPE_CLASS = {"software": [SCHEMA.SoftwareSourceCode], "data": [SCHEMA.Dataset],
              "content": [SCHEMA.CreativeWork], "standard": [SCHEMA.CreativeWork, DCT.Standard],
              "aimodel": [SCHEMA.SoftwareSourceCode]}
ROLE = {"owner": DPG.ownedBy, "maintainer": DPG.maintainedBy, "funder": DPG.fundedBy,
        "implementer": DPG.implementedBy}
SECTION_INDICATOR = {
    "clearOwnership": "3", "platformIndependence": "4", "documentation": "5", "NonPII": "6",
    "privacy": "7", "standards": "8", "doNoHarm.preventHarm": "9",
    "doNoHarm.dataPrivacySecurity": "9a", "doNoHarm.inappropriateIllegalContent": "9b",
    "doNoHarm.protectionFromHarassment": "9c",
}
_KEY_RENAMES = {("doNoHarm.inappropriateIllegalContent", "type"): "illegalContentType"}
_PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_YES_NO = {"yes": "Yes", "no": "No", "unknown": "Unknown"}


# --------------------------------------------------------------------------- one record

class _Builder:
    def __init__(self, rf: RegistryFile, ctx: HarvestContext,
                 private: PrivateNames | None = None):
        self.rf = rf
        self.ctx = ctx
        self.private = private
        self.triples: list[Triple] = []
        self.problems: list[Problem] = []
        self.seen: set[Triple] = set()

    def add(self, s, p, o) -> None:
        t = Triple(s, p, o)
        if t not in self.seen:
            self.seen.add(t)
            self.triples.append(t)

    def text(self, s, p, value: str | None, lang: str | None = None) -> None:
        """Free text: e-mail addresses and contact names removed."""
        if value:
            value = scrub_text(value)
            if self.private is not None:
                value = self.private.sub(CONTACT_REMOVED, value)
            self.add(s, p, lit(value, lang=lang))

    def warn(self, field: str, message: str, source: str | None = None) -> None:
        self.problems.append(Problem(source or self.rf.path, message, field=field,
                                     severity="warning"))

    def urls(self, s, p, value: str | None, field: str) -> list[NamedNode]:
        nodes, bad = clean_url(value)
        if bad:
            self.warn(field, f"not a usable URL: {value!r}: dropped")
        for n in nodes:
            self.add(s, p, n)
        return nodes


def _stage_record(b: _Builder, solution: NamedNode, folder: str, stage: NamedNode,
                  stage_as_written: str | None, rf: RegistryFile) -> NamedNode:
    node = b.ctx.iris.part(solution, f"stage-{folder}")
    b.add(node, RDF.type, DPG.StageRecord)
    b.add(node, DPG.stage, stage)
    if stage_as_written:
        b.add(node, DPG.stageAsWritten, lit(stage_as_written))
    b.add(node, DPG.sourceFile, lit(rf.path))
    if rf.exclusion_date:
        b.add(node, DCT.date, lit(rf.exclusion_date, XSD.date))
    if rf.exclusion_reason:
        b.text(node, DPG.exclusionReason, rf.exclusion_reason)
    b.add(solution, DPG.stageHistory, node)
    return node


def _current_stage(b: _Builder, rf: RegistryFile, stage_text: str | None) -> NamedNode:
    # An archive/ record keeps the stage it wrote (that it is archived is dpg:isArchived);
    # one that wrote none has only its folder to say: archived.
    if rf.folder == "archive":
        return STAGES.get((stage_text or "archive").lower(), DPG.ArchivedStage)
    if rf.folder == "excluded-nominees":
        return DPG.ExcludedStage
    if stage_text and stage_text.lower() in ("dpg", "nominee"):
        return STAGES[stage_text.lower()]
    if not stage_text and rf.default_stage:
        return STAGES[rf.default_stage.lower()]
    b.warn("stage", f"stage {stage_text!r} is neither 'DPG' nor 'nominee': read as "
           "'nominee'" if stage_text else "no stage given: read as 'nominee'")
    return DPG.NomineeStage


def record_to_graph(rf: RegistryFile, ctx: HarvestContext,
                    licences: LicenceIndex | None = None,
                    countries: CountryMatcher | None = None, *,
                    directory: Directory | None = None,
                    ) -> tuple[HarvestedGraph | None, list[Problem]]:
    """One registry file -> its named graph (docs/model.md), and the problems met.

    Pure apart from recording licence use in `licences` and unmatched names in
    `countries`. Works on a single record (a user's nominee): a ``directory`` built over
    all records only makes organisation and sector names identical across records.
    Returns (None, problems) when the record is unusable.
    """
    record, problems = clean_record(rf.record, rf.path)
    if record is None:
        return None, problems
    iris = ctx.iris
    solution = iris.solution(rf.record_id)
    graph = iris.record_graph(rf.folder, rf.record_id)
    if directory is not None:
        private = directory.private_names
    else:
        private = _private_pattern(*_contact_names(rf.record))
    b = _Builder(rf, ctx, private)
    b.problems = problems
    b.triples = graph_provenance(ctx, graph, "registry", rf.path, describes=solution)
    b.seen = set(b.triples)

    stage = _current_stage(b, rf, record["stage"])
    b.add(solution, RDF.type, DPG.Solution)
    b.add(solution, RDF.type, STAGE_CLASS[stage.value])
    if rf.folder == "archive":
        b.add(solution, RDF.type, DPG.ArchivedSolution)
    for t in record["type"]:
        for cls in TYPE_CLASS[t]:
            b.add(solution, RDF.type, cls)
        b.add(solution, DPG.solutionType, TYPE_CONCEPT[t])
    if not record["type"]:
        b.add(solution, RDF.type, SCHEMA.CreativeWork)
    b.text(solution, SCHEMA.name, record["name"])
    for alias in record["aliases"]:
        b.text(solution, SCHEMA.alternateName, alias)
    b.text(solution, SCHEMA.description, record["description"])
    b.urls(solution, SCHEMA.url, record["website"], "website")
    b.add(solution, DPG.stage, stage)
    if rf.folder == "archive" or stage == DPG.ArchivedStage:
        b.add(solution, DPG.isArchived, lit(True))
    _stage_record(b, solution, rf.folder, stage, record["stage"], rf)

    _licences(b, solution, record, licences)
    _sdgs(b, solution, record)
    _organisations(b, solution, record, directory)

    for r in record["repositories"]:
        b.urls(solution, SCHEMA.codeRepository, r["url"], f"repositories[{r['index']}].url")
    if record["repositoryURL"]:
        b.urls(solution, SCHEMA.codeRepository, record["repositoryURL"], "repositoryURL")
    for s in record["sectors"]:
        label = normalise_name(s)
        node = iris.sector(label)
        if directory is not None:
            label = directory.sector_label(node, label)
        b.add(solution, DPG.sector, node)
        b.add(node, RDF.type, SKOS.Concept)
        b.add(node, SKOS.prefLabel, lit(label, lang="en"))

    if rf.screening is not None:
        _screening(b, solution, rf, countries)
    graph_out = HarvestedGraph(graph=graph, key=f"{rf.folder}/{rf.record_id}",
                               triples=b.triples, subject=solution, source_path=rf.path,
                               source_blob=rf.blob)
    return graph_out, b.problems


def _licences(b: _Builder, solution: NamedNode, record: dict,
              licences: LicenceIndex | None) -> None:
    index = licences if licences is not None else default_index()
    for lic in record["license"]:
        raw, i = lic["spdx"], lic["index"]
        current, problem = index.normalise(raw, source=b.rf.path, field=f"license[{i}].spdx",
                                           record_use=licences is not None)
        if problem is not None:
            b.problems.append(problem)
        frag = current if current else "unknown-" + slugify(raw)
        decl = b.ctx.iris.part(solution, f"license-{frag}")
        b.add(decl, RDF.type, DPG.LicenseDeclaration)
        b.add(decl, DPG.spdxIdAsWritten, lit(raw))
        if current:
            b.add(solution, DCT.license, SPDX_LICENSE[current])
            b.add(decl, DCT.license, SPDX_LICENSE[current])
        b.urls(decl, SCHEMA.url, lic["licenseURL"], f"license[{i}].licenseURL")
        b.add(solution, DPG.licenseDeclaration, decl)


def _sdgs(b: _Builder, solution: NamedNode, record: dict) -> None:
    for s in record["SDGs"]:
        n = s["SDGNumber"]
        node = b.ctx.iris.part(solution, f"sdg-{n}")
        b.add(solution, DPG.relevantToSDG, SDG[str(n)])
        b.add(solution, DPG.sdgRelevance, node)
        b.add(node, RDF.type, DPG.SDGRelevance)
        b.add(node, DPG.sdg, SDG[str(n)])
        b.text(node, DPG.evidenceText, s["evidenceText"])
        b.urls(node, DPG.evidenceURL, s["evidenceURL"], f"SDGs[{s['index']}].evidenceURL")


def _organisations(b: _Builder, solution: NamedNode, record: dict,
                   directory: Directory | None) -> None:
    for o in record["organizations"]:
        written = as_written(o["name"])
        name = normalise_name(o["name"])
        if not name:
            continue
        field = f"organizations[{o['index']}].website"
        sites, bad = clean_url(o["website"])
        if bad:
            b.warn(field, f"not a usable URL: {o['website']!r}: dropped")
        site = sites[0] if sites else None
        if directory is not None:
            node = directory.org_node(b.ctx.iris, name)
            name = directory.org_name(node, name)
            site = directory.org_site(node, site)
        else:
            node = b.ctx.iris.organisation(name)
        if b.private is not None and b.private.search(name):
            b.warn(f"organizations[{o['index']}].name", "the organisation's name contains a "
                   "name given as contact person: published as the organisation's name")
        b.add(node, RDF.type, DPG.Organisation)
        b.add(node, RDF.type, FOAF.Agent)
        b.add(node, SCHEMA.name, lit(name))
        b.add(node, RDFS.label, lit(name))
        if written != name:  # who wrote what: the name as this record wrote it
            b.add(node, SKOS.altLabel, lit(written))
            b.add(node, SCHEMA.alternateName, lit(written))
        if site is not None:
            b.add(node, SCHEMA.url, site)
        b.add(solution, ROLE.get(o["org_type"] or "", DPG.hasOrganisation), node)


def _screening(b: _Builder, solution: NamedNode, rf: RegistryFile,
               countries: CountryMatcher | None) -> None:
    source = rf.screening_path or rf.path
    answers, problems = clean_screening(rf.screening, source)
    b.problems.extend(problems)
    for section, values in answers.items():
        if section == "locations":
            _locations(b, solution, values, countries, source)
            continue
        number = SECTION_INDICATOR.get(section)
        if number is None:
            b.warn(section, "unknown screening section: ignored", source)
            continue
        node = b.ctx.iris.part(solution, f"indicator-{number}")
        b.add(solution, DPG.indicatorAnswer, node)
        b.add(node, RDF.type, DPG.IndicatorAnswer)
        b.add(node, DPG.answersIndicator, DPG[f"Indicator{number}"])
        for key, items in values.items():
            prop_name = _KEY_RENAMES.get((section, key), key)
            if not _PROPERTY_NAME.match(prop_name):
                b.warn(f"{section}.{key}", "a key that cannot be a property name: dropped",
                       source)
                continue
            prop = DPG[prop_name]
            for item in items:
                b.text(node, prop, _YES_NO.get(item.lower(), item))


def _locations(b: _Builder, solution: NamedNode, values: dict[str, list[str]],
               countries: CountryMatcher | None, source: str) -> None:
    props = {"developmentCountries": DPG.developmentCountry,
             "deploymentCountries": DPG.deploymentCountry}
    for key, names in values.items():
        prop = props.get(key)
        if prop is None:
            b.warn(f"locations.{key}", "unknown locations field: ignored", source)
            continue
        for i, name in enumerate(names):
            name = " ".join(name.split())
            code = countries.match(name) if countries is not None else None
            if code:
                b.add(solution, prop, b.ctx.iris.country(code))
                continue
            b.add(solution, DPG.countryAsWritten, lit(name))
            if countries is not None:
                why = ("not a country" if countries.is_not_country(name)
                       else "country name not matched")
                b.warn(f"locations.{key}[{i}]", f"{why}: {name!r}: kept as written", source)


# --------------------------------------------------------------------------- everything

def _archive_stage_graph(rf: RegistryFile, ctx: HarvestContext) -> HarvestedGraph:
    """The archive copy of a record that nominees/ describes: only its stage record."""
    solution = ctx.iris.solution(rf.record_id)
    graph = ctx.iris.record_graph("archive", rf.record_id)
    b = _Builder(rf, ctx)
    b.triples = graph_provenance(ctx, graph, "registry", rf.path, describes=solution)
    b.seen = set(b.triples)
    stage_text = rf.record.get("stage") if isinstance(rf.record.get("stage"), str) else None
    stage_text = stage_text.strip() if stage_text and stage_text.strip() else None
    _stage_record(b, solution, "archive", _current_stage(b, rf, stage_text), stage_text, rf)
    return HarvestedGraph(graph=graph, key=f"archive/{rf.record_id}", triples=b.triples,
                          subject=None, source_path=rf.path, source_blob=rf.blob)


def harvest_registry(location: str, ctx: HarvestContext,
                     countries: CountryMatcher | None = None,
                     licences: LicenceIndex | None = None,
                     organisations: OrganisationTable | None = None,
                     organisation_names: Counter | None = None,
                     memo: RecordMemo | None = None) -> HarvestResult:
    """Read and convert the whole registry: one graph per file plus id:graph/registry-source.

    `licences` (built with ``LicenceIndex.from_registry``) records the licences used so
    its ``licence_graph`` covers them; the licence graph is not part of this result.
    A record id in both nominees/ and archive/ is described by the nominees/ file; the
    archive file gives a graph with only its #stage-archive record (subject None).
    `organisations` (the curated table) says which names denote one organisation; the
    organisation names as written are counted into `organisation_names` when given.
    `memo` (:mod:`dpgkg.harvest.memo`) gives the records converted unchanged before.
    """
    snap = open_registry(location)
    result = HarvestResult(problems=list(snap.problems))
    if ctx.commit is None and snap.commit:
        ctx = replace(ctx, commit=snap.commit)
    if licences is None:
        licences = LicenceIndex.from_markdown(snap.licences_page)
    directory = Directory(organisations)
    for rf in snap.files:
        directory.add_record(rf.record, ctx.iris)
        if organisation_names is not None:
            organisation_names.update(record_names(rf.record))
    nominee_ids = {rf.record_id for rf in snap.files if rf.folder == "nominees"}
    if memo is not None:
        memo.bind(ctx, directory.fingerprint(),
                  countries.fingerprint if countries is not None else "")
    for rf in snap.files:
        if rf.folder == "archive" and rf.record_id in nominee_ids:
            result.graphs.append(_archive_stage_graph(rf, ctx))
            continue
        if memo is None:
            hg, problems = record_to_graph(rf, ctx, licences, countries, directory=directory)
        else:
            hg, problems = memo.convert(rf, ctx, licences, countries, lambda rf=rf: (
                record_to_graph(rf, ctx, licences, countries, directory=directory)))
        result.problems.extend(problems)
        if hg is not None:
            result.graphs.append(hg)
    graph = ctx.iris.reference_graph("registry-source")
    triples = graph_provenance(ctx, graph, "registry", ".")
    triples += source_description(ctx, "registry", "DPG registry", REGISTRY_URL,
                                  REGISTRY_LICENCE)
    result.graphs.append(HarvestedGraph(graph=graph, key="registry-source", triples=triples,
                                        subject=ctx.iris.source("registry")))
    return result
