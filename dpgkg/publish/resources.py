"""Describe one resource of the graph and frame a DPG as one JSON-LD object.

Framework-free: the web views and the CLI call these functions. The hot path
(one resource per request) is one CONSTRUCT query, serialised with pyoxigraph;
the JSON-LD of a solution is built from the same triples into a dict, with no
JSON-LD processor at request time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from dpgkg.config import ONTOLOGY_DIR
from dpgkg.rdf import (
    DCT,
    DPG,
    ONTOLOGY_IRI,
    PREFIXES,
    RDF,
    RDFS,
    SCHEMA,
    SDG,
    SDGO,
    SHAPES_IRI,
    SKOS,
    XSD,
)

# Properties that name a linked resource; the description carries them for every object.
LABEL_PROPERTIES = (SCHEMA.name, SKOS.prefLabel, RDFS.label, SKOS.notation, DPG.spdxId,
                    DPG.osiApproved)
SDG_BASE = str(SDG)
CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
ROLE_PROPERTIES = {  # solution -> organisation, in the order a reader expects them
    "owner": DPG.ownedBy, "maintainer": DPG.maintainedBy,
    "funder": DPG.fundedBy, "implementer": DPG.implementedBy,
}

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
        self.triples.sort(key=lambda t: (t.subject.value != own,
                                         not t.subject.value.startswith(part), t.subject.value))
        idx: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for t in self.triples:
            values = idx[t.subject.value][t.predicate.value]
            if t.object not in values:
                values.append(t.object)
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

    None when the graph says nothing about `iri` as a subject.
    """
    own = list(dict.fromkeys(store.query(_DESCRIBE.format(iri=_safe_iri(iri)))))
    if not own:
        return None
    part = iri + "#"
    linked = {t.object.value for t in own
              if isinstance(t.object, ox.NamedNode) and not t.object.value.startswith(part)}
    index = _labels(store) if linked else {}
    labels = [t for o in sorted(linked) for t in index.get(o, ())]
    return Description(iri, own + labels)


def describe_graph(store, graph_iri: str) -> Description | None:
    """Everything in one named graph (the ontology, the shapes), as one description."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{_safe_iri(graph_iri)}> {{ ?s ?p ?o }} }}"
    triples = list(dict.fromkeys(store.query(query)))
    return Description(graph_iri, triples) if triples else None


# Serialisation ---------------------------------------------------------------

OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD,
}


def serialize(description: Description, ox_format: ox.RdfFormat) -> bytes:
    """The description in an RDF syntax, by pyoxigraph (prefixes where the syntax has them)."""
    kwargs = {}
    if ox_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML, ox.RdfFormat.TRIG):
        kwargs["prefixes"] = PREFIXES
    return ox.serialize(description.triples, format=ox_format, **kwargs)


# JSON-LD ---------------------------------------------------------------------

# The terms the framed solution object uses. Served at /context.jsonld unless the
# ontology directory publishes its own context.jsonld.
CONTEXT: dict = {
    "@context": {
        "@version": 1.1,
        "@vocab": str(DPG),
        **{p: ns for p, ns in PREFIXES.items() if p in (
            "dpg", "sdg", "sdgo", "spdx", "schema", "dct", "skos", "rdfs", "org", "xsd",
            "prov", "time", "foaf", "dcat", "owl")},
        "name": "schema:name",
        "alternateName": "schema:alternateName",
        "description": "schema:description",
        "url": {"@id": "schema:url", "@type": "@id"},
        "stage": {"@id": "dpg:stage", "@type": "@vocab"},
        "type": {"@id": "dpg:solutionType", "@type": "@vocab"},
        "label": {"@id": "skos:prefLabel", "@language": "en"},
        "notation": "skos:notation",
        "licenses": {"@id": "dct:license", "@type": "@id",
                     "@context": {"name": "rdfs:label"}},
        "spdxId": "dpg:spdxId",
        "osiApproved": "dpg:osiApproved",
        "sdgs": {"@id": "dpg:relevantToSDG", "@type": "@id"},
        "evidence": {"@reverse": "dpg:sdg"},
        "evidenceText": "dpg:evidenceText",
        "evidenceURL": {"@id": "dpg:evidenceURL", "@type": "@id"},
        # One entry per organisation; "roles" is a reading aid, the role
        # triples themselves are the ownedBy/maintainedBy/... keys.
        "organisations": {"@id": "dpg:hasOrganisation", "@type": "@id"},
        "roles": None,
        "ownedBy": {"@id": "dpg:ownedBy", "@type": "@id"},
        "maintainedBy": {"@id": "dpg:maintainedBy", "@type": "@id"},
        "fundedBy": {"@id": "dpg:fundedBy", "@type": "@id"},
        "implementedBy": {"@id": "dpg:implementedBy", "@type": "@id"},
        "repositories": {"@id": "schema:codeRepository", "@type": "@id"},
        "sectors": {"@id": "dpg:sector", "@type": "@id"},
        "developmentCountries": {"@id": "dpg:developmentCountry", "@type": "@id"},
        "deploymentCountries": {"@id": "dpg:deploymentCountry", "@type": "@id"},
    }
}


def published_context() -> dict:
    """The JSON-LD context document the server publishes at /context.jsonld."""
    if CONTEXT_FILE.is_file():
        return json.loads(CONTEXT_FILE.read_text())
    return CONTEXT


_SHORT = [(str(DPG), ""), (str(SCHEMA), "schema:"), (str(DCT), "dct:"), (str(SKOS), "skos:")]
_NATIVE = {XSD.boolean.value: lambda v: v == "true", XSD.integer.value: int}


def _short(iri: str) -> str:
    """A type or stage IRI as the context compacts it (dpg: terms via @vocab)."""
    for ns, prefix in _SHORT:
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri


def _value(term, language: str | None = None):
    """A literal as JSON-LD compaction with a term of that `language` would write it."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if not isinstance(term, ox.Literal):
        return str(term)
    if term.language:
        if term.language == language:
            return term.value
        return {"@value": term.value, "@language": term.language}
    dt = term.datatype.value
    if dt == XSD.string.value:
        return term.value if language is None else {"@value": term.value}
    if dt in _NATIVE:
        try:
            return _NATIVE[dt](term.value)
        except ValueError:
            pass
    return {"@value": term.value, "@type": dt}


def _one(values: list, language: str | None = None):
    if not values:
        return None
    return _value(values[0], language) if len(values) == 1 else [
        _value(v, language) for v in values]


def _en(values: list) -> str | None:
    """One English (or untagged) label among several languages."""
    for v in values:
        if isinstance(v, ox.Literal) and v.language == "en":
            return v
    for v in values:
        if isinstance(v, ox.Literal) and not v.language:
            return v
    return None


def _linked(d: Description, iri: str, **extra) -> dict:
    obj: dict = {"@id": iri}
    label = _en(d.values(iri, SKOS.prefLabel))
    if label is not None:
        obj["label"] = _value(label, "en")
    obj.update({k: v for k, v in extra.items() if v is not None})
    return obj


def is_solution(description: Description) -> bool:
    return DPG.Solution.value in description.types


def solution_jsonld(d: Description, context_url: str) -> dict:
    """One solution as one JSON-LD object, compacted with the published context."""
    s = d.iri
    doc: dict = {"@context": context_url, "@id": s,
                 "@type": sorted(_short(t) for t in d.types)}
    for key, prop in (("name", SCHEMA.name), ("alternateName", SCHEMA.alternateName),
                      ("description", SCHEMA.description), ("url", SCHEMA.url)):
        v = _one(d.values(s, prop))
        if v is not None:
            doc[key] = v
    for key, prop in (("stage", DPG.stage), ("type", DPG.solutionType)):
        v = d.values(s, prop)
        if v:
            doc[key] = _short(v[0].value) if len(v) == 1 else [_short(x.value) for x in v]

    licenses = []
    for lic in d.values(s, DCT.license):
        obj = {"@id": lic.value}
        if (v := d.first(lic.value, DPG.spdxId)) is not None:
            obj["spdxId"] = _value(v)
        if (v := d.first(lic.value, RDFS.label)) is not None:
            obj["name"] = _value(v)
        if (v := d.first(lic.value, DPG.osiApproved)) is not None:
            obj["osiApproved"] = _value(v)
        licenses.append(obj)
    doc["licenses"] = licenses

    evidence: dict[str, list] = defaultdict(list)
    for part in d.values(s, DPG.sdgRelevance):
        for goal in d.values(part.value, DPG.sdg):
            ev = {"@id": part.value}
            if (t := _one(d.values(part.value, DPG.evidenceText))) is not None:
                ev["evidenceText"] = t
            if (u := _one(d.values(part.value, DPG.evidenceURL))) is not None:
                ev["evidenceURL"] = u
            evidence[goal.value].append(ev)
    sdgs = []
    for goal in sorted(d.values(s, DPG.relevantToSDG), key=lambda g: _sdg_key(g.value)):
        notation = _notation(d.values(goal.value, SKOS.notation))
        sdgs.append(_linked(d, goal.value,
                            notation=_value(notation) if notation is not None else None,
                            evidence=evidence.get(goal.value) or None))
    doc["sdgs"] = sdgs

    orgs: dict[str, dict] = {}
    for role, prop in ROLE_PROPERTIES.items():
        found = d.values(s, prop)
        if found:
            doc[prop.value[len(str(DPG)):]] = [o.value for o in found]
        for o in found:
            entry = orgs.setdefault(o.value, {"@id": o.value, "roles": []})
            if (name := _one(d.values(o.value, SCHEMA.name))) is not None:
                entry["name"] = name
            entry["roles"].append(role)
    doc["organisations"] = list(orgs.values())

    doc["repositories"] = [r.value for r in d.values(s, SCHEMA.codeRepository)]
    doc["sectors"] = [_linked(d, x.value) for x in d.values(s, DPG.sector)]
    for key, prop in (("developmentCountries", DPG.developmentCountry),
                      ("deploymentCountries", DPG.deploymentCountry)):
        doc[key] = sorted((_linked(d, c.value) for c in d.values(s, prop)),
                          key=lambda c: c["@id"])
    return doc


_SDG_COMPACT = SDGO.SDGCodeCompact.value


def _notation(values: list):
    """The notation a reader expects: the UN's compact code ("3", not "03"), else a plain one."""
    for v in values:
        if isinstance(v, ox.Literal) and v.datatype.value == _SDG_COMPACT:
            return v
    for v in values:
        if isinstance(v, ox.Literal) and v.datatype.value == XSD.string.value:
            return v
    return values[0] if values else None


def _sdg_key(iri: str) -> tuple:
    tail = iri.removeprefix(SDG_BASE)
    return tuple(int(x) if x.isdigit() else 0 for x in tail.split("."))


_PREFIX_CONTEXT = {p: ns for p, ns in PREFIXES.items()}


def _key(iri: str) -> str:
    for p, ns in PREFIXES.items():
        if iri.startswith(ns) and iri[len(ns):].replace("_", "a").replace("-", "a").isalnum():
            return f"{p}:{iri[len(ns):]}"
    return iri


def generic_jsonld(d: Description, context_url: str) -> dict:
    """Any description as compacted JSON-LD: one node object per subject, resource first."""
    nodes = []
    for subject, props in d.index.items():
        node: dict = {"@id": subject}
        for p, values in props.items():
            if p == RDF.type.value:
                node["@type"] = [_key(v.value) for v in values]
                continue
            node[_key(p)] = [{"@id": v.value} if isinstance(v, ox.NamedNode) else _value(v)
                             for v in values]
        nodes.append(node)
    return {"@context": [context_url, _PREFIX_CONTEXT], "@graph": nodes}


def graph_iri_for(name: str) -> str:
    """The named graph served at /ontology or /shapes."""
    return {"ontology": ONTOLOGY_IRI, "shapes": SHAPES_IRI}[name]
