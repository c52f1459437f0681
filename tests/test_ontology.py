"""The ontology and its JSON-LD context: complete, documented, and in step with
docs/model.md, the code, the registry's screening schema and the reasoner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
import rdflib
from pyld import jsonld
from rdflib import OWL, RDF, RDFS, SKOS, XSD, Literal, Namespace, URIRef

from dpgkg import reasoning
from dpgkg.rdf import PREFIXES
from tests.conftest import NO_SHARED, SHARED

ROOT = Path(__file__).parents[1]
ONTOLOGY = ROOT / "ontology" / "dpgkg.ttl"
CONTEXT = ROOT / "ontology" / "context.jsonld"
SCREENING_SCHEMA = SHARED / "registry" / "screening-schema.json"

DPG = Namespace(PREFIXES["dpg"])
DCT = Namespace(PREFIXES["dct"])
ORG = Namespace(PREFIXES["org"])
SCHEMA = Namespace(PREFIXES["schema"])
VANN = Namespace("http://purl.org/vocab/vann/")
ONTOLOGY_IRI = URIRef("https://w3id.org/dpgkg/ontology")
DEFINING_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                  OWL.NamedIndividual, SKOS.Concept)
INDICATORS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "9a", "9b", "9c"]
# screening-schema.json section -> DPG Standard indicator (docs/model.md)
SECTIONS = {"clearOwnership": "3", "platformIndependence": "4", "documentation": "5",
            "NonPII": "6", "privacy": "7", "standards": "8", "doNoHarm.preventHarm": "9",
            "doNoHarm.dataPrivacySecurity": "9a", "doNoHarm.inappropriateIllegalContent": "9b",
            "doNoHarm.protectionFromHarassment": "9c"}


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY, format="turtle")


@pytest.fixture(scope="module")
def context() -> dict:
    return json.loads(CONTEXT.read_text())


def defined_terms(g: rdflib.Graph) -> set[URIRef]:
    return {s for t in DEFINING_TYPES for s in g.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(str(DPG))}


def english(g: rdflib.Graph, s, p) -> list[str]:
    return [str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language == "en"]


# --- the ontology document ---------------------------------------------------------------

def test_ontology_header(onto):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert english(onto, ONTOLOGY_IRI, DCT.title)
    assert english(onto, ONTOLOGY_IRI, DCT.description)
    assert (ONTOLOGY_IRI, DCT.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) \
        in onto
    assert onto.value(ONTOLOGY_IRI, OWL.versionInfo) is not None
    assert str(onto.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == "dpg"


def test_every_term_has_an_english_label_and_comment(onto):
    terms = defined_terms(onto)
    assert len(terms) > 100
    missing = sorted(str(t) for t in terms
                     if not english(onto, t, RDFS.label) or not english(onto, t, RDFS.comment))
    assert missing == []


def test_every_dpg_iri_in_the_ontology_is_defined(onto):
    """No typo'd dpg: reference (a range, an inScheme, a chain step) to an undefined term."""
    used = {x for triple in onto for x in triple
            if isinstance(x, URIRef) and str(x).startswith(str(DPG))}
    assert sorted(str(t) for t in used - defined_terms(onto)) == []


def test_terms_of_docs_model_are_defined(onto):
    doc = (ROOT / "docs" / "model.md").read_text()
    mentioned = set(re.findall(r"dpg:([A-Za-z0-9]+)", doc))
    assert {"Solution", "stage", "Indicator9c", "relevantToSDG"} <= mentioned
    assert sorted(mentioned - {str(t)[len(str(DPG)):] for t in defined_terms(onto)}) == []


def test_terms_used_by_the_code_are_defined(onto):
    """Every DPG.x / DPG["x"] / dpg:x written in the package is an ontology term."""
    used: set[str] = set()
    for f in (ROOT / "dpgkg").rglob("*.py"):
        text = f.read_text()
        used |= set(re.findall(r"\bDPG\.([A-Za-z][A-Za-z0-9]*)\b", text))
        used |= set(re.findall(r"\bDPG\[\"([A-Za-z0-9]+)\"\]", text))
        used |= set(re.findall(r"\bdpg:([A-Za-z][A-Za-z0-9]*)\b", text))
    used -= {"base", "value"}  # attributes of dpgkg.rdf.NS / NamedNode, not terms
    assert {"DigitalPublicGood", "ownedBy"} <= used
    assert sorted(used - {str(t)[len(str(DPG)):] for t in defined_terms(onto)}) == []


def test_alignments(onto):
    expected = [
        (DPG.Solution, RDFS.subClassOf, SCHEMA.CreativeWork),
        (DPG.Solution, RDFS.subClassOf, URIRef(PREFIXES["prov"] + "Entity")),
        (DPG.Organisation, RDFS.subClassOf, ORG.Organization),
        (DPG.Organisation, RDFS.subClassOf, SCHEMA.Organization),
        (DPG.Organisation, RDFS.subClassOf, URIRef(PREFIXES["foaf"] + "Agent")),
        (DPG.Alliance, RDFS.subClassOf, ORG.FormalOrganization),
        (DPG.Country, RDFS.subClassOf, SCHEMA.Country),
        (DPG.License, RDFS.subClassOf, DCT.LicenseDocument),
        (DPG.StandardIndicator, RDFS.subClassOf, SKOS.Concept),
        (DPG.maintainedBy, RDFS.subPropertyOf, SCHEMA.maintainer),
        (DPG.fundedBy, RDFS.subPropertyOf, SCHEMA.funder),
        (DPG.ownedBy, RDFS.subPropertyOf, SCHEMA.copyrightHolder),
        (DPG.ownedBy, OWL.inverseOf, DPG.owns),
        (DPG.predecessor, OWL.inverseOf, DPG.successor),
        (DPG.followsUp, OWL.inverseOf, DPG.followedUpBy),
        (ORG.member, OWL.inverseOf, ORG.hasMembership),
    ]
    assert [t for t in expected if t not in onto] == []
    for role in ("ownedBy", "maintainedBy", "fundedBy", "implementedBy"):
        assert (DPG[role], RDFS.subPropertyOf, DPG.hasOrganisation) in onto


def test_individuals_are_concepts_of_a_scheme(onto):
    for cls in (DPG.Stage, DPG.SolutionType, DPG.MemberType, DPG.JoinedBasis,
                DPG.StandardIndicator):
        members = set(onto.subjects(RDF.type, cls))
        assert members, cls
        for m in members:
            assert (m, RDF.type, SKOS.Concept) in onto, m
            assert english(onto, m, SKOS.prefLabel), m
            scheme = onto.value(m, SKOS.inScheme)
            assert (scheme, RDF.type, SKOS.ConceptScheme) in onto, m
    stages = set(onto.subjects(RDF.type, DPG.Stage))
    assert stages == {DPG.NomineeStage, DPG.DPGStage, DPG.ArchivedStage, DPG.ExcludedStage}
    assert set(onto.subjects(RDF.type, DPG.SolutionType)) == {
        DPG.Software, DPG.Data, DPG.Content, DPG.Standard, DPG.AIModel}


def test_the_twelve_standard_indicators(onto):
    found = {str(onto.value(i, SKOS.notation)): i
             for i in onto.subjects(RDF.type, DPG.StandardIndicator)}
    assert sorted(found) == sorted(INDICATORS)
    for n in INDICATORS:
        i = found[n]
        assert i == DPG[f"Indicator{n}"]
        assert (i, SKOS.inScheme, DPG.DPGStandard) in onto
        assert (i, DCT.source,
                URIRef("https://github.com/DPGAlliance/DPG-Standard/blob/main/standard.md")) in onto
        assert english(onto, i, RDFS.label) == english(onto, i, SKOS.prefLabel)
        assert (i, SKOS.broader, DPG.Indicator9) in onto if n in ("9a", "9b", "9c") else \
            onto.value(i, SKOS.broader) is None
    assert [onto.value(found[n], DPG.order).toPython() for n in INDICATORS] == list(range(1, 13))
    assert english(onto, DPG.Indicator2, RDFS.label) == ["Use of Approved Open Licenses"]
    assert english(onto, DPG.Indicator9b, RDFS.label) == ["Inappropriate & Illegal Content"]
    assert (DPG.DPGStandard, RDF.type, SKOS.ConceptScheme) in onto


def test_relevant_to_sdg_is_the_chain_through_sdg_relevance(onto):
    head = onto.value(DPG.relevantToSDG, OWL.propertyChainAxiom)
    assert list(rdflib.collection.Collection(onto, head)) == [DPG.sdgRelevance, DPG.sdg]


# --- the registry's screening schema --------------------------------------------------------

def _screening_fields(schema: dict):
    """(section path, json key, json description) for every answer field of a section."""
    props = schema["properties"]
    for path in SECTIONS:
        section = {"properties": props}
        for part in path.split("."):
            section = section["properties"][part]
        for key, spec in section["properties"].items():
            yield path, key, spec.get("description", "")


@pytest.fixture(scope="module")
def screening_schema() -> dict:
    if not SCREENING_SCHEMA.is_file():
        pytest.skip(NO_SHARED)
    return json.loads(SCREENING_SCHEMA.read_text())


def test_every_screening_field_has_its_property(onto, screening_schema):
    fields = list(_screening_fields(screening_schema))
    assert len(fields) >= 30
    sections = set(screening_schema["properties"]) - {"name", "locations", "doNoHarm"}
    sections |= {f"doNoHarm.{k}" for k in screening_schema["properties"]["doNoHarm"]["properties"]}
    assert sections == set(SECTIONS), "a screening section with no indicator"
    problems = []
    for section, key, description in fields:
        name = "illegalContentType" if (section, key) == (
            "doNoHarm.inappropriateIllegalContent", "type") else key
        p = DPG[name]
        if (p, RDF.type, OWL.DatatypeProperty) not in onto:
            problems.append(f"{name}: not a datatype property")
            continue
        if (p, RDFS.domain, DPG.IndicatorAnswer) not in onto:
            problems.append(f"{name}: domain")
        if onto.value(p, DPG.forIndicator) != DPG[f"Indicator{SECTIONS[section]}"]:
            problems.append(f"{name}: indicator")
        if " ".join(description.split()) not in " ".join(english(onto, p, RDFS.comment)):
            problems.append(f"{name}: comment")
    assert problems == []
    assert (DPG.forIndicator, RDF.type, OWL.AnnotationProperty) in onto
    assert (DPG.type, None, None) not in onto
    for key in screening_schema["properties"]["locations"]["properties"]:
        singular = {"developmentCountries": DPG.developmentCountry,
                    "deploymentCountries": DPG.deploymentCountry}[key]
        assert (singular, RDF.type, OWL.ObjectProperty) in onto


# --- what reasoning makes of it ---------------------------------------------------------------

ABOX = """
@prefix dpg: <https://w3id.org/dpgkg/ontology#> .
@prefix sol: <https://w3id.org/dpgkg/id/dpg/> .
@prefix part: <https://w3id.org/dpgkg/id/dpg/kobo#> .
@prefix o: <https://w3id.org/dpgkg/id/org/> .
@prefix sdg: <http://metadata.un.org/sdg/> .
@prefix spdx: <http://spdx.org/licenses/> .
@prefix schema: <http://schema.org/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

sol:kobo a dpg:Solution, dpg:DigitalPublicGood, schema:SoftwareSourceCode ;
    schema:name "Kobo" ; dpg:stage dpg:DPGStage ; dpg:solutionType dpg:Software ;
    dct:license spdx:AGPL-3.0-only ;
    dpg:sdgRelevance part:sdg-3 ;
    dpg:ownedBy o:kobo ;
    dpg:stageHistory part:stage-nominees, part:stage-archive ;
    dpg:indicatorAnswer part:indicator-3 .
part:sdg-3 a dpg:SDGRelevance ; dpg:sdg sdg:3 ; dpg:evidenceText "health surveys" .
part:stage-nominees a dpg:StageRecord ; dpg:stage dpg:DPGStage ; dpg:stageAsWritten "DPG" .
part:stage-archive a dpg:StageRecord ;
    dpg:stage dpg:ArchivedStage ; dpg:sourceFile "archive/kobo.json" .
part:indicator-3 a dpg:IndicatorAnswer ;
    dpg:answersIndicator dpg:Indicator3 ; dpg:isOwnershipExplicit "Yes" .
o:kobo a dpg:Organisation ; schema:name "Kobo Inc" .
o:new a dpg:Organisation ; dpg:predecessor o:old .
<https://w3id.org/dpgkg/id/membership/new> a org:Membership ; org:member o:new ;
    org:organization o:digital-public-goods-alliance ;
    dpg:joined "2021"^^xsd:gYear ; dpg:isCurrent true .
<https://w3id.org/dpgkg/id/roadmap-area/2> a dpg:RoadmapArea ;
    dpg:followsUp <https://w3id.org/dpgkg/id/recommendation/1B> .
"""
ID = Namespace("https://w3id.org/dpgkg/id/")


def _ours(tbox: rdflib.Graph) -> set[tuple[str, str, str]]:
    store = ox.Store()
    store.load(ABOX.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:data"))
    inferred = ox.NamedNode("urn:inferred")

    def add(ts):
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, inferred) for t in ts)

    reasoning.materialise(lambda q: store.query(q, use_default_graph_as_union=True), add,
                          reasoning.compile_rules(tbox))
    return {(q.subject.value, q.predicate.value,
             q.object.value if isinstance(q.object, ox.NamedNode) else str(q.object))
            for q in store.quads_for_pattern(None, None, None, inferred)}


def _owlrl(tbox: rdflib.Graph) -> set[tuple[str, str, str]]:
    abox = rdflib.Graph().parse(data=ABOX, format="turtle")
    g = rdflib.Graph()
    g += tbox
    g += abox
    before = set(g)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    nodes = {x for t in abox for x in (t[0], t[2]) if isinstance(x, URIRef)}
    out = set()
    for s, p, o in set(g) - before:
        if s not in nodes or isinstance(o, rdflib.BNode):
            continue
        if reasoning.is_builtin(o if p == RDF.type else p):
            continue
        out.add((str(s), str(p), str(o) if isinstance(o, URIRef) else o.n3()))
    return out


def test_reasoning_entails_what_the_model_promises_and_agrees_with_owlrl(onto):
    ours = _ours(onto)
    kobo, t = str(ID["dpg/kobo"]), str(RDF.type)
    promised = {
        (kobo, str(DPG.relevantToSDG), "http://metadata.un.org/sdg/3"),        # chain
        (str(ID["org/kobo"]), str(DPG.owns), kobo),                           # inverse
        (kobo, str(DPG.hasOrganisation), str(ID["org/kobo"])),                # subproperty
        (kobo, str(SCHEMA.copyrightHolder), str(ID["org/kobo"])),             # alignment
        (kobo, t, str(SCHEMA.CreativeWork)),                                  # subclass
        (str(ID["org/kobo"]), t, PREFIXES["foaf"] + "Agent"),
        (str(ID["org/new"]), str(ORG.hasMembership), str(ID["membership/new"])),
        (str(ID["org/old"]), str(DPG.successor), str(ID["org/new"])),
        (str(ID["recommendation/1B"]), str(DPG.followedUpBy), str(ID["roadmap-area/2"])),
        (str(ID["recommendation/1B"]), t, str(DPG.Recommendation)),           # range
    }
    assert promised - ours == set()
    # A stage record shares dpg:stage with solutions but is not one.
    for part in ("stage-nominees", "stage-archive"):
        record = f"{kobo}#{part}"
        assert not {o for s, p, o in ours if s == record and p == t} & {
            str(DPG.Solution), str(DPG.DigitalPublicGood), str(DPG.ArchivedSolution)}
    assert ours == _owlrl(onto)


# --- the JSON-LD context --------------------------------------------------------------------

def test_context_prefixes_and_no_schema_vocab(context):
    ctx = context["@context"]
    assert ctx["@version"] == 1.1
    assert {p: ctx[p] for p in PREFIXES} == PREFIXES
    assert ctx.get("@vocab") != PREFIXES["schema"]


def test_context_terms_are_ontology_terms(context, onto):
    ctx = context["@context"]
    expanded = jsonld.expand({"@context": ctx, **{k: "x" for k in ctx if not k.startswith("@")
                                                   and k not in PREFIXES and ctx[k] is not None
                                                   and "@reverse" not in ctx[k]}})
    iris = {p for node in expanded for p in node}
    dpg_iris = {URIRef(i) for i in iris if i.startswith(str(DPG))}
    assert DPG.ownedBy in dpg_iris
    assert sorted(str(i) for i in dpg_iris - defined_terms(onto)) == []
    for i in dpg_iris:  # object properties take IRIs, datatype properties literals
        key = next(k for k, v in ctx.items() if v == f"dpg:{i[len(str(DPG)):]}"
                   or (isinstance(v, dict) and v.get("@id") == f"dpg:{i[len(str(DPG)):]}"))
        value_is_node = isinstance(ctx[key], dict) and ctx[key].get("@type") in ("@id", "@vocab")
        assert value_is_node == ((i, RDF.type, OWL.ObjectProperty) in onto), key


def test_a_compact_dpg_expands_to_the_model(context):
    doc = {
        "@context": context["@context"],
        "@id": "https://w3id.org/dpgkg/id/dpg/kobo",
        "@type": ["Solution", "DigitalPublicGood", "schema:SoftwareSourceCode"],
        "name": "Kobo",
        "url": "https://www.kobotoolbox.org/",
        "stage": "DPGStage",
        "solutionType": ["Software"],
        "licenses": ["spdx:AGPL-3.0-only",
                     {"@id": "http://spdx.org/licenses/MIT", "label": "MIT License"}],
        "sdgs": [{"@id": "sdg:3", "prefLabel": {"en": "Good health and well-being"},
                  "notation": "3"}],
        "sdgRelevance": [{"@id": "https://w3id.org/dpgkg/id/dpg/kobo#sdg-3", "goal": "sdg:3",
                          "evidenceText": "surveys"}],
        "ownedBy": "https://w3id.org/dpgkg/id/org/kobo",
        "repositories": ["https://github.com/kobotoolbox/kpi"],
        "sectors": [{"@id": "https://w3id.org/dpgkg/id/sector/health",
                     "prefLabel": {"en": "Health", "fr": "Santé"}}],
        "developmentCountries": ["https://w3id.org/dpgkg/id/country/US"],
        "indicatorAnswers": [{"@id": "https://w3id.org/dpgkg/id/dpg/kobo#indicator-3",
                              "answersIndicator": "Indicator3", "isOwnershipExplicit": "Yes"}],
    }
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    g = rdflib.Graph().parse(data=nquads, format="nt")
    kobo = ID["dpg/kobo"]
    expected = [
        (kobo, RDF.type, DPG.DigitalPublicGood),
        (kobo, RDF.type, SCHEMA.SoftwareSourceCode),
        (kobo, SCHEMA.name, Literal("Kobo")),
        (kobo, SCHEMA.url, URIRef("https://www.kobotoolbox.org/")),
        (kobo, DPG.stage, DPG.DPGStage),
        (kobo, DPG.solutionType, DPG.Software),
        (kobo, DCT.license, URIRef("http://spdx.org/licenses/AGPL-3.0-only")),
        (kobo, DCT.license, URIRef("http://spdx.org/licenses/MIT")),
        (URIRef("http://spdx.org/licenses/MIT"), RDFS.label, Literal("MIT License")),
        (kobo, DPG.relevantToSDG, URIRef("http://metadata.un.org/sdg/3")),
        (URIRef("http://metadata.un.org/sdg/3"), SKOS.prefLabel,
         Literal("Good health and well-being", lang="en")),
        (ID["dpg/kobo#sdg-3"], DPG.sdg, URIRef("http://metadata.un.org/sdg/3")),
        (ID["dpg/kobo#sdg-3"], DPG.evidenceText, Literal("surveys")),
        (kobo, DPG.ownedBy, ID["org/kobo"]),
        (kobo, SCHEMA.codeRepository, URIRef("https://github.com/kobotoolbox/kpi")),
        (kobo, DPG.sector, ID["sector/health"]),
        (ID["sector/health"], SKOS.prefLabel, Literal("Santé", lang="fr")),
        (kobo, DPG.developmentCountry, ID["country/US"]),
        (kobo, DPG.indicatorAnswer, ID["dpg/kobo#indicator-3"]),
        (ID["dpg/kobo#indicator-3"], DPG.answersIndicator, DPG.Indicator3),
        (ID["dpg/kobo#indicator-3"], DPG.isOwnershipExplicit, Literal("Yes")),
    ]
    assert [t for t in expected if t not in g] == []
    assert all(not isinstance(o, Literal) or o.datatype in (None, XSD.string)
               for o in g.objects(kobo, None))
