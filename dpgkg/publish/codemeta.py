"""CodeMeta 3 (`codemeta.json`) for each software DPG, built from the graph.

Served at `/id/dpg/<id>/codemeta.json`: the file name tools look for, beside the
resource it describes. CodeMeta's `maintainer` is its own term (codemeta:maintainer,
"the individual or organization that maintains the software"), distinct from
schema.org's; the CodeMeta 3 context maps the bare key to it.

Every key is a term of the CodeMeta 3 context or a compact `schema:` IRI (the context
has no `alternateName`), so a JSON-LD processor drops nothing (tests/test_consumers.py
expands each document against the official context). What the registry holds and CodeMeta
has a term for: name, description, alternateName, url (the website), codeRepository
(the others as relatedLink), license, author and copyrightHolder (the owners),
maintainer, funder, softwareHelp (the documentation links of the indicator 5 answer),
keywords (sectors, SDGs), datePublished / dateModified (the record's first and last
commit in the registry, as dates). The registry says nothing of programming languages,
operating systems or versions, and a record's first commit is not the software's
creation: no dateCreated.
"""

from __future__ import annotations

from collections import defaultdict

from dpgkg.rdf import sparql_prefixes
from dpgkg.store.base import Store

CODEMETA_CONTEXT = "https://w3id.org/codemeta/3.0"
CODEMETA_MEDIA_TYPE = "application/ld+json"

_QUERY = sparql_prefixes() + """
SELECT DISTINCT ?key ?value ?name ?url WHERE {
  VALUES ?s { <%(iri)s> }
  ?s a schema:SoftwareSourceCode .
  {
    ?s schema:name ?value . BIND("name" AS ?key)
  } UNION {
    ?s schema:description ?value . BIND("description" AS ?key)
  } UNION {
    ?s schema:alternateName ?value . BIND("schema:alternateName" AS ?key)
  } UNION {
    ?s schema:codeRepository ?value . BIND("codeRepository" AS ?key)
  } UNION {
    ?s schema:url ?value . BIND("url" AS ?key)
  } UNION {
    ?s dct:license ?value . BIND("license" AS ?key)
  } UNION {
    ?s dpg:sector/skos:prefLabel ?value . BIND("keywords" AS ?key)
  } UNION {
    ?s dpg:ownedBy ?value . ?value schema:name ?name . BIND("copyrightHolder" AS ?key)
    OPTIONAL { ?value schema:url ?url }
  } UNION {
    ?s dpg:maintainedBy ?value . ?value schema:name ?name . BIND("maintainer" AS ?key)
    OPTIONAL { ?value schema:url ?url }
  } UNION {
    ?s dpg:fundedBy ?value . ?value schema:name ?name . BIND("funder" AS ?key)
    OPTIONAL { ?value schema:url ?url }
  } UNION {
    ?s dpg:indicatorAnswer/dpg:documentationURL ?value . BIND("softwareHelp" AS ?key)
    FILTER(REGEX(STR(?value), "^https?://[^ ]+$"))
  } UNION {
    ?s dpg:relevantToSDG ?value . ?value skos:notation ?name BIND("sdg" AS ?key)
  } UNION {
    ?s dct:modified ?value . BIND("dateModified" AS ?key)
  } UNION {
    ?s dct:issued ?value . BIND("datePublished" AS ?key)
  }
}
"""

# Dates are the solution's own (the registry's history, as xsd:date), never the build's.
SINGLE = ("name", "description", "url", "dateModified", "datePublished")


def codemeta(store: Store, iri: str) -> dict | None:
    """The CodeMeta document of the software DPG `iri`, or None if it is not software."""
    values: dict[str, list] = defaultdict(list)
    names: dict[str, str] = {}
    urls: dict[str, str] = {}
    for row in store.select(_QUERY % {"iri": iri}):
        key, value = row["key"].value, row["value"].value
        if value not in values[key]:
            values[key].append(value)
        if "name" in row:
            names[value] = row["name"].value
        if "url" in row:
            urls[value] = min(row["url"].value, urls.get(value, row["url"].value))
    if not values.get("name"):
        return None
    doc: dict = {"@context": CODEMETA_CONTEXT, "@type": "SoftwareSourceCode", "@id": iri,
                 "identifier": iri}
    for key in SINGLE:
        if values.get(key):
            doc[key] = max(values[key]) if key.startswith("date") else min(values[key])
    if values.get("schema:alternateName"):
        doc["schema:alternateName"] = sorted(values["schema:alternateName"])
    if values.get("codeRepository"):
        # CodeMeta expects one repository; the others are still worth listing
        repos = sorted(values["codeRepository"])
        doc["codeRepository"] = repos[0]
        if len(repos) > 1:
            doc["relatedLink"] = repos[1:]
    if values.get("license"):
        licences = sorted(values["license"])
        doc["license"] = licences[0] if len(licences) == 1 else licences
    sdgs = sorted({f"SDG {names[v]}" for v in values.get("sdg", []) if v in names},
                  key=lambda k: int(k[4:]) if k[4:].isdigit() else 99)
    doc["keywords"] = [*sorted(values.get("keywords", [])), *sdgs, "digital public good"]
    if values.get("softwareHelp"):
        helps = sorted(values["softwareHelp"])
        doc["softwareHelp"] = helps[0] if len(helps) == 1 else helps
    for key in ("copyrightHolder", "maintainer", "funder"):
        agents = [_agent(v, names[v], urls.get(v)) for v in sorted(values.get(key, []))
                  if v in names]
        if agents:
            doc[key] = agents[0] if len(agents) == 1 else agents
            if key == "copyrightHolder":  # the owners made it: CodeMeta's author list
                doc["author"] = agents
    return doc


def _agent(iri: str, name: str, url: str | None) -> dict:
    agent = {"@type": "Organization", "@id": iri, "name": name}
    if url:
        agent["url"] = url
    return agent
