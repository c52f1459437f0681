"""The UN SDG knowledge organization system and the SDG ontology, kept with the UN's own IRIs."""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode, RdfFormat, Triple, parse

from dpgkg.harvest import HarvestContext, HarvestedGraph, HarvestResult, Problem
from dpgkg.harvest.provenance import graph_provenance, source_description
from dpgkg.rdf import DCT, DPG, RDF, RDFS, SDG, SDGO, SKOS, lit
from dpgkg.sources import is_url, read_bytes
from dpgkg.sources.reference import display_path

__all__ = ["SCHEME", "harvest_sdg"]

SCHEME = NamedNode("http://metadata.un.org/sdg")
VOID_DATASET = NamedNode("http://metadata.un.org/sdg/void.ttl#SDG")
SOURCE_TITLE = ("A Knowledge Organization System for the United Nations "
                "Sustainable Development Goals")
SOURCE_URL = "https://github.com/UNStats/LOD4Stats/tree/master/sdg-data"

_TARGET = re.compile(r"^(\d{1,2})\.([0-9a-z]+)$")          # 4.1, 4.c
_INDICATOR = re.compile(r"^C(\d{2})(\d{2}|0[a-z])(\d{2})$")  # C040101, C090c01


def _parse(location: str, base: str | None = None) -> list[Triple]:
    data = read_bytes(location)
    return list(parse(data, format=RdfFormat.TURTLE, base_iri=base))


def _skolemise(triples: list[Triple], parent: NamedNode, prefix: str, ctx: HarvestContext
               ) -> list[Triple]:
    """Name blank nodes (the ordered goal list, the ontology's property chain) as hash IRIs
    of the graph, numbered in order of appearance, so a rebuild gives the same names and
    the graph holds no blank nodes."""
    names: dict[str, NamedNode] = {}

    def name(term):
        if isinstance(term, BlankNode):
            if term.value not in names:
                names[term.value] = ctx.iris.part(parent, f"{prefix}{len(names) + 1}")
            return names[term.value]
        return term

    return [Triple(name(t.subject), t.predicate, name(t.object)) for t in triples]


def _derive_links(triples: list[Triple]) -> list[Triple]:
    """Goal-target-indicator links implied by the IRIs but missing from the KOS, in both
    directions (sdgo:hasTarget/isTargetOf, sdgo:hasIndicator/isIndicatorOf,
    skos:narrower/broader). The published KOS has them all; this guards older or partial
    copies, whose consumers (the model page, the shapes) rely on them."""
    present = set(triples)
    types: dict[str, set[str]] = {}
    for t in triples:
        if t.predicate == RDF.type and isinstance(t.subject, NamedNode):
            types.setdefault(t.subject.value, set()).add(t.object.value)
    parents: dict[str, set[str]] = {}  # child IRI -> parent IRIs already linked
    for t in triples:
        if t.predicate in (SDGO.isTargetOf, SDGO.isIndicatorOf, SKOS.broader):
            parents.setdefault(t.subject.value, set()).add(t.object.value)
        elif t.predicate in (SDGO.hasTarget, SDGO.hasIndicator, SKOS.narrower):
            parents.setdefault(t.object.value, set()).add(t.subject.value)

    derived: list[Triple] = []
    for subject, kinds in sorted(types.items()):
        local = subject[len(SDG.base):] if subject.startswith(SDG.base) else None
        if local is None:
            continue
        linked = parents.get(subject, set())
        if SDGO.Target.value in kinds and (m := _TARGET.match(local)):
            parent, down, up = SDG[m.group(1)], SDGO.hasTarget, SDGO.isTargetOf
        elif SDGO.Indicator.value in kinds and (m := _INDICATOR.match(local)):
            target = m.group(2).lstrip("0") or "0"
            parent, down, up = SDG[f"{int(m.group(1))}.{target}"], SDGO.hasIndicator, \
                SDGO.isIndicatorOf
        else:
            continue
        # Multi-purpose indicators (C20xxxx) sit under targets of several goals; only an
        # indicator with no link at all gets one from its code.
        if linked and parent.value not in linked:
            continue
        if parent.value not in types:
            continue
        child = NamedNode(subject)
        for t in (Triple(parent, down, child), Triple(child, up, parent),
                  Triple(parent, SKOS.narrower, child), Triple(child, SKOS.broader, parent)):
            if t not in present:
                derived.append(t)
                present.add(t)
    return derived


def _label_problems(triples: list[Triple], source: str) -> list[Problem]:
    """SKOS allows one prefLabel per language; the KOS breaks that for a few concepts."""
    seen: dict[tuple[str, str], int] = {}
    for t in triples:
        if t.predicate == SKOS.prefLabel and getattr(t.object, "language", None):
            key = (t.subject.value, t.object.language)
            seen[key] = seen.get(key, 0) + 1
    return [Problem(source, f"{n} skos:prefLabel values @{lang} for <{iri}> (kept as published)",
                    field="skos:prefLabel", severity="warning")
            for (iri, lang), n in sorted(seen.items()) if n > 1]


def _void_triples(void_location: str | None, ctx: HarvestContext) -> list[Triple]:
    """The source's description, with the licence statement and citation from void.ttl."""
    source = ctx.iris.source("sdg")
    title = SOURCE_TITLE
    licence_text = None
    if void_location:
        try:
            for t in _parse(void_location):
                if t.subject == VOID_DATASET and t.predicate == DCT.license:
                    licence_text = t.object.value
                elif t.subject == VOID_DATASET and t.predicate == DCT.title:
                    title = t.object.value
        except (OSError, SyntaxError, ValueError):
            licence_text = None
    licence = ctx.iris.part(source, "licence") if licence_text else None
    triples = source_description(ctx, "sdg", title, SOURCE_URL,
                                 licence.value if licence else None)
    triples.append(Triple(source, DCT.source, NamedNode("http://metadata.un.org/sdg")))
    if licence is not None and licence_text:
        # The licence is a sentence, not an IRI: give it a node of its own (DCAT-AP wants a
        # dct:LicenseDocument) and keep the citation it asks for.
        triples += [
            Triple(licence, RDF.type, DCT.LicenseDocument),
            Triple(licence, RDFS.label, lit("SDG KOS terms of use", lang="en")),
            Triple(licence, RDFS.comment, lit(licence_text, lang="en")),
        ]
        if "citation:" in licence_text:
            citation = licence_text.split("citation:", 1)[1].strip()
            triples.append(Triple(source, DCT.bibliographicCitation, lit(citation)))
    return triples


def _sibling_void(kos_location: str) -> str | None:
    if is_url(kos_location):
        return kos_location.rsplit("/", 1)[0] + "/void.ttl"
    path = Path(kos_location).with_name("void.ttl")
    return str(path) if path.exists() else None


# The KOS gives each concept two or three notations; skos:notation keeps the UN's compact
# one ("3", "3.1", "3.1.1"), the others move to properties of their own.
_OTHER_NOTATIONS = {SDGO.SDGCode.value: DPG.sdgCode, SDGO.SDGCodePerm.value: DPG.sdgPermanentCode}


def one_notation(triples: list[Triple]) -> list[Triple]:
    """skos:notation only for the compact code; the zero-padded SDGCode ("03.01") becomes
    dpg:sdgCode and the permanent indicator code ("C030101") dpg:sdgPermanentCode."""
    out = []
    for t in triples:
        dt = getattr(t.object, "datatype", None)
        if t.predicate == SKOS.notation and dt is not None and dt.value in _OTHER_NOTATIONS:
            t = Triple(t.subject, _OTHER_NOTATIONS[dt.value], t.object)
        out.append(t)
    return out


def harvest_sdg(kos_location: str, ontology_location: str, ctx: HarvestContext,
                void_location: str | None = None) -> HarvestResult:
    """The KOS and the SDG ontology as one graph, ``iris.reference_graph('sdg')``.

    ``void_location`` defaults to ``void.ttl`` next to the KOS file; a missing VoID only
    loses the licence text. An unreadable or unparsable KOS or ontology is a Problem and
    gives no graph.
    """
    result = HarvestResult()
    graph = ctx.iris.reference_graph("sdg")
    kos_path = display_path("sdg", kos_location)
    onto_path = display_path("sdg-ontology", ontology_location)
    parts: list[Triple] = []
    for location, shown, prefix in ((kos_location, kos_path, "kos-b"),
                                    (ontology_location, onto_path, "ontology-b")):
        try:
            triples = _parse(location)
        except (OSError, SyntaxError, ValueError) as exc:
            result.problems.append(Problem(shown, f"cannot read the SDG Turtle: {exc}"))
            return result
        parts += _skolemise(triples, graph, prefix, ctx)

    parts = one_notation(parts)
    derived = _derive_links(parts)
    if derived:
        result.problems.append(Problem(
            kos_path, f"{len(derived)} goal-target-indicator links derived from the IRIs",
            severity="warning"))
    result.problems += _label_problems(parts, kos_path)

    triples = parts + derived
    triples += graph_provenance(ctx, graph, "sdg", kos_path, describes=SCHEME)
    triples.append(Triple(graph, DCT.source, NamedNode("http://metadata.un.org/sdg/ontology")))
    triples += _void_triples(void_location or _sibling_void(kos_location), ctx)
    result.graphs.append(HarvestedGraph(graph, "reference/sdg", triples, subject=SCHEME))
    return result

