"""THE format registry: one place from short name, suffix and media type to serializer.

Used by the SPARQL endpoint, the resource views, the catalogue and the dumps alike. RDF
syntaxes serialise graphs (CONSTRUCT/DESCRIBE, resources); result syntaxes serialise
SELECT/ASK results; page formats (HTML, plain JSON) are what the catalogue also lists.
Each format names the pyoxigraph format that writes it, and how DCAT describes it (a
label and an EU file-type code). The dump files of the whole graph are listed here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # short name, also accepted as ?format=
    media_type: str  # the one we send in Content-Type
    suffix: str  # with the dot: ".ttl"
    ox_format: ox.RdfFormat | ox.QueryResultsFormat | None  # None: not RDF (pages)
    aliases: tuple[str, ...] = ()  # other media types that ask for the same thing
    iri: str = ""  # the W3C format IRI (http://www.w3.org/ns/formats/), for descriptions
    label: str = ""  # its name for people ("Turtle")
    file_type: str = ""  # its code in the EU file-type authority table (DCAT-AP)

    @property
    def ext(self) -> str:
        """The suffix without its dot: "ttl"."""
        return self.suffix.lstrip(".")

    @property
    def media_type_iri(self) -> ox.NamedNode:
        return ox.NamedNode(IANA + self.media_type)

    @property
    def file_type_iri(self) -> ox.NamedNode:
        return ox.NamedNode(FILE_TYPE + self.file_type)

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
IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"

RDF_FORMATS: dict[str, Format] = {f.name: f for f in (
    # Turtle is N3 too: clients asking for N3 (SPARQLWrapper's N3) can read it.
    Format("turtle", "text/turtle", ".ttl", ox.RdfFormat.TURTLE,
           ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3",
            "application/rdf+n3"),
           iri=W3C + "Turtle", label="Turtle", file_type="RDF_TURTLE"),
    Format("jsonld", "application/ld+json", ".jsonld", ox.RdfFormat.JSON_LD,
           ("application/x-json+ld",), iri=W3C + "JSON-LD", label="JSON-LD", file_type="JSON_LD"),
    Format("ntriples", "application/n-triples", ".nt", ox.RdfFormat.N_TRIPLES,
           iri=W3C + "N-Triples", label="N-Triples", file_type="RDF_N_TRIPLES"),
    Format("rdfxml", "application/rdf+xml", ".rdf", ox.RdfFormat.RDF_XML,
           ("application/xml",),
           iri=W3C + "RDF_XML", label="RDF/XML", file_type="RDF_XML"),
    Format("trig", "application/trig", ".trig", ox.RdfFormat.TRIG, ("application/x-trig",),
           iri=W3C + "TriG", label="TriG", file_type="RDF_TRIG"),
    Format("nquads", "application/n-quads", ".nq", ox.RdfFormat.N_QUADS,
           iri=W3C + "N-Quads", label="N-Quads", file_type="RDF_N_QUADS"),
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

# Not RDF: pages, CodeMeta's plain JSON, and the browse and search tables for spreadsheets.
PAGE_FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("html", "text/html", ".html", None, label="HTML", file_type="HTML"),
    Format("json", "application/json", ".json", None, label="JSON", file_type="JSON"),
    Format("csv", "text/csv", ".csv", None, label="CSV", file_type="CSV"),
)}


@dataclass(frozen=True)
class DumpFormat:
    """One dump file of the whole graph, written after each build."""

    name: str  # the file name
    format: str  # its syntax: a key of RDF_FORMATS
    label: str
    description: str
    quads: bool
    gzipped: bool = False

    @property
    def rdf(self) -> ox.RdfFormat:
        return RDF_FORMATS[self.format].ox_format

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.gzipped else RDF_FORMATS[self.format].media_type


DUMP_FORMATS: dict[str, DumpFormat] = {f.name: f for f in [
    DumpFormat("dpgkg.nt.gz", "ntriples", "N-Triples, gzip",
               "Every distinct triple of the graph (the union of its named graphs).",
               quads=False, gzipped=True),
    DumpFormat("dpgkg.ttl", "turtle", "Turtle",
               "Every distinct triple of the graph (the union of its named graphs).",
               quads=False),
    DumpFormat("dpgkg.jsonld", "jsonld", "JSON-LD",
               "Every named graph with its provenance, as JSON-LD.", quads=True),
    DumpFormat("dpgkg.trig", "trig", "TriG",
               "Every named graph with its provenance, as TriG.", quads=True),
]}

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


# Other names clients put in `format=` / `output=`: SPARQLWrapper's return formats
# ("json-ld", "rdf+xml", "rdf", "n3"), rdflib's and Jena's format names ("nt", "n-triples",
# "xml-rdf"), the file suffixes, and the short forms of the result media types.
NAME_ALIASES: dict[str, str] = {
    "json-ld": "jsonld", "json+ld": "jsonld", "ld+json": "jsonld",
    "rdf+xml": "rdfxml", "rdf": "rdfxml", "xml-rdf": "rdfxml", "rdf/xml": "rdfxml",
    "pretty-xml": "rdfxml",
    "n3": "turtle", "ttl": "turtle",
    "nt": "ntriples", "n-triples": "ntriples", "nt11": "ntriples",
    "nq": "nquads", "n-quads": "nquads",
    "sparql-results+json": "json", "srj": "json", "sparql-results+xml": "xml", "srx": "xml",
}
# The syntax of the other kind of answer a name means too: `format=xml` for a CONSTRUCT
# is RDF/XML, `format=json-ld` for a SELECT is SPARQL JSON results.
COUNTERPART: dict[str, str] = {"xml": "rdfxml", "json": "jsonld", "rdfxml": "xml",
                               "jsonld": "json"}


def by_name(name: str, registry: dict[str, Format] | None = None) -> Format | None:
    """A `format=` value: short name (ours or a client's alias), media type, or suffix; a
    comma-separated list of media types (as SPARQLWrapper sends) names its first known one."""
    n = name.strip().lower()
    if "," in n:
        found = (by_name(part, registry) for part in n.split(",") if part.strip())
        return next((f for f in found if f is not None), None)
    regs = (registry,) if registry is not None else (RDF_FORMATS, RESULT_FORMATS)
    n = NAME_ALIASES.get(n, n)
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


def published(ext: str) -> Format:
    """A format the catalogue lists a distribution in, by suffix ("ttl", "html")."""
    fmt = by_suffix(ext, RDF_FORMATS) or by_suffix(ext, PAGE_FORMATS)
    if fmt is None:
        raise KeyError(ext)
    return fmt
