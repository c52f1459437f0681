"""CodeMeta 3 (`codemeta.json`) for each software DPG, built from the graph.

Served at `/id/dpg/<id>/codemeta.json`: the file name tools look for, beside the
resource it describes. CodeMeta's `maintainer` is its own term (codemeta:maintainer,
"the individual or organization that maintains the software"), distinct from
schema.org's; the CodeMeta 3 context maps the bare key to it.
"""

from __future__ import annotations

from collections import defaultdict

from dpgkg.rdf import sparql_prefixes
from dpgkg.store.base import Store

CODEMETA_CONTEXT = "https://w3id.org/codemeta/3.0"
CODEMETA_MEDIA_TYPE = "application/ld+json"

_QUERY = sparql_prefixes() + """
SELECT DISTINCT ?key ?value ?name WHERE {
  VALUES ?s { <%(iri)s> }
  ?s a schema:SoftwareSourceCode .
  {
    ?s schema:name ?value . BIND("name" AS ?key)
  } UNION {
    ?s schema:description ?value . BIND("description" AS ?key)
  } UNION {
    ?s schema:alternateName ?value . BIND("alternateName" AS ?key)
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
  } UNION {
    ?s dpg:maintainedBy ?value . ?value schema:name ?name . BIND("maintainer" AS ?key)
  } UNION {
    ?s dpg:fundedBy ?value . ?value schema:name ?name . BIND("funder" AS ?key)
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
    for row in store.select(_QUERY % {"iri": iri}):
        key, value = row["key"].value, row["value"].value
        if value not in values[key]:
            values[key].append(value)
        if "name" in row:
            names[value] = row["name"].value
    if not values.get("name"):
        return None
    doc: dict = {"@context": CODEMETA_CONTEXT, "@type": "SoftwareSourceCode", "@id": iri,
                 "identifier": iri}
    for key in SINGLE:
        if values.get(key):
            doc[key] = max(values[key]) if key.startswith("date") else min(values[key])
    if values.get("alternateName"):
        doc["alternateName"] = sorted(values["alternateName"])
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
    for key in ("copyrightHolder", "maintainer", "funder"):
        agents = [{"@type": "Organization", "@id": v, "name": names[v]}
                  for v in sorted(values.get(key, [])) if v in names]
        if agents:
            doc[key] = agents[0] if len(agents) == 1 else agents
    return doc
