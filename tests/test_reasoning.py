"""The in-store reasoner against owlrl, the reference implementation."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from dpgkg import reasoning
from dpgkg.rdf import parse_into

FIX = Path(__file__).parent / "fixtures" / "reasoning"


def run_ours(tbox: rdflib.Graph, abox_quads, semi_naive: bool = False
             ) -> set[tuple[str, str, str]]:
    store = ox.Store()
    store.bulk_extend(abox_quads)
    inferred = ox.NamedNode("urn:inferred")

    def add(ts):
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, inferred) for t in ts)

    reasoning.materialise(
        lambda q: store.query(q, use_default_graph_as_union=True), add,
        reasoning.compile_rules(tbox), graph=inferred.value if semi_naive else None)
    return {(str(q.subject.value), str(q.predicate.value), _obj(q.object))
            for q in store.quads_for_pattern(None, None, None, inferred)}


def _obj(o) -> str:
    return o.value if isinstance(o, ox.NamedNode) else str(o)


def run_owlrl(tbox: rdflib.Graph, abox: rdflib.Graph) -> set[tuple[str, str, str]]:
    """owlrl's OWL 2 RL closure (the reference), as strings like :func:`run_ours`."""
    return {(str(s), str(p), str(o) if isinstance(o, rdflib.URIRef) else o.n3())
            for s, p, o in reasoning.owlrl_entailed(tbox, abox)}


@pytest.mark.parametrize("semi_naive", [False, True], ids=["whole", "semi-naive"])
def test_each_rule_matches_owlrl(semi_naive):
    """Rounds after the first tried on the whole store, or (as the build does) only on
    rule instances with a premise among the triples inferred: the same closure (the
    transitive chain t1 -> t4 takes several rounds)."""
    tbox = rdflib.Graph().parse(FIX / "tbox.ttl")
    abox = rdflib.Graph().parse(FIX / "abox.ttl")
    quads = list(parse_into(FIX / "abox.ttl", ox.RdfFormat.TURTLE, ox.NamedNode("urn:data")))
    ours = run_ours(tbox, quads, semi_naive)
    ref = run_owlrl(tbox, abox)
    ex = "http://example.org/"
    # Spot checks that each rule fired, then exact agreement with owlrl.
    assert (ex + "a", rdflib.RDF.type.toPython(), ex + "DPG") in ours          # hasValue
    assert (ex + "a", rdflib.RDF.type.toPython(), ex + "CreativeWork") in ours  # eq. class
    assert (ex + "b", ex + "stage", ex + "DPGStage") in ours                    # hasValue out
    assert (ex + "o", ex + "owns", ex + "a") in ours                            # inverse
    assert (ex + "a", ex + "related", ex + "o") in ours                         # subproperty
    assert (ex + "o", rdflib.RDF.type.toPython(), ex + "Org") in ours           # range
    assert (ex + "p", ex + "partner", ex + "o") in ours                         # symmetric
    assert (ex + "t1", ex + "broaderT", ex + "t4") in ours                      # transitive
    assert (ex + "a", ex + "relevantTo", ex + "g3") in ours                     # chain
    assert ours == ref


def test_materialise_reaches_fixpoint_and_adds_nothing_twice():
    tbox = rdflib.Graph().parse(FIX / "tbox.ttl")
    store = ox.Store()
    store.load(path=str(FIX / "abox.ttl"), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("urn:data"))
    rules = reasoning.compile_rules(tbox)
    g = ox.NamedNode("urn:inferred")

    def add(ts):
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in ts)

    q = lambda s: store.query(s, use_default_graph_as_union=True)
    first = reasoning.materialise(q, add, rules)
    assert first > 0
    assert reasoning.materialise(q, add, rules) == 0


def test_full_graph_inference_matches_owlrl_on_a_sample(full_settings):
    """The real ontology over a sample of real records: the same entailments as owlrl.

    As in the build, the ontology's own triples sit in the store beside the data.
    """
    from dpgkg.build import load_tbox
    from dpgkg.store import open_store

    store = open_store(full_settings.store)
    graphs = [r["g"].value for r in store.select(
        "SELECT DISTINCT ?g { GRAPH ?g { ?g <https://w3id.org/dpgkg/ontology#describes> ?s } "
        "FILTER(CONTAINS(STR(?g), '/graph/nominees/')) } ORDER BY ?g LIMIT 12")]
    assert len(graphs) == 12
    quads = []
    for g in graphs:
        for t in store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"):
            quads.append(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)))
    data = rdflib.Graph().parse(
        data=ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads],
                          format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    assert len(data) > 300
    tbox = load_tbox(full_settings)
    tbox_quads = list(ox.parse(tbox.serialize(format="nt"), format=ox.RdfFormat.N_TRIPLES))
    tbox_quads = [ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode("urn:tbox"))
                  for q in tbox_quads]
    ours = {t for t in run_ours(tbox, quads + tbox_quads)
            if rdflib.URIRef(t[0]) in set(data.subjects()) | set(data.objects())}
    ref = run_owlrl(tbox, data)
    assert ref  # the sample entails something
    assert ours == ref


def test_owlrl_reasoner_in_the_build_infers_what_the_fast_one_does():
    """`dpgkg build --reasoner owlrl` (reasoning.materialise_owlrl) over the fixture adds
    the same triples as the fast reasoner."""
    tbox = rdflib.Graph().parse(FIX / "tbox.ttl")
    quads = list(parse_into(FIX / "abox.ttl", ox.RdfFormat.TURTLE, ox.NamedNode("urn:data")))
    store = ox.Store()
    store.bulk_extend(quads)
    inferred = ox.NamedNode("urn:inferred")

    def add(ts):
        store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, inferred) for t in ts)

    added = reasoning.materialise_owlrl(
        lambda q: store.query(q, use_default_graph_as_union=True), add, tbox)
    by_owlrl = {(str(q.subject.value), str(q.predicate.value), _obj(q.object))
                for q in store.quads_for_pattern(None, None, None, inferred)}
    assert added == len(by_owlrl) > 0
    assert by_owlrl == run_ours(tbox, quads)
