"""What the ontology entails, materialised inside the store.

owlrl's full closure over the registry graph takes tens of seconds because it
applies every OWL 2 RL rule to every triple. The ontology only uses a handful of
constructs, so we compile its TBox into
a few rule tables and run them as SPARQL in the store until nothing new comes
out. ``tests/test_reasoning.py`` checks the result against owlrl itself, which a
user can also choose (``dpgkg build --reasoner owlrl``, :func:`materialise_owlrl`).

Rules applied (OWL 2 RL names): cax-sco and cax-eqc (subclass, equivalent
class), prp-spo1 and prp-eqp (subproperty), prp-inv (inverse), prp-dom and
prp-rng (domain, range on IRIs), prp-spo2 (property chains), prp-symp and
prp-trp (symmetric, transitive), cls-hv1 and cls-hv2 (hasValue restrictions).
Deliberately not applied: owl:sameAs smushing (our sameAs links point to
Wikidata and GeoNames; copying every statement onto them is noise).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib import OWL as R_OWL
from rdflib import RDF as R_RDF
from rdflib import RDFS as R_RDFS
from rdflib.collection import Collection

BUILTIN_NS = (str(R_RDF), str(R_RDFS), str(R_OWL), "http://www.w3.org/2001/XMLSchema#")


@dataclass
class Rules:
    """The TBox compiled to tables of IRIs (strings)."""

    subclass: set[tuple[str, str]] = field(default_factory=set)      # (C, D): x a C -> x a D
    subproperty: set[tuple[str, str]] = field(default_factory=set)   # (p, q): x p y -> x q y
    inverse: set[tuple[str, str]] = field(default_factory=set)       # (p, q): x p y -> y q x
    domain: set[tuple[str, str]] = field(default_factory=set)
    range: set[tuple[str, str]] = field(default_factory=set)
    chains: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    transitive: set[str] = field(default_factory=set)
    has_value_in: set[tuple[str, str, str]] = field(default_factory=set)   # (p, v, D): x p v -> x a D
    has_value_out: set[tuple[str, str, str]] = field(default_factory=set)  # (E, p, v): x a E -> x p v

    def size(self) -> int:
        return sum(len(getattr(self, f)) for f in self.__dataclass_fields__)

    def to_json(self) -> dict:
        """The tables as sorted lists (a build cache keeps them)."""
        out = {}
        for f in self.__dataclass_fields__:
            rows = getattr(self, f)
            out[f] = sorted([r[0], list(r[1])] if f == "chains" else r for r in rows)
        return out

    @classmethod
    def from_json(cls, data: dict) -> Rules:
        """What :meth:`to_json` gave (KeyError, TypeError or ValueError when it is not)."""
        rules = cls()
        for f in cls.__dataclass_fields__:
            rows = data[f]
            if not isinstance(rows, list):
                raise TypeError(f"{f}: not a list")
            if f == "transitive":
                value = {str(r) for r in rows}
            elif f == "chains":
                value = {(str(p), tuple(map(str, c))) for p, c in rows}
            else:
                value = {tuple(map(str, r)) for r in rows}
                width = 3 if f.startswith("has_value") else 2
                if any(len(r) != width for r in value):
                    raise ValueError(f"{f}: rows of {width} expected")
            setattr(rules, f, value)
        return rules


def _closure(pairs: set[tuple]) -> dict:
    """Reflexive-free transitive closure of a relation given as pairs."""
    up: dict = defaultdict(set)
    for a, b in pairs:
        up[a].add(b)
    changed = True
    while changed:
        changed = False
        for a in list(up):
            extra = set().union(*(up.get(b, set()) for b in up[a])) - up[a] - {a}
            if extra:
                up[a] |= extra
                changed = True
    return up


def compile_rules(tbox: rdflib.Graph) -> Rules:
    """Compile the ontology graph(s) into rule tables."""
    rules = Rules()
    sub = {(c, d) for c, d in tbox.subject_objects(R_RDFS.subClassOf)}
    for c, d in tbox.subject_objects(R_OWL.equivalentClass):
        sub |= {(c, d), (d, c)}
    subp = {(p, q) for p, q in tbox.subject_objects(R_RDFS.subPropertyOf)}
    for p, q in tbox.subject_objects(R_OWL.equivalentProperty):
        subp |= {(p, q), (q, p)}
    class_up = _closure(sub)
    prop_up = _closure(subp)

    def iri(t) -> bool:
        return isinstance(t, rdflib.URIRef)

    for c, ds in class_up.items():
        if iri(c):
            rules.subclass |= {(str(c), str(d)) for d in ds if iri(d) and d != c}
    for p, qs in prop_up.items():
        if iri(p):
            rules.subproperty |= {(str(p), str(q)) for q in qs if iri(q) and q != p}
    for p, q in tbox.subject_objects(R_OWL.inverseOf):
        rules.inverse |= {(str(p), str(q)), (str(q), str(p))}
    for p in tbox.subjects(R_RDF.type, R_OWL.SymmetricProperty):
        rules.inverse.add((str(p), str(p)))
    for p in tbox.subjects(R_RDF.type, R_OWL.TransitiveProperty):
        rules.transitive.add(str(p))
    rules.domain = {(str(p), str(c)) for p, c in tbox.subject_objects(R_RDFS.domain) if iri(c)}
    rules.range = {(str(p), str(c)) for p, c in tbox.subject_objects(R_RDFS.range) if iri(c)}
    for p, head in tbox.subject_objects(R_OWL.propertyChainAxiom):
        rules.chains.add((str(p), tuple(str(x) for x in Collection(tbox, head))))
    for r in tbox.subjects(R_OWL.hasValue, None):
        p, v = tbox.value(r, R_OWL.onProperty), tbox.value(r, R_OWL.hasValue)
        if p is None or v is None or not iri(v):
            continue
        # classes the restriction implies (its superclasses, incl. equivalents) ...
        for d in class_up.get(r, set()):
            if iri(d):
                rules.has_value_in.add((str(p), str(v), str(d)))
        # ... and classes that imply the restriction
        for e, ds in class_up.items():
            if r in ds and iri(e):
                rules.has_value_out.add((str(e), str(p), str(v)))
    return rules


def _values(rows, width: int) -> str:
    return " ".join("(" + " ".join(f"<{x}>" for x in row[:width]) + ")" for row in sorted(rows))


def _branches(rules: Rules) -> list[tuple[str, list[str], str]]:
    """Each rule as (VALUES clause, premises, binds and filters) of one UNION branch."""
    t = f"<{R_RDF.type}>"
    out = []
    if rules.subclass:
        out.append((f"VALUES (?c ?d) {{ {_values(rules.subclass, 2)} }}", ["?s a ?c"],
                    f"BIND({t} AS ?p) BIND(?d AS ?o) FILTER NOT EXISTS {{ ?s a ?d }}"))
    if rules.subproperty:
        out.append((f"VALUES (?p0 ?p) {{ {_values(rules.subproperty, 2)} }}", ["?s ?p0 ?o"],
                    "FILTER NOT EXISTS { ?s ?p ?o }"))
    if rules.inverse:
        out.append((f"VALUES (?p0 ?p) {{ {_values(rules.inverse, 2)} }}", ["?o ?p0 ?s"],
                    "FILTER(!isLiteral(?s)) FILTER NOT EXISTS { ?s ?p ?o }"))
    if rules.domain:
        out.append((f"VALUES (?p0 ?o) {{ {_values(rules.domain, 2)} }}", ["?s ?p0 ?x"],
                    f"BIND({t} AS ?p) FILTER NOT EXISTS {{ ?s a ?o }}"))
    if rules.range:
        out.append((f"VALUES (?p0 ?o) {{ {_values(rules.range, 2)} }}", ["?x ?p0 ?s"],
                    f"FILTER(!isLiteral(?s)) BIND({t} AS ?p) FILTER NOT EXISTS {{ ?s a ?o }}"))
    for p, chain in sorted(rules.chains):
        out.append(("", [f"?v{i} <{step}> ?v{i + 1}" for i, step in enumerate(chain)],
                    (f"BIND(?v0 AS ?s) BIND(<{p}> AS ?p) BIND(?v{len(chain)} AS ?o) "
                     "FILTER NOT EXISTS { ?s ?p ?o }")))
    for p in sorted(rules.transitive):
        out.append(("", [f"?s <{p}> ?m", f"?m <{p}> ?o"],
                    f"BIND(<{p}> AS ?p) FILTER NOT EXISTS {{ ?s <{p}> ?o }}"))
    if rules.has_value_in:
        out.append((f"VALUES (?hp ?hv ?o) {{ {_values(rules.has_value_in, 3)} }}",
                    ["?s ?hp ?hv"], f"BIND({t} AS ?p) FILTER NOT EXISTS {{ ?s a ?o }}"))
    if rules.has_value_out:
        out.append((f"VALUES (?e ?p ?o) {{ {_values(rules.has_value_out, 3)} }}",
                    ["?s a ?e"], "FILTER NOT EXISTS { ?s ?p ?o }"))
    return out


def rule_query(rules: Rules, delta: str | None = None) -> str:
    """One CONSTRUCT that yields every triple the rules give that is not yet in the store.

    `delta`: a named graph that holds every triple added since the rules were last
    applied to the whole store; then only rule instances with a premise in it are tried
    (semi-naive evaluation: any other instance gave its triple before)."""
    parts = []
    for values, premises, rest in _branches(rules):
        positions = range(len(premises)) if delta else [None]
        for i in positions:
            where = " . ".join(f"GRAPH <{delta}> {{ {x} }}" if j == i else x
                               for j, x in enumerate(premises))
            parts.append(f"{{ {values}\n            {where} . {rest} }}")
    if not parts:
        return ""
    return "CONSTRUCT { ?s ?p ?o } WHERE {\n" + "\nUNION\n".join(parts) + "\n}"


def materialise(store_query, add_triples, rules: Rules, max_rounds: int = 20,
                graph: str | None = None) -> int:
    """Apply `rules` to a store until fixpoint; returns the number of triples added.

    `store_query(sparql)` runs a query over the union of all graphs;
    `add_triples(triples)` writes pyoxigraph Triples into the inferred graph, whose IRI
    is `graph` when given: after the first round, the rules are then tried only on
    instances with a premise in it (:func:`rule_query`).
    """
    query = rule_query(rules)
    if not query:
        return 0
    added = 0
    for _ in range(max_rounds):
        new = {t for t in store_query(query)}
        if not new:
            return added
        add_triples(new)
        added += len(new)
        if graph is not None:
            query = rule_query(rules, delta=graph)
    raise RuntimeError(f"inference did not reach a fixpoint in {max_rounds} rounds")


def is_builtin(term) -> bool:
    return str(term).startswith(BUILTIN_NS)


REASONERS = ("fast", "owlrl")


def owlrl_entailed(tbox: rdflib.Graph, abox: rdflib.Graph) -> set[tuple]:
    """owlrl's OWL 2 RL closure of the ontology and the data, kept to what the fast
    reasoner materialises: new statements about the data's IRIs, without the built-in
    vocabulary's own axioms, blank nodes or owl:sameAs smushing (see the module doc)."""
    import owlrl  # the reference reasoner: only imported when asked for

    g = rdflib.Graph()
    g += tbox
    g += abox
    before = set(g)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    nodes = {s for s in abox.subjects() if isinstance(s, rdflib.URIRef)}
    nodes |= {o for o in abox.objects() if isinstance(o, rdflib.URIRef)}
    outside = set(abox.objects(None, R_OWL.sameAs))
    out = set()
    for s, p, o in set(g) - before:
        if s not in nodes or isinstance(o, rdflib.BNode) or s in outside or o in outside:
            continue
        if (p == R_RDF.type and is_builtin(o)) or (p != R_RDF.type and is_builtin(p)):
            continue
        out.add((s, p, o))
    return out


def materialise_owlrl(store_query, add_triples, tbox: rdflib.Graph) -> int:
    """Like :func:`materialise`, with owlrl (the reference implementation, much slower)
    computing what is entailed; returns the number of triples added."""
    data = ox.serialize(store_query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"),
                        format=ox.RdfFormat.N_TRIPLES)
    abox = rdflib.Graph().parse(data=data, format="nt")
    entailed = rdflib.Graph()
    for t in owlrl_entailed(tbox, abox):
        entailed.add(t)
    new = {q.triple for q in ox.parse(entailed.serialize(format="nt").encode(),
                                      format=ox.RdfFormat.N_TRIPLES)}
    if new:
        add_triples(new)
    return len(new)
