"""The schema.org reading of a resource, embedded in its page for search engines."""

from __future__ import annotations

import pyoxigraph as ox

from dpgkg.publish import resources as R
from dpgkg.rdf import DCT, DPG, PREFIXES, SCHEMA

SDG_BASE = R.SDG_BASE


def compact(iri: str) -> str:
    for p, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{p}:{iri[len(ns) :]}"
    return iri


_SCHEMA_TYPES = {
    SCHEMA.SoftwareSourceCode.value: "SoftwareSourceCode",
    SCHEMA.Dataset.value: "Dataset",
    SCHEMA.CreativeWork.value: "CreativeWork",
}


def display_name(d: R.Description) -> str:
    """What a page is called: its label, or what it is about for unnamed memberships."""
    if (label := d.label(d.iri)) is not None:
        return label
    member = d.first(d.iri, _ORG_MEMBER)
    if member is not None:
        return f"Membership of {d.label(member.value) or compact(member.value)}"
    return compact(d.iri)


_ORG_MEMBER = ox.NamedNode("http://www.w3.org/ns/org#member")


_OWL_SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
_DOCS = DPG.documentationURL


def _agents(d: R.Description, prop) -> list[dict]:
    return [{"@type": "Organization", "@id": o.value, "name": d.label(o.value) or ""}
            for o in d.values(d.iri, prop)]


def _one_or_list(values: list):
    return values[0] if len(values) == 1 else values


def _solution(d: R.Description, doc: dict) -> None:
    """A DPG as search engines document it: software is a `SoftwareApplication` (Google:
    name, offers.price; recommended applicationCategory, operatingSystem, which the
    registry does not hold) and `SoftwareSourceCode`; data a `Dataset` (Google: name,
    description; recommended creator, license, distribution, url, keywords); content and
    standards a `CreativeWork`. Creator and author are the owners."""
    s, types = d.iri, d.types
    if SCHEMA.SoftwareSourceCode.value in types:
        doc["@type"] = ["SoftwareApplication", "SoftwareSourceCode"]
    elif SCHEMA.Dataset.value in types:
        doc["@type"] = "Dataset"
    else:
        doc["@type"] = "CreativeWork"
    doc["identifier"] = s
    urls = [u.value for u in d.values(s, SCHEMA.url)]
    if urls:
        doc["url"] = urls[0]
    if alt := sorted(a.value for a in d.values(s, SCHEMA.alternateName)):
        doc["alternateName"] = _one_or_list(alt)
    if lic := [x.value for x in d.values(s, DCT.license)]:
        doc["license"] = _one_or_list(lic)
    repos = [x.value for x in d.values(s, SCHEMA.codeRepository)]
    if repos and doc["@type"] != "Dataset":
        doc["codeRepository"] = _one_or_list(repos)
    owners = _agents(d, DPG.ownedBy)
    if owners:
        doc["creator"] = doc["author"] = owners
    for key, prop in (("maintainer", DPG.maintainedBy), ("funder", DPG.fundedBy)):
        if orgs := _agents(d, prop):
            doc[key] = orgs
    goals = [{"@type": "DefinedTerm", "@id": g.value, "name": d.label(g.value) or g.value}
             for g in d.values(s, DPG.relevantToSDG)]
    if goals:
        doc["about"] = goals
    sectors = sorted(d.label(x.value) or x.value for x in d.values(s, DPG.sector))
    keywords = [*sectors, *(f"SDG {g['@id'].rsplit('/', 1)[-1]}" for g in goals)]
    if keywords:
        doc["keywords"] = keywords
    if doc["@type"] == "Dataset":
        # Where the data is: its repositories, else its website (never this page).
        doc["distribution"] = [{"@type": "DataDownload", "contentUrl": u}
                               for u in (repos or urls)]
    elif "SoftwareApplication" in doc["@type"]:
        doc["offers"] = {"@type": "Offer", "price": 0, "priceCurrency": "USD"}
        if sectors:
            doc["applicationCategory"] = _one_or_list(sectors)
        helps = sorted({v.value for part in d.parts() for v in d.values(part, _DOCS)
                        if v.value.startswith(("http://", "https://"))})
        if helps:
            doc["softwareHelp"] = [{"@type": "CreativeWork", "url": u} for u in helps]


def _organisation(d: R.Description, doc: dict) -> None:
    """An organisation: name, alternateName, url, parentOrganization and, where the
    organisations table cites a source for it, sameAs (Wikidata, ROR)."""
    s = d.iri
    doc["@type"] = "Organization"
    if (u := d.first(s, SCHEMA.url)) is not None:
        doc["url"] = u.value
    if alt := sorted({a.value for a in d.values(s, SCHEMA.alternateName)}):
        doc["alternateName"] = alt
    parents = [{"@type": "Organization", "@id": p.value, "name": d.label(p.value) or ""}
               for p in d.values(s, SCHEMA.parentOrganization)]
    if parents:
        doc["parentOrganization"] = _one_or_list(parents)
    if same := sorted(x.value for x in d.values(s, _OWL_SAME_AS)):
        doc["sameAs"] = _one_or_list(same)


def schema_org(d: R.Description) -> dict:
    """The schema.org reading of a resource, for search engines (https://schema.org/)."""
    s, types = d.iri, d.types
    doc: dict = {"@context": "https://schema.org", "@id": s}
    name = display_name(d)
    desc = d.first(s, SCHEMA.description) or d.first(s, DCT.description)
    if DPG.Solution.value in types:
        _solution(d, doc)
    elif DPG.Organisation.value in types or DPG.Alliance.value in types:
        _organisation(d, doc)
    elif DPG.Country.value in types:
        doc["@type"] = "Country"
    elif s.startswith(SDG_BASE) or "http://www.w3.org/2004/02/skos/core#Concept" in types:
        doc["@type"] = "DefinedTerm"
        if n := d.first(s, ox.NamedNode("http://www.w3.org/2004/02/skos/core#notation")):
            doc["termCode"] = n.value
    else:
        doc["@type"] = "Thing"
    if name:
        doc["name"] = name
    if desc is not None:
        doc["description"] = desc.value
    return doc


def home_dataset(*, root: str, search_url: str, catalogue_url: str, licence: str,
                 publisher: str, dumps: list[tuple[str, str, int]]) -> dict:
    """The whole graph as a schema.org `Dataset` (Google: name, description; recommended
    license, creator, distribution, url): its downloads are the dump files of the
    version served, (url, media type, bytes) each."""
    creator = {"@type": "Organization", "name": publisher, "url": root}
    doc = {"@context": "https://schema.org", "@type": "Dataset", "@id": root,
           "name": "The Digital Public Goods knowledge graph",
           "description": "Digital public goods, the organisations behind them, the SDGs "
                          "they serve and the alliance that recognises them, as linked data "
                          "built from the DPG Registry, the UN SDG KOS and the alliance's "
                          "own lists.",
           "url": root, "license": licence, "isAccessibleForFree": True,
           "creator": creator, "publisher": creator,
           "includedInDataCatalog": {"@type": "DataCatalog", "url": catalogue_url,
                                     "name": "Digital Public Goods knowledge graph"},
           "distribution": [{"@type": "DataDownload", "contentUrl": url,
                             "encodingFormat": media_type, "contentSize": f"{size} B"}
                            for url, media_type, size in dumps],
           "potentialAction": {"@type": "SearchAction", "target": search_url + "?q={q}",
                               "query-input": "required name=q"}}
    return doc
