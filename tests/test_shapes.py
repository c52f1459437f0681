"""The shapes themselves: well-formed SHACL, one group per indicator linked to the
ontology, labels/comments/messages, severities, and each conditional branch."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, URIRef
from rdflib.namespace import SH

from dpgkg.config import ONTOLOGY_DIR, SHAPES_DIR, Settings
from dpgkg.validation import INDICATORS, validate_paths

DPG = rdflib.Namespace("https://w3id.org/dpgkg/ontology#")
DPGSH = rdflib.Namespace("https://w3id.org/dpgkg/shapes#")
FIX = Path(__file__).resolve().parent / "fixtures" / "validation"
SHAPE_FILES = ("dpg-standard.ttl", "registry.ttl", "structure.ttl")


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    g = rdflib.Graph()
    for name in SHAPE_FILES:
        g.parse(SHAPES_DIR / name, format="turtle")
    return g


def test_shape_files_exist_and_use_the_shapes_namespace(shapes):
    for name in SHAPE_FILES:
        assert (SHAPES_DIR / name).is_file()
    named = {s for s in shapes.subjects(RDF.type, None) if isinstance(s, URIRef)
             and (s, RDF.type, SH.NodeShape) in shapes or (s, RDF.type, SH.PropertyShape) in shapes}
    assert named and all(str(s).startswith(str(DPGSH)) for s in named if isinstance(s, URIRef))


def test_one_group_per_indicator_linked_to_the_ontology(shapes):
    groups = {}
    for g in shapes.subjects(RDF.type, SH.PropertyGroup):
        ind = shapes.value(g, DPG.forIndicator)
        if ind is not None:
            groups[str(ind).rsplit("#Indicator", 1)[1]] = g
    assert sorted(groups, key=INDICATORS.index) == list(INDICATORS)
    orders = []
    for key, g in groups.items():
        assert shapes.value(g, RDFS.label) is not None, key
        assert shapes.value(g, RDFS.comment) is not None, key
        orders.append(int(shapes.value(g, SH.order)))
    assert sorted(orders) == list(range(1, 13))
    assert (DPGSH.RegistryGroup, RDF.type, SH.PropertyGroup) in shapes
    assert (DPGSH.StructureGroup, RDF.type, SH.PropertyGroup) in shapes


def test_indicator_individuals_exist_in_the_ontology(shapes):
    o = rdflib.Graph().parse(ONTOLOGY_DIR / "dpgkg.ttl", format="turtle")
    for ind in shapes.objects(None, DPG.forIndicator):
        if (None, SH.order, None) in shapes:
            assert (ind, RDF.type, DPG.StandardIndicator) in o, ind


def test_every_constraint_shape_has_group_severity_message(shapes):
    constrained = set(shapes.subjects(SH.group, None))
    assert len(constrained) > 40
    for s in constrained:
        assert shapes.value(s, SH.severity) in (SH.Violation, SH.Warning), s
        msg = shapes.value(s, SH.message)
        assert msg is not None and len(str(msg)) > 30, s
    named = {s for s in constrained if isinstance(s, URIRef)}
    for s in named:
        assert shapes.value(s, RDFS.label) is not None, s
    for s in shapes.subjects(RDF.type, SH.NodeShape):
        if isinstance(s, URIRef) and (s, SH.targetClass, None) in shapes:
            assert shapes.value(s, RDFS.label) is not None, s


def test_missing_licence_is_a_violation_missing_evidence_a_warning(shapes):
    assert shapes.value(DPGSH.LicenceRequired, SH.severity) == SH.Violation
    assert shapes.value(DPGSH.EveryLicenceApproved, SH.severity) == SH.Violation
    assert shapes.value(DPGSH.SDGEvidence, SH.severity) == SH.Warning
    assert shapes.value(DPGSH.SDGIsGoal, SH.severity) == SH.Violation
    for warning in ("OwnershipEvidence", "DocumentationEvidence", "PIIEvidence", "LicenceURL"):
        assert shapes.value(DPGSH[warning], SH.severity) == SH.Warning


def test_conditional_indicators_name_their_condition(shapes):
    text = (SHAPES_DIR / "dpg-standard.ttl").read_text()
    for prop in ("mandatoryDepsCreateMoreRestrictions", "collectsNonPII", "collectsPII",
                 "collectStoreDistribute", "userInteraction"):
        assert f'sh:not [ sh:path dpg:{prop} ; sh:hasValue "Yes" ]' in text, prop


def test_no_email_check_is_a_negated_pattern(shapes):
    sh_not = URIRef(str(SH) + "not")
    negated = [inner for inner in shapes.objects(None, sh_not)
               if any("@" in str(p) for p in shapes.objects(inner, SH.pattern))]
    assert len(negated) >= 4       # solutions, organisations, record parts, answers


# --- each conditional branch, both sides, and each unconditional indicator

BRANCHES = [
    ("4", "fail-4.json", "na-4.json"),
    ("6", "fail-6.json", "na-6.json"),
    ("9a", "fail-9a.json", "na-9a.json"),
    ("9b", "fail-9b.json", "na-9b.json"),
    ("9c", "fail-9c.json", "na-9c.json"),
]


@pytest.mark.parametrize("key,failing,not_applicable", BRANCHES)
def test_conditional_branch_both_sides(key, failing, not_applicable, shared):
    f, na, good = validate_paths([FIX / failing, FIX / not_applicable,
                                  FIX / "good-screened.json"], Settings(sources=str(shared)))
    assert f.failing() == [key]
    assert na.conforms and na.indicators[key]["status"] == "not-applicable"
    assert good.indicators[key]["status"] == "pass"
