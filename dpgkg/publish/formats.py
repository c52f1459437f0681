"""THE format registry: one place from short name, suffix and media type to serializer.

Used by the SPARQL endpoint, the resource views and the dumps alike. RDF syntaxes
serialise graphs (CONSTRUCT/DESCRIBE, resources); result syntaxes serialise
SELECT/ASK results. Each format names the pyoxigraph format that writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # short name, also accepted as ?format=
    media_type: str  # the one we send in Content-Type
    suffix: str  # with the dot: ".ttl"
    ox_format: ox.RdfFormat | ox.QueryResultsFormat
    aliases: tuple[str, ...] = ()  # other media types that ask for the same thing
    iri: str = ""  # the W3C format IRI (http://www.w3.org/ns/formats/), for descriptions

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def is_rdf(self) -> bool:
        return isinstance(self.ox_format, ox.RdfFormat)

    @property
    def content_type(self) -> str:
        """Content-Type header value (charset for the text syntaxes)."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


W3C = "http://www.w3.org/ns/formats/"

RDF_FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("turtle", "text/turtle", ".ttl", ox.RdfFormat.TURTLE,
           ("application/x-turtle", "application/turtle"),
           iri=W3C + "Turtle"),
    Format("jsonld", "application/ld+json", ".jsonld", ox.RdfFormat.JSON_LD,
           iri=W3C + "JSON-LD"),
    Format("ntriples", "application/n-triples", ".nt", ox.RdfFormat.N_TRIPLES,
           iri=W3C + "N-Triples"),
    Format("rdfxml", "application/rdf+xml", ".rdf", ox.RdfFormat.RDF_XML,
           ("application/xml",),
           iri=W3C + "RDF_XML"),
    Format("trig", "application/trig", ".trig", ox.RdfFormat.TRIG, ("application/x-trig",),
           iri=W3C + "TriG"),
    Format("nquads", "application/n-quads", ".nq", ox.RdfFormat.N_QUADS,
           iri=W3C + "N-Quads"),
)}

RESULT_FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("json", "application/sparql-results+json", ".json", ox.QueryResultsFormat.JSON,
           ("application/json",),
           iri=W3C + "SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", ".xml", ox.QueryResultsFormat.XML,
           ("application/xml", "text/xml"),
           iri=W3C + "SPARQL_Results_XML"),
    Format("csv", "text/csv", ".csv", ox.QueryResultsFormat.CSV,
           iri=W3C + "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", ".tsv", ox.QueryResultsFormat.TSV,
           iri=W3C + "SPARQL_Results_TSV"),
)}

# Graph syntaxes a CONSTRUCT/DESCRIBE answer is offered in, default first. TriG and
# N-Quads of a graph are its Turtle / N-Triples (everything is in the default graph).
GRAPH_RESULT_FORMATS: tuple[str, ...] = ("turtle", "jsonld", "ntriples", "rdfxml", "trig",
                                         "nquads")
# SELECT/ASK, default first.
SOLUTION_FORMATS: tuple[str, ...] = ("json", "xml", "csv", "tsv")


def _norm_media_type(mt: str) -> str:
    return mt.split(";", 1)[0].strip().lower()


def by_suffix(suffix: str, registry: dict[str, Format] | None = None) -> Format | None:
    """The format of a file suffix ('.ttl' or 'ttl'); RDF formats win over result formats."""
    s = "." + suffix.lower().lstrip(".")
    for reg in ((registry,) if registry is not None else (RDF_FORMATS, RESULT_FORMATS)):
        for f in reg.values():
            if f.suffix == s:
                return f
    return None


def by_media_type(mt: str, registry: dict[str, Format] | None = None) -> Format | None:
    """The format a media type (parameters ignored) names, its main type before aliases."""
    m = _norm_media_type(mt)
    regs = (registry,) if registry is not None else (RDF_FORMATS, RESULT_FORMATS)
    for reg in regs:
        for f in reg.values():
            if f.media_type == m:
                return f
    for reg in regs:
        for f in reg.values():
            if m in f.aliases:
                return f
    return None


def by_name(name: str, registry: dict[str, Format] | None = None) -> Format | None:
    """A `format=` value: short name, media type, or suffix."""
    n = name.strip().lower()
    regs = (registry,) if registry is not None else (RDF_FORMATS, RESULT_FORMATS)
    for reg in regs:
        if n in reg:
            return reg[n]
    if "/" in n:
        return by_media_type(n, registry)
    return by_suffix(n, registry) if n else None


def offers(names: tuple[str, ...] | list[str], registry: dict[str, Format]) -> list[str]:
    """Media types to negotiate over for these formats: main types first, then aliases."""
    main = [registry[n].media_type for n in names]
    extra = [a for n in names for a in registry[n].aliases if a not in main]
    return main + extra
