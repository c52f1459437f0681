"""The DCAT-AP 3 description of the DPGs: one dcat:Dataset per DPG with its
distributions, and the catalogue that lists them."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from dpgkg.iris import Site
from dpgkg.publish.catalogue.licences import (
    ADMS_PUBLISHER_TYPE,
    MEMBER_PUBLISHER_TYPES,
    _ckan_licence_triples,
    _licence_triples,
    primary_licence,
)
from dpgkg.publish.catalogue.vocab import (
    _CACHE_LOCK,
    AVAILABILITY_STABLE,
    CATALOGUE_DESCRIPTION,
    CATALOGUE_LICENCE,
    CATALOGUE_TITLE,
    CODEMETA_3,
    DCATAP,
    EU_LANGUAGE,
    PUBLISHER_NAME,
    SDG_SCHEME,
    TYPE_KEYWORDS,
    VCARD,
    _n,
    _t,
    _values,
)
from dpgkg.publish.formats import Format, published
from dpgkg.rdf import (
    DCAT,
    DCT,
    DPG,
    FOAF,
    RDF,
    SKOS,
    lit,
    sparql_prefixes,
)
from dpgkg.store.base import Store


def dpg_iris(store: Store) -> list[str]:
    """Every digital public good, in a stable order (the paging order)."""
    rows = store.select(f"PREFIX dpg: <{DPG.base}> "
                        "SELECT DISTINCT ?s { ?s a dpg:DigitalPublicGood } ORDER BY ?s")
    return [r["s"].value for r in rows]


_DPG_CACHE: dict[tuple[int, str], list[str]] = {}


def _cached_dpg_iris(store: Store) -> list[str]:
    key = (id(store), store.version())
    with _CACHE_LOCK:
        if key not in _DPG_CACHE:
            _DPG_CACHE.clear()
            _DPG_CACHE[key] = dpg_iris(store)
        return _DPG_CACHE[key]


def dpg_count(store: Store) -> int:
    """How many DPGs the catalogue lists (cached per store version)."""
    return len(_cached_dpg_iris(store))


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
     """?dpg dpg:ownedBy ?owner . ?owner dpg:memberType|dpg:organisationType ?mtype .
        VALUES (?mtype ?ptype ?ptypeLabel) { %(publisher_types)s }"""),
    # dct:publisher takes one agent: the first owner (else see _publisher_fallback)
    ("?dpg dct:publisher ?pub . ?pub a foaf:Agent ; foaf:name ?pubName .",
     """{ SELECT ?dpg (MIN(STR(?o)) AS ?firstOwner) {
          VALUES ?dpg { %(values)s } ?dpg dpg:ownedBy ?o } GROUP BY ?dpg }
        BIND(IRI(?firstOwner) AS ?pub) ?pub schema:name ?pubName ."""),
    # The record's own dates from the registry's history (never the build time): absent
    # when the graph was built without --history. MIN/MAX: one value on a union default
    # graph that repeats it.
    ("?dpg dct:issued ?issued .",
     """{ SELECT ?dpg (MIN(?d) AS ?issued) {
          VALUES ?dpg { %(values)s } ?dpg dct:issued ?d } GROUP BY ?dpg }"""),
    ("?dpg dct:modified ?modified .",
     """{ SELECT ?dpg (MAX(?d) AS ?modified) {
          VALUES ?dpg { %(values)s } ?dpg dct:modified ?d } GROUP BY ?dpg }"""),
    # Its catalogue record, where the date the record last changed is known (DCAT-AP
    # requires dct:modified on a dcat:CatalogRecord).
    # It conforms to DCAT-AP 3.0.1; its ADMS change type is Created while the record has
    # not changed since it first appeared, else Updated (none when that date is unknown).
    ("""<%(catalogue)s> dcat:record ?record . ?record a dcat:CatalogRecord ;
            foaf:primaryTopic ?dpg ; dct:modified ?recModified ; dct:issued ?recIssued ;
            dct:conformsTo <%(profile)s> ; <http://www.w3.org/ns/adms#status> ?status .
        <%(profile)s> a dct:Standard ; dct:title "DCAT-AP 3.0.1"@en .
        ?status a skos:Concept ; skos:prefLabel ?statusLabel .
        ?dpg a dcat:Resource .""",
     """?dpg dct:modified ?recModified . OPTIONAL { ?dpg dct:issued ?recIssued }
        BIND(IF(?recIssued = ?recModified, "Created", "Updated") AS ?change)
        BIND(IRI(CONCAT("http://purl.org/adms/changetype/", ?change)) AS ?status)
        BIND(STRLANG(?change, "en") AS ?statusLabel)
        BIND(IRI(CONCAT("%(records)s", SUBSTR(STR(?dpg), %(base_len)s))) AS ?record)"""),
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


def _format_triples(fmt: Format) -> list[ox.Triple]:
    return [_t(fmt.media_type_iri, RDF.type, DCT.MediaType),
            _t(fmt.file_type_iri, RDF.type, DCT.MediaTypeOrExtent),
            _t(fmt.file_type_iri, SKOS.prefLabel, lit(fmt.label, lang="en"))]


def _distribution_vocabulary(exts) -> list:
    """The format and availability resources that distributions point to, typed."""
    out = [t for ext in sorted(exts) for t in _format_triples(published(ext))]
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
            fmt = published(ext)
            url = site.document(iri, ext)
            if url:
                parts.append((f"distribution-{ext}", f"{e.name} ({fmt.label})",
                              f"The description of {e.name} in this graph, as {fmt.label}.",
                              url, fmt, doc_licence, True))
        if e.software and (page := site.page(iri)):
            parts.append(("distribution-codemeta", f"{e.name} (CodeMeta)",
                          f"CodeMeta 3 software metadata of {e.name}.",
                          page + "/codemeta.json", published("jsonld"), doc_licence, True))
        for repo in e.repositories:
            key = hashlib.sha1(repo.encode()).hexdigest()[:8]
            parts.append((f"distribution-repository-{key}", f"{e.name} source code",
                          f"Source code repository of {e.name}: {repo}",
                          repo, published("html"), spdx_node, False))
        if e.website:
            parts.append(("distribution-website", f"{e.name} website",
                          f"Website of {e.name}: {e.website}",
                          e.website, published("html"), spdx_node, False))
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


DCAT_AP_PROFILE = "https://semiceu.github.io/DCAT-AP/releases/3.0.1/"


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
              "scheme": SDG_SCHEME.value, "contact": _contact_iri(site).value,
              "catalogue": site.catalogue_iri().value, "records": site.url("catalog/"),
              "profile": DCAT_AP_PROFILE,
              "base_len": len(site.iris.base) + 1}
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
