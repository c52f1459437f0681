"""Namespaces and small term constructors shared by every step (pyoxigraph terms)."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

__all__ = ["NS", "BlankNode", "Literal", "NamedNode", "Triple", "iri", "lit"]


class NS:
    """A namespace whose attributes (or items) are NamedNodes: ``DPG.Solution``, ``SDG["3"]``."""

    def __init__(self, base: str):
        self.base = base

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        # kept as an attribute: the next lookup does not get here (terms are immutable)
        term = NamedNode(self.base + name)
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.base + name)

    def __str__(self) -> str:
        return self.base


ONTOLOGY_IRI = "https://w3id.org/dpgkg/ontology"
SHAPES_IRI = "https://w3id.org/dpgkg/shapes"

DPG = NS(ONTOLOGY_IRI + "#")
DPGSH = NS(SHAPES_IRI + "#")
SDG = NS("http://metadata.un.org/sdg/")
SDGO = NS("http://metadata.un.org/sdg/ontology#")
SPDX_LICENSE = NS("http://spdx.org/licenses/")
RDF = NS("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = NS("http://www.w3.org/2000/01/rdf-schema#")
OWL = NS("http://www.w3.org/2002/07/owl#")
XSD = NS("http://www.w3.org/2001/XMLSchema#")
SKOS = NS("http://www.w3.org/2004/02/skos/core#")
SCHEMA = NS("http://schema.org/")  # the form the SDG ontology and CodeMeta use
DCT = NS("http://purl.org/dc/terms/")
DCAT = NS("http://www.w3.org/ns/dcat#")
FOAF = NS("http://xmlns.com/foaf/0.1/")
ORG = NS("http://www.w3.org/ns/org#")
PROV = NS("http://www.w3.org/ns/prov#")
TIME = NS("http://www.w3.org/2006/time#")
VOID = NS("http://rdfs.org/ns/void#")
SH = NS("http://www.w3.org/ns/shacl#")

PREFIXES = {
    "dpg": str(DPG), "dpgsh": str(DPGSH), "sdg": str(SDG), "sdgo": str(SDGO),
    "spdx": str(SPDX_LICENSE), "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL),
    "xsd": str(XSD), "skos": str(SKOS), "schema": str(SCHEMA), "dct": str(DCT),
    "dcat": str(DCAT), "foaf": str(FOAF), "org": str(ORG), "prov": str(PROV),
    "time": str(TIME), "void": str(VOID), "sh": str(SH),
}


def sparql_prefixes() -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def parse_into(path, fmt, graph: NamedNode):
    """Parse a graph file (pyoxigraph RdfFormat) as Quads in named graph `graph`.

    Blank nodes are labelled by the file's name and their order in it, not at random, so
    the same file gives the same quads and two builds of the same sources the same dumps.
    """
    from pyoxigraph import Quad, parse

    labels: dict = {}
    stem = "".join(c for c in Path(path).stem if c.isalnum())

    def term(t):
        if isinstance(t, BlankNode):
            if t not in labels:
                labels[t] = BlankNode(f"{stem}{len(labels)}")
            return labels[t]
        return t

    return (Quad(term(q.subject), q.predicate, term(q.object), graph)
            for q in parse(path=str(path), format=fmt))


def iri(value: str) -> NamedNode:
    return NamedNode(value)


def lit(value, datatype: NamedNode | None = None, lang: str | None = None) -> Literal:
    """A literal from a Python value; bool/int/float get their XSD datatype."""
    if lang:
        return Literal(str(value), language=lang)
    if datatype is not None:
        return Literal(str(value), datatype=datatype)
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=XSD.boolean)
    if isinstance(value, int):
        return Literal(str(value), datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(repr(value), datatype=XSD.double)
    return Literal(str(value))
