"""Example queries: the questions the graph answers. The query page offers them,
`dpgkg query` can run them by title, and tests check their answers against the sources."""

from __future__ import annotations

from dpgkg.rdf import sparql_prefixes

_P = sparql_prefixes()

EXAMPLES: list[tuple[str, str]] = [
    ("DPGs per SDG goal", _P + """
SELECT ?goal ?notation ?label (COUNT(DISTINCT ?dpg) AS ?dpgs) WHERE {
  ?dpg a dpg:DigitalPublicGood ; dpg:relevantToSDG ?goal .
  ?goal a sdgo:Goal ; skos:notation ?notation ; skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" && DATATYPE(?notation) = sdgo:SDGCodeCompact)
}
GROUP BY ?goal ?notation ?label
ORDER BY DESC(?dpgs) ?notation
"""),
    ("DPGs relevant to SDG 3 under an OSI-approved licence", _P + """
SELECT DISTINCT ?dpg ?name ?licence WHERE {
  ?dpg a dpg:DigitalPublicGood ; schema:name ?name ;
       dpg:relevantToSDG sdg:3 ; dct:license ?licence .
  ?licence dpg:osiApproved true .
}
ORDER BY ?name
"""),
    ("Organisations that own more than one DPG", _P + """
SELECT ?org (SAMPLE(?n) AS ?name) (COUNT(DISTINCT ?dpg) AS ?dpgs) WHERE {
  ?dpg a dpg:DigitalPublicGood ; dpg:ownedBy ?org .
  ?org schema:name ?n .
}
GROUP BY ?org
HAVING (COUNT(DISTINCT ?dpg) > 1)
ORDER BY DESC(?dpgs)
"""),
    ("DPGs deployed in a least developed country", _P + """
SELECT ?dpg ?name (GROUP_CONCAT(DISTINCT ?country; separator=", ") AS ?countries) WHERE {
  ?dpg a dpg:DigitalPublicGood ; schema:name ?name ; dpg:deploymentCountry ?c .
  ?c dpg:isLeastDevelopedCountry true ; skos:prefLabel ?country .
  FILTER(LANG(?country) = "en")
}
GROUP BY ?dpg ?name
ORDER BY ?name
"""),
    ("Members who joined after the Tech Envoy's office, by type", _P + """
SELECT ?type (COUNT(DISTINCT ?member) AS ?members) WHERE {
  ?envoy schema:name "Office of the Secretary-General's Envoy on Technology" ;
         org:hasMembership/dpg:joined ?envoyJoined .
  ?m a org:Membership ; org:member ?member ; dpg:joined ?joined .
  ?member dpg:memberType ?type .
  FILTER(DATATYPE(?joined) = xsd:date && ?joined > ?envoyJoined)
}
GROUP BY ?type
ORDER BY DESC(?members)
"""),
    ("The recommendation the DPGA answers and the Roadmap area that follows it up", _P + """
SELECT ?recommendation ?summary ?area ?title WHERE {
  ?dpga a dpg:Alliance ; dpg:answersRecommendation ?rec .
  ?rec skos:notation ?recommendation ; dct:description ?summary .
  ?a dpg:followsUp ?rec ; skos:notation ?area ; skos:prefLabel ?title .
}
"""),
    ("The successor of the Tech Envoy's office, and whether it is a current member", _P + """
SELECT ?successor ?name ?current WHERE {
  ?envoy schema:name "Office of the Secretary-General's Envoy on Technology" ;
         dpg:successor ?successor .
  ?successor schema:name ?name .
  OPTIONAL { ?successor org:hasMembership/dpg:isCurrent ?current }
}
"""),
    ("French labels of the targets of SDG 4", _P + """
SELECT ?target ?notation ?label WHERE {
  sdg:4 sdgo:hasTarget ?target .
  ?target skos:notation ?notation ; skos:prefLabel ?label .
  FILTER(LANG(?label) = "fr" && DATATYPE(?notation) = sdgo:SDGCodeCompact)
}
ORDER BY ?notation
"""),
]


def find(title_part: str) -> str:
    """The one example whose title contains `title_part` (case-insensitive)."""
    found = [q for t, q in EXAMPLES if title_part.lower() in t.lower()]
    if len(found) != 1:
        raise KeyError(f"{len(found)} examples match {title_part!r}")
    return found[0]
