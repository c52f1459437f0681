"""The DCAT-AP 3 catalogue of the DPGs, paged with Hydra, and the VoID description.

Framework-free: the web blueprint and tests call `catalogue_page` / `void_description`
and serialise the triples with `serialize`. Every DPG becomes a `dcat:Dataset` (its
own IRI, typed alongside its schema.org class) because harvesters such as CKAN's
ckanext-dcat read only `dcat:Dataset` subjects. Linked nodes are typed explicitly
(`foaf:Agent`, `dct:LicenseDocument`, `skos:Concept`, `dct:MediaType`, `dct:Location`)
since the DCAT-AP shapes check the class of every linked resource.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from dpgkg.iris import IRIs
from dpgkg.rdf import (
    DCAT,
    DCT,
    DPG,
    FOAF,
    NS,
    PREFIXES,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VOID,
    XSD,
    lit,
    sparql_prefixes,
)
from dpgkg.store.base import Store

HYDRA = NS("http://www.w3.org/ns/hydra/core#")
SPDX = NS("http://spdx.org/rdf/terms#")
DCATAP = NS("http://data.europa.eu/r5r/")
VCARD = NS("http://www.w3.org/2006/vcard/ns#")
IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
AVAILABILITY_STABLE = ox.NamedNode(
    "http://publications.europa.eu/resource/authority/planned-availability/STABLE")
CODEMETA_3 = ox.NamedNode("https://w3id.org/codemeta/3.0")
SDG_SCHEME = ox.NamedNode("http://metadata.un.org/sdg")

CATALOGUE_PREFIXES = {**PREFIXES, "hydra": str(HYDRA), "spdxt": str(SPDX),
                      "dcatap": str(DCATAP), "vcard": str(VCARD)}

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# The catalogue's own metadata licence (the graph re-publishes open sources; see README).
CATALOGUE_LICENCE = ox.NamedNode("http://spdx.org/licenses/CC-BY-4.0")
CATALOGUE_TITLE = "Digital Public Goods knowledge graph"
CATALOGUE_DESCRIPTION = (
    "The Digital Public Goods registry, the DPG Standard, the Sustainable Development "
    "Goals and the Digital Public Goods Alliance as one linked-data graph: one dataset "
    "per digital public good, plus full dumps of the graph.")
PUBLISHER_NAME = "dpgkg"


@dataclass(frozen=True)
class Format:
    """A serialisation as DCAT describes it: IANA media type and EU file-type code."""

    ext: str
    media_type: str
    file_type: str
    label: str
    rdf: ox.RdfFormat | None = None

    @property
    def media_type_iri(self) -> ox.NamedNode:
        return ox.NamedNode(IANA + self.media_type)

    @property
    def file_type_iri(self) -> ox.NamedNode:
        return ox.NamedNode(FILE_TYPE + self.file_type)


FORMATS: dict[str, Format] = {f.ext: f for f in [
    Format("jsonld", "application/ld+json", "JSON_LD", "JSON-LD", ox.RdfFormat.JSON_LD),
    Format("ttl", "text/turtle", "RDF_TURTLE", "Turtle", ox.RdfFormat.TURTLE),
    Format("rdf", "application/rdf+xml", "RDF_XML", "RDF/XML", ox.RdfFormat.RDF_XML),
    Format("nt", "application/n-triples", "RDF_N_TRIPLES", "N-Triples", ox.RdfFormat.N_TRIPLES),
    Format("trig", "application/trig", "RDF_TRIG", "TriG", ox.RdfFormat.TRIG),
    Format("html", "text/html", "HTML", "HTML"),
    Format("json", "application/json", "JSON", "JSON"),
]}
GZIP = ox.NamedNode(IANA + "application/gzip")

# CKAN's default licence register knows licences by these URLs (ckan/model/license.py);
# ckanext-dcat fills license_id only when a distribution's dct:license IRI is one of them.
CKAN_LICENCES: dict[str, tuple[str, str]] = {}
for _spdx, _url, _title in [
    ("CC-BY-{v}", "http://www.opendefinition.org/licenses/cc-by", "Creative Commons Attribution"),
    ("CC-BY-SA-{v}", "http://www.opendefinition.org/licenses/cc-by-sa",
     "Creative Commons Attribution Share-Alike"),
    ("CC-BY-NC-{v}", "http://creativecommons.org/licenses/by-nc/2.0/",
     "Creative Commons Non-Commercial (Any)"),
    ("CC-BY-NC-SA-{v}", "http://creativecommons.org/licenses/by-nc/2.0/",
     "Creative Commons Non-Commercial (Any)"),
    ("CC-BY-NC-ND-{v}", "http://creativecommons.org/licenses/by-nc/2.0/",
     "Creative Commons Non-Commercial (Any)"),
]:
    for _v in ("1.0", "2.0", "2.5", "3.0", "4.0"):
        CKAN_LICENCES[_spdx.format(v=_v)] = (_url, _title)
CKAN_LICENCES.update({
    "CC0-1.0": ("http://www.opendefinition.org/licenses/cc-zero", "Creative Commons CCZero"),
    "ODbL-1.0": ("http://www.opendefinition.org/licenses/odc-odbl",
                 "Open Data Commons Open Database License (ODbL)"),
    "PDDL-1.0": ("http://www.opendefinition.org/licenses/odc-pddl",
                 "Open Data Commons Public Domain Dedication and License (PDDL)"),
    "ODC-By-1.0": ("http://www.opendefinition.org/licenses/odc-by",
                   "Open Data Commons Attribution License"),
    "GFDL-1.3-only": ("http://www.opendefinition.org/licenses/gfdl",
                      "GNU Free Documentation License"),
    "GFDL-1.3-or-later": ("http://www.opendefinition.org/licenses/gfdl",
                          "GNU Free Documentation License"),
    "OGL-UK-3.0": ("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
                   "UK Open Government Licence (OGL)"),
})

ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
LICENCE_TYPE_LABELS = {
    "PublicDomain": "Public domain", "Attribution": "Attribution",
    "ViralEffect-ShareAlike": "Viral effect (share-alike)",
    "NonCommercialUseOnly": "Non-commercial use only", "NoDerivativeWork": "No derivative work",
}
_PUBLIC_DOMAIN = {"CC0-1.0", "Unlicense", "PDDL-1.0", "0BSD", "CC-PDDC"}
_COPYLEFT = ("GPL-", "AGPL-", "LGPL-", "MPL-", "EPL-", "EUPL-", "ODbL-", "GFDL-", "OSL-",
             "CECILL-", "NPOSL-", "CDDL-", "CPAL-", "OFL-", "CERN-OHL-S")
_PERMISSIVE = ("MIT", "BSD-", "Apache-", "ISC", "Zlib", "ODC-By-", "OGL-", "Artistic-",
               "BSL-", "ECL-", "MS-PL", "PostgreSQL", "Python-", "UPL-", "W3C", "X11", "CC-BY-")

# ADMS publisher types for the alliance's member types (an owner that is also a member)
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
MEMBER_PUBLISHER_TYPES = {"Government": ("NationalAuthority", "National authority"),
                          "Multilateral": ("SupraNationalAuthority", "Supra-national authority"),
                          "Foundation": ("NonProfitOrganisation", "Non-profit organisation"),
                          "Nonprofit": ("NonProfitOrganisation", "Non-profit organisation"),
                          "Company": ("Company", "Company")}


def licence_types(spdx_id: str) -> list[str]:
    """ADMS licence types (local names) an SPDX licence falls under; [] when unsure."""
    if spdx_id in _PUBLIC_DOMAIN:
        return ["PublicDomain"]
    types = []
    if "-NC" in spdx_id:
        types.append("NonCommercialUseOnly")
    if "-ND" in spdx_id:
        types.append("NoDerivativeWork")
    copyleft = "-SA-" in spdx_id or spdx_id.startswith(_COPYLEFT)
    if copyleft:
        types.append("ViralEffect-ShareAlike")
    if copyleft or types or spdx_id.startswith(_PERMISSIVE):
        types.append("Attribution")
    return types


TYPE_KEYWORDS = {"Software": "software", "Data": "data", "Content": "content",
                 "Standard": "standard", "AIModel": "AI model"}


class Site:
    """Where documents live: the public site (stable IRIs) and the root answering now (URLs)."""

    def __init__(self, base_iri: str, root: str | None = None):
        self.iris = IRIs(base_iri)
        base = self.iris.base
        self.public = base[:-3] if base.endswith("/id/") else base
        self.root = root if root else self.public
        if not self.root.endswith("/"):
            self.root += "/"

    def url(self, path: str) -> str:
        return self.root + path.lstrip("/")

    def catalogue_iri(self) -> ox.NamedNode:
        return ox.NamedNode(self.public + "catalog")

    def graph_dataset_iri(self) -> ox.NamedNode:
        """The whole graph as one dataset: the VoID dataset and the dumps' dcat:Dataset."""
        return ox.NamedNode(self.public + ".well-known/void#dataset")

    def publisher_iri(self) -> ox.NamedNode:
        return ox.NamedNode(self.public + "#publisher")

    def page_path(self, iri: str) -> str | None:
        """Path of a resource's page on this site (resources are served below /id/)."""
        path = self.iris.to_path(iri)
        return None if path is None or "#" in path else "id/" + path

    def document(self, iri: str, ext: str) -> str | None:
        path = self.page_path(iri)
        return None if path is None else self.url(f"{path}.{ext}")

    def page(self, iri: str) -> str | None:
        path = self.page_path(iri)
        return None if path is None else self.url(path)


def _n(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def _t(s, p, o) -> ox.Triple:
    return ox.Triple(s, p, o)


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


def dpg_iris(store: Store) -> list[str]:
    """Every digital public good, in a stable order (the paging order)."""
    rows = store.select(f"PREFIX dpg: <{DPG.base}> "
                        "SELECT DISTINCT ?s { ?s a dpg:DigitalPublicGood } ORDER BY ?s")
    return [r["s"].value for r in rows]


_DPG_CACHE: dict[tuple[int, str], list[str]] = {}
_CACHE_LOCK = threading.Lock()


def _cached_dpg_iris(store: Store) -> list[str]:
    key = (id(store), store.version())
    with _CACHE_LOCK:
        if key not in _DPG_CACHE:
            _DPG_CACHE.clear()
            _DPG_CACHE[key] = dpg_iris(store)
        return _DPG_CACHE[key]


# One small CONSTRUCT per aspect, each starting from the page's DPGs: a single query
# with a UNION of these is several times slower (the VALUES is not pushed into branches).
DATASET_QUERIES = [
    ("""?dpg a dcat:Dataset ; dct:title ?name ; dct:description ?desc ; dct:identifier ?ident ;
            dcat:contactPoint <%(contact)s> ; dcat:keyword "digital public good"@en .""",
     """?dpg schema:name ?name .
        OPTIONAL { ?dpg schema:description ?d0 }
        BIND(COALESCE(?d0, ?name) AS ?desc) BIND(STR(?dpg) AS ?ident)"""),
    ("?dpg a ?stype .",
     '?dpg a ?stype FILTER(STRSTARTS(STR(?stype), "http://schema.org/"))'),
    ("?dpg dcat:keyword ?kw .", "?dpg dpg:sector/skos:prefLabel ?kw"),
    ("?dpg dcat:keyword ?kw .",
     "?dpg dpg:solutionType ?type . VALUES (?type ?kw) { %(type_keywords)s }"),
    ("""?dpg dcat:theme ?goal . ?goal a skos:Concept ; skos:prefLabel ?goalLabel ;
            skos:inScheme ?scheme ; skos:notation ?goalNotation .""",
     """?dpg dpg:relevantToSDG ?goal . ?goal skos:prefLabel ?goalLabel .
        OPTIONAL { ?goal skos:notation ?goalNotation }
        OPTIONAL { ?goal skos:inScheme ?scheme FILTER(?scheme = <%(scheme)s>) }"""),
    ("?dpg dct:creator ?owner . ?owner a foaf:Agent ; foaf:name ?ownerName .",
     "?dpg dpg:ownedBy ?owner . ?owner schema:name ?ownerName ."),
    ("?owner dct:type ?ptype . ?ptype a skos:Concept ; skos:prefLabel ?ptypeLabel .",
     """?dpg dpg:ownedBy ?owner . ?owner dpg:memberType ?mtype .
        VALUES (?mtype ?ptype ?ptypeLabel) { %(publisher_types)s }"""),
    # dct:publisher takes one agent: the first owner (else see _publisher_fallback)
    ("?dpg dct:publisher ?pub . ?pub a foaf:Agent ; foaf:name ?pubName .",
     """{ SELECT ?dpg (MIN(STR(?o)) AS ?firstOwner) {
          VALUES ?dpg { %(values)s } ?dpg dpg:ownedBy ?o } GROUP BY ?dpg }
        BIND(IRI(?firstOwner) AS ?pub) ?pub schema:name ?pubName ."""),
    ("?dpg dct:modified ?modified .",
     """{ SELECT ?dpg (MAX(?t) AS ?modified) {
          VALUES ?dpg { %(values)s } ?g dpg:describes ?dpg ; prov:generatedAtTime ?t }
        GROUP BY ?dpg }"""),
    ("?dpg dct:spatial ?country . ?country a dct:Location ; skos:prefLabel ?countryLabel .",
     """?dpg dpg:deploymentCountry ?country .
        ?country skos:prefLabel ?countryLabel FILTER(LANGMATCHES(LANG(?countryLabel), "en"))"""),
    ("?dpg dct:license ?lic .", "?dpg dct:license ?lic ."),
]


def _dataset_query(template: str, where: str) -> str:
    return (sparql_prefixes() + "CONSTRUCT { " + template + " } WHERE { VALUES ?dpg { %(values)s } "
            + where + " }")


DISTRIBUTION_QUERY = sparql_prefixes() + """
SELECT DISTINCT ?dpg ?name ?kind ?url ?lic ?licLabel ?software WHERE {
  VALUES ?dpg { %(values)s }
  ?dpg schema:name ?name .
  BIND(EXISTS { ?dpg a schema:SoftwareSourceCode } AS ?software)
  {
    ?dpg schema:codeRepository ?url . BIND("repository" AS ?kind)
  } UNION {
    ?dpg schema:url ?url . BIND("website" AS ?kind)
  } UNION {
    ?dpg dct:license ?lic . BIND("licence" AS ?kind)
    OPTIONAL { ?lic rdfs:label ?licLabel }
  } UNION {
    BIND("self" AS ?kind)
  }
}
"""


@dataclass
class _Entry:
    name: str = ""
    software: bool = False
    repositories: list[str] = None  # type: ignore[assignment]
    website: str | None = None
    licences: dict[str, str | None] = None  # type: ignore[assignment]

    def __post_init__(self):
        self.repositories, self.licences = [], {}


def _spdx_id(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def primary_licence(licences: Iterable[str]) -> str | None:
    """The licence put on distributions (DCAT-AP allows one): one CKAN knows, else the first."""
    ordered = sorted(licences, key=lambda i: (_spdx_id(i) not in CKAN_LICENCES, i))
    return ordered[0] if ordered else None


def _licence_triples(iri: str, label: str | None) -> list[ox.Triple]:
    node = _n(iri)
    out = [_t(node, RDF.type, DCT.LicenseDocument),
           _t(node, DCT.identifier, lit(_spdx_id(iri)))]
    if label:
        out.append(_t(node, DCT.title, lit(label)))
    out += _licence_type_triples(node, _spdx_id(iri))
    return out


def _licence_type_triples(node: ox.NamedNode, spdx_id: str) -> list[ox.Triple]:
    out = []
    for t in licence_types(spdx_id):
        concept = _n(ADMS_LICENCE_TYPE + t)
        out += [_t(node, DCT.type, concept), _t(concept, RDF.type, SKOS.Concept),
                _t(concept, SKOS.prefLabel, lit(LICENCE_TYPE_LABELS[t], lang="en"))]
    return out


def _ckan_licence_triples(spdx_iri: str) -> tuple[ox.NamedNode, list[ox.Triple]] | None:
    known = CKAN_LICENCES.get(_spdx_id(spdx_iri))
    if not known:
        return None
    node = _n(known[0])
    return node, [_t(node, RDF.type, DCT.LicenseDocument), _t(node, DCT.title, lit(known[1])),
                  _t(node, RDFS.seeAlso, _n(spdx_iri)),
                  *_licence_type_triples(node, _spdx_id(spdx_iri))]


def _format_triples(fmt: Format) -> list[ox.Triple]:
    return [_t(fmt.media_type_iri, RDF.type, DCT.MediaType),
            _t(fmt.file_type_iri, RDF.type, DCT.MediaTypeOrExtent),
            _t(fmt.file_type_iri, SKOS.prefLabel, lit(fmt.label, lang="en"))]


def _distribution_vocabulary(exts) -> list:
    """The format and availability resources that distributions point to, typed."""
    out = [t for ext in sorted(exts) for t in _format_triples(FORMATS[ext])]
    return out + [_t(AVAILABILITY_STABLE, RDF.type, SKOS.Concept),
                  _t(AVAILABILITY_STABLE, SKOS.prefLabel, lit("stable", lang="en"))]


def _distribution(dist: ox.NamedNode, *, title: str, description: str, url: str,
                  fmt: Format, licence: ox.NamedNode | None, download: bool) -> list[ox.Triple]:
    out = [_t(dist, RDF.type, DCAT.Distribution),
           _t(dist, DCT.title, lit(title, lang="en")),
           _t(dist, DCT.description, lit(description, lang="en")),
           _t(dist, DCAT.accessURL, _n(url)),
           _t(dist, DCT.format, fmt.file_type_iri),
           _t(dist, DCATAP.availability, AVAILABILITY_STABLE)]
    if fmt.ext != "html":
        out.append(_t(dist, DCAT.mediaType, fmt.media_type_iri))
    if download:
        out.append(_t(dist, DCAT.downloadURL, _n(url)))
    if licence is not None:
        out.append(_t(dist, DCT.license, licence))
    return out


def distribution_triples(store: Store, site: Site, dpgs: list[str]) -> list[ox.Triple]:
    """Per DPG: its JSON-LD and Turtle descriptions, CodeMeta, repositories and website."""
    if not dpgs:
        return []
    entries: dict[str, _Entry] = defaultdict(_Entry)
    for row in store.select(DISTRIBUTION_QUERY % {"values": _values(dpgs)}):
        e = entries[row["dpg"].value]
        e.name = row["name"].value
        e.software = row["software"].value == "true"
        kind = row["kind"].value
        if kind == "repository" and row["url"].value not in e.repositories:
            e.repositories.append(row["url"].value)
        elif kind == "website":
            e.website = min(filter(None, [e.website, row["url"].value]))
        elif kind == "licence":
            label = row.get("licLabel")
            e.licences[row["lic"].value] = label.value if label is not None else None
    out: list[ox.Triple] = []
    used_formats: set[str] = set()
    for iri in dpgs:
        e = entries.get(iri)
        if e is None:
            continue
        ds = _n(iri)
        if page := site.page(iri):  # the resource page (CKAN shows it as the dataset's URL)
            out += [_t(ds, DCAT.landingPage, _n(page)), _t(_n(page), RDF.type, FOAF.Document)]
        spdx = primary_licence(e.licences)
        spdx_node = _n(spdx) if spdx else None
        for lic, label in e.licences.items():
            out += _licence_triples(lic, label)
        # The descriptions carry the licence under CKAN's IRI where CKAN knows it, so a
        # CKAN harvest fills license_id; the repository and website keep the SPDX IRI.
        doc_licence = spdx_node
        if spdx and (ckan := _ckan_licence_triples(spdx)):
            doc_licence = ckan[0]
            out += ckan[1]
        parts: list[tuple[str, str, str, str, Format, ox.NamedNode | None, bool]] = []
        for ext in ("jsonld", "ttl"):
            fmt = FORMATS[ext]
            url = site.document(iri, ext)
            if url:
                parts.append((f"distribution-{ext}", f"{e.name} ({fmt.label})",
                              f"The description of {e.name} in this graph, as {fmt.label}.",
                              url, fmt, doc_licence, True))
        if e.software and (page := site.page(iri)):
            parts.append(("distribution-codemeta", f"{e.name} (CodeMeta)",
                          f"CodeMeta 3 software metadata of {e.name}.",
                          page + "/codemeta.json", FORMATS["jsonld"], doc_licence, True))
        for repo in e.repositories:
            key = hashlib.sha1(repo.encode()).hexdigest()[:8]
            parts.append((f"distribution-repository-{key}", f"{e.name} source code",
                          f"Source code repository of {e.name}: {repo}",
                          repo, FORMATS["html"], spdx_node, False))
        if e.website:
            parts.append(("distribution-website", f"{e.name} website",
                          f"Website of {e.name}: {e.website}",
                          e.website, FORMATS["html"], spdx_node, False))
        for frag, title, desc, url, fmt, licence, download in parts:
            dist = _n(f"{iri}#{frag}")
            out.append(_t(ds, DCAT.distribution, dist))
            out += _distribution(dist, title=title, description=desc, url=url, fmt=fmt,
                                 licence=licence, download=download)
            if frag == "distribution-codemeta":
                out += [_t(dist, DCT.conformsTo, CODEMETA_3),
                        _t(CODEMETA_3, RDF.type, DCT.Standard),
                        _t(CODEMETA_3, DCT.title, lit("CodeMeta 3.0"))]
            used_formats.add(fmt.ext)
    if out:
        out += _distribution_vocabulary(used_formats)
    return out


def dataset_triples(store: Store, site: Site, dpgs: list[str]) -> list[ox.Triple]:
    """The `dcat:Dataset` description of each DPG (CONSTRUCT over the store)."""
    if not dpgs:
        return []
    type_keywords = " ".join(f'(<{DPG.base}{k}> "{v}"@en)' for k, v in TYPE_KEYWORDS.items())
    publisher_types = " ".join(
        f'(<{DPG.base}{k}> <{ADMS_PUBLISHER_TYPE}{v[0]}> "{v[1]}"@en)'
        for k, v in MEMBER_PUBLISHER_TYPES.items())
    params = {"values": _values(dpgs), "type_keywords": type_keywords,
              "publisher_types": publisher_types,
              "scheme": SDG_SCHEME.value, "contact": _contact_iri(site).value}
    out = [t for template, where in DATASET_QUERIES
           for t in store.query(_dataset_query(template, where) % params)]
    out += _publisher_fallback(site, dpgs, out)
    out += _contact_triples(site)
    return out


def _publisher_fallback(site: Site, dpgs: list[str], triples: list[ox.Triple]
                        ) -> list[ox.Triple]:
    """DPGs without an owner: the alliance, which lists them, stands as publisher."""
    have = {t.subject.value for t in triples if t.predicate == DCT.publisher}
    alliance = site.iris.alliance()
    missing = [i for i in dpgs if i not in have]
    if not missing:
        return []
    return [_t(_n(i), DCT.publisher, alliance) for i in missing] + [
        _t(alliance, RDF.type, FOAF.Agent),
        _t(alliance, FOAF.name, lit("Digital Public Goods Alliance"))]


def _contact_iri(site: Site) -> ox.NamedNode:
    return ox.NamedNode(site.public + "#contact")


def _contact_triples(site: Site) -> list[ox.Triple]:
    """The one contact point: the registry (no personal data, no e-mail)."""
    c = _contact_iri(site)
    return [_t(c, RDF.type, VCARD.Kind), _t(c, RDF.type, VCARD.Organization),
            _t(c, VCARD.fn, lit("Digital Public Goods Alliance registry")),
            _t(c, VCARD.hasURL, _n("https://www.digitalpublicgoods.net/registry"))]


def catalogue_triples(store: Store, site: Site) -> list[ox.Triple]:
    """The dcat:Catalog itself (without its datasets)."""
    cat = site.catalogue_iri()
    pub = site.publisher_iri()
    lang = _n(EU_LANGUAGE + "ENG")
    world = _n("http://sws.geonames.org/6295630/")
    home = _n(site.public)
    out = [
        _t(cat, RDF.type, DCAT.Catalog),
        _t(cat, DCT.title, lit(CATALOGUE_TITLE, lang="en")),
        _t(cat, DCT.description, lit(CATALOGUE_DESCRIPTION, lang="en")),
        _t(cat, DCT.publisher, pub),
        _t(pub, RDF.type, FOAF.Agent),
        _t(pub, FOAF.name, lit(PUBLISHER_NAME)),
        _t(pub, FOAF.homepage, home),
        _t(cat, DCT.license, CATALOGUE_LICENCE),
        *_licence_triples(CATALOGUE_LICENCE.value,
                          "Creative Commons Attribution 4.0 International"),
        _t(cat, DCT.language, lang),
        _t(lang, RDF.type, DCT.LinguisticSystem),
        _t(cat, FOAF.homepage, home),
        _t(home, RDF.type, FOAF.Document),
        _t(cat, DCT.spatial, world),
        _t(world, RDF.type, DCT.Location),
        _t(world, SKOS.prefLabel, lit("World", lang="en")),
        _t(cat, DCAT.themeTaxonomy, SDG_SCHEME),
        _t(SDG_SCHEME, RDF.type, SKOS.ConceptScheme),
        _t(SDG_SCHEME, DCT.title, lit("Sustainable Development Goals Taxonomy", lang="en")),
    ]
    built = build_time(store)
    if built:
        out.append(_t(cat, DCT.modified, built))
    return out


def build_time(store: Store) -> ox.Literal | None:
    rows = store.select(sparql_prefixes() + """
        SELECT (MAX(?t) AS ?t) { ?b a prov:Activity ; prov:endedAtTime ?t }""")
    return rows[0].get("t") if rows else None


@dataclass(frozen=True)
class PageInfo:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def page_url(url: str, page: int, size: int) -> str:
    """`url` (the catalogue as requested, no query) with paging parameters."""
    return f"{url}?{urlencode({'page': page, 'page_size': size})}"


def hydra_triples(cat: ox.NamedNode, url: str, info: PageInfo) -> list[ox.Triple]:
    """A hydra:PartialCollectionView, as ckanext-dcat's RDF harvester follows it."""
    view = _n(page_url(url, info.number, info.size))
    out = [_t(cat, RDF.type, HYDRA.Collection),
           _t(cat, HYDRA.totalItems, lit(info.total)),
           _t(cat, HYDRA.view, view),
           _t(view, RDF.type, HYDRA.PartialCollectionView),
           _t(view, HYDRA.itemsPerPage, lit(info.size)),
           _t(view, HYDRA.totalItems, lit(info.total)),
           _t(view, HYDRA.first, _n(page_url(url, 1, info.size))),
           _t(view, HYDRA.last, _n(page_url(url, info.last, info.size)))]
    if info.number < info.last:
        out.append(_t(view, HYDRA.next, _n(page_url(url, info.number + 1, info.size))))
    if info.number > 1:
        out.append(_t(view, HYDRA.previous,
                      _n(page_url(url, min(info.number - 1, info.last), info.size))))
    return out


def catalogue_page(store: Store, *, base_iri: str, root: str | None = None,
                   url: str | None = None, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE,
                   graph_dataset: list[ox.Triple] | None = None) -> tuple[list[ox.Triple],
                                                                          PageInfo]:
    """One page of the catalogue as triples, and where it is among the pages.

    `root` is the site root answering the request (documents' URLs), `url` the catalogue URL
    as requested (paging links); both default to the public site. `graph_dataset`: the
    description of the whole graph and its dumps (page 1 only).
    """
    site = Site(base_iri, root)
    url = url or site.url("catalog")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    everything = _cached_dpg_iris(store)
    info = PageInfo(max(1, int(page)), page_size, len(everything))
    chosen = everything[(info.number - 1) * page_size: info.number * page_size]
    cat = site.catalogue_iri()
    triples = catalogue_triples(store, site)
    triples += [_t(cat, DCAT.dataset, _n(i)) for i in chosen]
    triples += dataset_triples(store, site, chosen)
    triples += distribution_triples(store, site, chosen)
    if info.number == 1 and graph_dataset:
        triples += graph_dataset
        for t in graph_dataset:
            if t.predicate == RDF.type and t.object == DCAT.Dataset:
                triples.append(_t(cat, DCAT.dataset, t.subject))
    triples += hydra_triples(cat, url, info)
    return triples, info


def serialize(triples: Iterable[ox.Triple], fmt: ox.RdfFormat) -> bytes:
    """Deduplicated triples in `fmt` (pyoxigraph: fast, and prefixes for Turtle)."""
    unique = list(dict.fromkeys(triples))
    kwargs = {}
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD):
        kwargs["prefixes"] = CATALOGUE_PREFIXES
    try:
        return ox.serialize(unique, format=fmt, **kwargs)
    except TypeError:  # a format without prefix support
        return ox.serialize(unique, format=fmt)


# The whole graph: VoID and the dumps as DCAT distributions

VOID_QUERIES = {
    "triples": "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }",
    "entities": "SELECT (COUNT(DISTINCT ?s) AS ?n) { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) }",
    "classes": "SELECT (COUNT(DISTINCT ?c) AS ?n) { GRAPH ?g { ?s a ?c } }",
    "properties": "SELECT (COUNT(DISTINCT ?p) AS ?n) { GRAPH ?g { ?s ?p ?o } }",
    "distinctSubjects": "SELECT (COUNT(DISTINCT ?s) AS ?n) { GRAPH ?g { ?s ?p ?o } }",
    "distinctObjects": "SELECT (COUNT(DISTINCT ?o) AS ?n) { GRAPH ?g { ?s ?p ?o } }",
}
CLASS_PARTITION_QUERY = """SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { GRAPH ?g { ?s a ?c } }
GROUP BY ?c ORDER BY ?c"""

_VOID_CACHE: dict[tuple[int, str], dict] = {}


def void_statistics(store: Store, saved: Path | None = None) -> dict:
    """Counts for VoID, once per store version (they only change with a build).

    `saved`: the counts the build wrote (`after_build`), read instead of counting again.
    """
    key = (id(store), store.version())
    with _CACHE_LOCK:
        if key in _VOID_CACHE:
            return _VOID_CACHE[key]
    try:
        stats = json.loads(saved.read_text()) if saved else None
    except (OSError, ValueError):
        stats = None
    if stats is None:
        stats = count_void_statistics(store.query)
    with _CACHE_LOCK:
        _VOID_CACHE.clear()
        _VOID_CACHE[key] = stats
    return stats


def count_void_statistics(query) -> dict:
    """The VoID counts; `query` runs SPARQL over the union of the graphs."""
    stats: dict = {name: int(next(iter(query(q)))["n"].value) for name, q in VOID_QUERIES.items()}
    stats["class_partitions"] = [(r["c"].value, int(r["n"].value))
                                 for r in query(CLASS_PARTITION_QUERY)]
    return stats


def graph_dataset_triples(store: Store, *, base_iri: str, root: str | None = None,
                          dumps: Iterable = (), dumps_path: str = "dumps/",
                          sparql_path: str = "sparql", saved_statistics: Path | None = None
                          ) -> list[ox.Triple]:
    """The whole graph as a dcat:Dataset + void:Dataset, its dumps as distributions.

    `dumps`: DumpInfo-like objects (path, media_type, bytes, sha256).
    """
    from dpgkg.publish.dumps import DUMP_FORMATS  # dumps imports this module

    site = Site(base_iri, root)
    ds = site.graph_dataset_iri()
    stats = void_statistics(store, saved_statistics)
    out = [
        _t(ds, RDF.type, DCAT.Dataset), _t(ds, RDF.type, VOID.Dataset),
        _t(ds, DCT.title, lit(CATALOGUE_TITLE + " (whole graph)", lang="en")),
        _t(ds, DCT.description, lit(
            "Every named graph of the knowledge graph: registry records with their "
            "provenance, the SDG taxonomy, countries, licences and the alliance.", lang="en")),
        _t(ds, DCT.publisher, site.publisher_iri()),
        _t(ds, DCAT.contactPoint, _contact_iri(site)), *_contact_triples(site),
        _t(site.publisher_iri(), RDF.type, FOAF.Agent),
        _t(site.publisher_iri(), FOAF.name, lit(PUBLISHER_NAME)),
        _t(ds, DCAT.keyword, lit("digital public goods", lang="en")),
        _t(ds, DCAT.keyword, lit("sustainable development goals", lang="en")),
        _t(ds, DCAT.theme, _n("http://metadata.un.org/sdg/17")),
        _t(_n("http://metadata.un.org/sdg/17"), RDF.type, SKOS.Concept),
        _t(_n("http://metadata.un.org/sdg/17"), SKOS.prefLabel, lit(
            "Strengthen the means of implementation and revitalize the Global Partnership "
            "for Sustainable Development", lang="en")),
        _t(ds, VOID.sparqlEndpoint, _n(site.url(sparql_path))),
        _t(ds, VOID.uriSpace, lit(site.iris.base)),
        _t(ds, VOID.triples, lit(stats["triples"])),
        _t(ds, VOID.entities, lit(stats["entities"])),
        _t(ds, VOID.classes, lit(stats["classes"])),
        _t(ds, VOID.properties, lit(stats["properties"])),
        _t(ds, VOID.distinctSubjects, lit(stats["distinctSubjects"])),
        _t(ds, VOID.distinctObjects, lit(stats["distinctObjects"])),
        _t(ds, VOID.feature, _n("http://www.w3.org/ns/formats/N-Triples")),
        _t(ds, VOID.feature, _n("http://www.w3.org/ns/formats/Turtle")),
        _t(ds, VOID.feature, _n("http://www.w3.org/ns/formats/JSON-LD")),
        _t(ds, VOID.feature, _n("http://www.w3.org/ns/formats/TriG")),
        _t(ds, VOID.vocabulary, _n(DPG.base)),
        _t(ds, VOID.vocabulary, _n(SCHEMA.base)),
        _t(ds, VOID.vocabulary, _n(DCT.base)),
        _t(ds, DCT.license, CATALOGUE_LICENCE),
    ]
    built = build_time(store)
    if built is not None:
        out.append(_t(ds, DCT.modified, built))
    for i, (cls, n) in enumerate(stats["class_partitions"]):
        part = _n(f"{ds.value}-class-{hashlib.sha1(cls.encode()).hexdigest()[:10]}")
        out += [_t(ds, VOID.classPartition, part), _t(part, VOID["class"], _n(cls)),
                _t(part, VOID.entities, lit(n))]
    formats: set[str] = set()
    for d in dumps:
        name = d.path.name if hasattr(d.path, "name") else str(d.path).rsplit("/", 1)[-1]
        url = _n(site.url(dumps_path + name))
        fmt = FORMATS[DUMP_FORMATS[name].format_ext]
        dist = _n(f"{ds.value}-dump-{name.replace('.', '-')}")
        checksum = _n(f"{dist.value}-sha256")
        out += [_t(ds, VOID.dataDump, url), _t(ds, DCAT.distribution, dist)]
        out += _distribution(dist, title=f"Dump of the whole graph ({DUMP_FORMATS[name].label})",
                             description=DUMP_FORMATS[name].description, url=url.value,
                             fmt=fmt, licence=CATALOGUE_LICENCE, download=True)
        out += [_t(dist, DCAT.byteSize, lit(d.bytes, XSD.nonNegativeInteger)),
                _t(dist, SPDX.checksum, checksum),
                _t(checksum, RDF.type, SPDX.Checksum),
                _t(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
                _t(SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm),
                _t(checksum, SPDX.checksumValue, lit(d.sha256, XSD.hexBinary))]
        if name.endswith(".gz"):
            out += [_t(dist, DCAT.compressFormat, GZIP), _t(GZIP, RDF.type, DCT.MediaType)]
        formats.add(fmt.ext)
    if formats:
        out += _distribution_vocabulary(formats)
    out += _licence_triples(CATALOGUE_LICENCE.value,
                            "Creative Commons Attribution 4.0 International")
    return out


SITEMAP_QUERY = sparql_prefixes() + """
SELECT ?s (MAX(?t) AS ?modified) WHERE {
  { SELECT DISTINCT ?s { GRAPH ?g { ?s a ?type } FILTER(isIRI(?s)
      && STRSTARTS(STR(?s), "%(base)s") && !CONTAINS(STR(?s), "#")
      && !STRSTARTS(STR(?s), "%(base)sgraph/") && !STRSTARTS(STR(?s), "%(base)sbuild/")
      && !STRSTARTS(STR(?s), "%(base)ssource/")) } }
  OPTIONAL { ?g2 dpg:describes ?s ; prov:generatedAtTime ?t }
} GROUP BY ?s ORDER BY ?s
"""

MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit for one file


def sitemap_entries(store: Store, *, base_iri: str, root: str | None = None
                    ) -> list[tuple[str, str | None]]:
    """(page URL, last modification date) of every resource minted under the base."""
    site = Site(base_iri, root)
    out = []
    for row in store.select(SITEMAP_QUERY % {"base": site.iris.base}):
        page = site.page(row["s"].value)
        if page:
            modified = row.get("modified")
            out.append((page, modified.value[:10] if modified is not None else None))
    return out[:MAX_SITEMAP_URLS]
