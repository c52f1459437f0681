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


def schema_org(d: R.Description) -> dict:
    """The schema.org reading of a resource, for search engines (https://schema.org/)."""
    s, types = d.iri, d.types
    doc: dict = {"@context": "https://schema.org", "@id": s}
    name = display_name(d)
    desc = d.first(s, SCHEMA.description) or d.first(s, DCT.description)
    if DPG.Solution.value in types:
        kinds = [v for k, v in _SCHEMA_TYPES.items() if k in types]
        doc["@type"] = kinds[0] if kinds else "CreativeWork"
        urls = d.values(s, SCHEMA.url)
        if urls:
            doc["url"] = urls[0].value
        lic = [x.value for x in d.values(s, DCT.license)]
        if lic:
            doc["license"] = lic[0] if len(lic) == 1 else lic
        repos = [x.value for x in d.values(s, SCHEMA.codeRepository)]
        if repos:
            doc["codeRepository"] = repos[0] if len(repos) == 1 else repos
        for key, prop in (
            ("author", DPG.ownedBy),
            ("maintainer", DPG.maintainedBy),
            ("funder", DPG.fundedBy),
        ):
            orgs = [
                {"@type": "Organization", "@id": o.value, "name": d.label(o.value) or ""}
                for o in d.values(s, prop)
            ]
            if orgs:
                doc[key] = orgs
        goals = [
            {"@type": "DefinedTerm", "@id": g.value, "name": d.label(g.value) or g.value}
            for g in d.values(s, DPG.relevantToSDG)
        ]
        if goals:
            doc["about"] = goals
    elif DPG.Organisation.value in types or DPG.Alliance.value in types:
        doc["@type"] = "Organization"
        if (u := d.first(s, SCHEMA.url)) is not None:
            doc["url"] = u.value
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
