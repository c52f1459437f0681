"""Describe one resource of the graph, and serialise the description in every syntax.

Framework-free: the web views and the CLI call these functions. The hot path
(one resource per request) is one CONSTRUCT query, serialised with pyoxigraph;
the JSON-LD is the same triples compacted by pyld (dpgkg.publish.jsonld), once per
store version.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from dpgkg.iris import is_iri
from dpgkg.publish import jsonld
from dpgkg.rdf import (
    DPG,
    ONTOLOGY_IRI,
    PREFIXES,
    RDF,
    RDFS,
    SCHEMA,
    SDG,
    SHAPES_IRI,
    SKOS,
)

# Properties that name a linked resource; the description carries them for every object.
ROLE_PROPERTIES = {  # solution -> organisation, in the order a reader expects them
    "owner": DPG.ownedBy, "maintainer": DPG.maintainedBy,
    "funder": DPG.fundedBy, "implementer": DPG.implementedBy,
}
LABEL_PROPERTIES = (SCHEMA.name, SKOS.prefLabel, RDFS.label, SKOS.notation, DPG.spdxId,
                    DPG.osiApproved)
SDG_BASE = str(SDG)

# Two queries: oxigraph plans one query joining the labels badly (tens of ms).
_DESCRIBE = """
CONSTRUCT {{ ?s ?p ?o }}
WHERE {{
  {{ BIND(<{iri}> AS ?s) ?s ?p ?o }}
  UNION {{ <{iri}> ?p1 ?s . FILTER(STRSTARTS(STR(?s), "{iri}#")) ?s ?p ?o }}
  UNION {{ <{iri}> ?p1 ?m . ?m ?p2 ?s .
          FILTER(STRSTARTS(STR(?m), "{iri}#") && STRSTARTS(STR(?s), "{iri}#")) ?s ?p ?o }}
}}"""
_LABELS = """
CONSTRUCT {{ ?o ?lp ?l }}
WHERE {{ ?o ?lp ?l FILTER(?lp IN ({labels}))
        FILTER(!isLiteral(?l) || LANG(?l) = "" || LANGMATCHES(LANG(?l), "en")) }}"""
_LABEL_LIST = ", ".join(f"<{p.value}>" for p in LABEL_PROPERTIES)

# Labels of every resource, per store version: a description looks up what it links
# to here instead of asking the store (for a DPG linked to 250 countries, concepts
# and organisations that query alone took 20 ms). English or untagged only.
_label_cache: dict[int, tuple[str, dict[str, list[ox.Triple]]]] = {}


def _labels(store) -> dict[str, list[ox.Triple]]:
    version = store.version()
    cached = _label_cache.get(id(store))
    if cached is None or cached[0] != version:
        index: dict[str, list[ox.Triple]] = defaultdict(list)
        for t in dict.fromkeys(store.query(_LABELS.format(labels=_LABEL_LIST))):
            index[t.subject.value].append(t)
        cached = _label_cache[id(store)] = (version, dict(index))
    return cached[1]


def labels(store) -> dict[str, list[ox.Triple]]:
    """Every resource's label triples (English or untagged), kept per store version."""
    return _labels(store)


def _safe_iri(iri: str) -> str:
    """An IRI that cannot break out of <...> or "..." in a query (request paths are user input)."""
    for ch in '<>"{}|^`\\ \n\r\t':
        if ch in iri:
            raise ValueError(f"not an IRI: {iri!r}")
    return iri


@dataclass
class Description:
    """The triples that describe one resource, indexed by subject and predicate."""

    iri: str
    triples: list[ox.Triple]
    index: dict[str, dict[str, list]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The resource first, then its parts, then what it links to: readable Turtle.
        own, part = self.iri, self.iri + "#"
        # each triple once (a DPG deployed in 240 countries: no list scans per value)
        self.triples = list(dict.fromkeys(self.triples))
        self.triples.sort(key=lambda t: (t.subject.value != own,
                                         not t.subject.value.startswith(part), t.subject.value))
        idx: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for t in self.triples:
            idx[t.subject.value][t.predicate.value].append(t.object)
        self.index = idx

    def values(self, subject: str, predicate: ox.NamedNode) -> list:
        node = self.index.get(subject)
        return node.get(predicate.value, []) if node else []

    def first(self, subject: str, predicate: ox.NamedNode):
        v = self.values(subject, predicate)
        return v[0] if v else None

    @cached_property
    def types(self) -> set[str]:
        return {t.value for t in self.values(self.iri, RDF.type)}

    def label(self, iri: str) -> str | None:
        """The best label of a resource in the description (English first)."""
        for p in (SCHEMA.name, SKOS.prefLabel, RDFS.label):
            best = None
            for v in self.values(iri, p):
                if isinstance(v, ox.Literal):
                    if v.language in (None, "en"):
                        return v.value
                    best = best or v.value
            if best:
                return best
        notation = self.first(iri, SKOS.notation)
        return notation.value if notation is not None else None

    def parts(self) -> list[str]:
        """The hash-IRI parts of the resource, in a stable order."""
        return sorted(s for s in self.index if s.startswith(self.iri + "#"))


def describe(store, iri: str) -> Description | None:
    """The resource, its hash parts with their triples, and labels of what it links to.

    None when the graph says nothing about `iri` as a subject (or `iri` is no IRI at all).
    """
    if not is_iri(iri):
        return None
    own = list(dict.fromkeys(store.query(_DESCRIBE.format(iri=_safe_iri(iri)))))
    if not own:
        return None
    part = iri + "#"
    # Not the classes it is an instance of: a class's label is the ontology's (/ontology),
    # and JSON-LD's @type can nest no node (it would stand apart from the resource).
    linked = {t.object.value for t in own
              if isinstance(t.object, ox.NamedNode) and not t.object.value.startswith(part)
              and t.predicate != RDF.type}
    index = _labels(store) if linked else {}
    labels = [t for o in sorted(linked) for t in index.get(o, ())]
    return Description(iri, own + labels)


def exists(store, iri: str) -> bool:
    """Whether the graph says anything about `iri` as a subject (a cheap ASK)."""
    return is_iri(iri) and store.ask(f"ASK {{ <{_safe_iri(iri)}> ?p ?o }}")


def graph_exists(store, graph_iri: str) -> bool:
    return store.ask(f"ASK {{ GRAPH <{_safe_iri(graph_iri)}> {{ ?s ?p ?o }} }}")


def describe_graph(store, graph_iri: str) -> Description | None:
    """Everything in one named graph (the ontology, the shapes), as one description."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{_safe_iri(graph_iri)}> {{ ?s ?p ?o }} }}"
    triples = list(dict.fromkeys(store.query(query)))
    return Description(graph_iri, triples) if triples else None


# Serialisation ---------------------------------------------------------------

def serialize(description: Description, ox_format: ox.RdfFormat) -> bytes:
    """The description in an RDF syntax, by pyoxigraph (prefixes where the syntax has them)."""
    kwargs = {}
    if ox_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML, ox.RdfFormat.TRIG):
        kwargs["prefixes"] = PREFIXES
    return ox.serialize(description.triples, format=ox_format, **kwargs)


# JSON-LD ---------------------------------------------------------------------

def jsonld_bytes(store, description_of, iri: str, context_url: str) -> bytes | None:
    """The JSON-LD of `iri`: exactly its description's triples, compacted by pyld against
    the published context (see dpgkg.publish.jsonld), made once per store version.

    `description_of()` gives the Description (None: nothing known about `iri`).
    """
    def triples():
        d = description_of()
        return d.triples if d is not None else None

    return jsonld.document_bytes(store.version(), (id(store), iri), triples, iri, context_url)


def is_solution(description: Description) -> bool:
    return DPG.Solution.value in description.types


def graph_iri_for(name: str) -> str:
    """The named graph served at /ontology or /shapes."""
    return {"ontology": ONTOLOGY_IRI, "shapes": SHAPES_IRI}[name]
