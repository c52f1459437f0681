"""Counts of what the graph holds, for `dpgkg stats` and the home page."""

from __future__ import annotations

from dpgkg.config import Settings
from dpgkg.rdf import sparql_prefixes

# The default graph is the union of the named graphs with bag semantics, so
# every count is DISTINCT (docs/model.md).
_QUERIES = {
    "by_stage": """
        SELECT ?key (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s a dpg:Solution ; dpg:stage ?stage .
          # where the registry files it: an archived record counts as archived, whatever
          # stage it wrote (its dpg:stage)
          BIND(IF(EXISTS { ?s dpg:isArchived true }, dpg:ArchivedStage, ?stage) AS ?key)
          OPTIONAL { ?key skos:prefLabel|rdfs:label ?l FILTER(LANG(?l) IN ("", "en")) }
        } GROUP BY ?key ORDER BY DESC(?n)""",
    "dpgs_by_sdg": """
        SELECT ?key (SAMPLE(?notation) AS ?label) (SAMPLE(?t) AS ?title) (COUNT(DISTINCT ?s) AS ?n)
        WHERE {
          ?s a dpg:DigitalPublicGood ; dpg:relevantToSDG ?key .
          ?key a sdgo:Goal .
          OPTIONAL { ?key skos:notation ?notation }
          OPTIONAL { ?key skos:prefLabel ?t FILTER(LANGMATCHES(LANG(?t), "en")) }
        } GROUP BY ?key""",
    "dpgs_by_type": """
        SELECT ?key (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s a dpg:DigitalPublicGood ; dpg:solutionType ?key .
          OPTIONAL { ?key skos:prefLabel|rdfs:label ?l FILTER(LANG(?l) IN ("", "en")) }
        } GROUP BY ?key ORDER BY DESC(?n)""",
    "dpgs_by_licence": """
        SELECT ?key (SAMPLE(?id) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s a dpg:DigitalPublicGood ; dct:license ?key .
          OPTIONAL { ?key dpg:spdxId ?id }
        } GROUP BY ?key ORDER BY DESC(?n)""",
    "members_by_type": """
        SELECT ?key (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?org) AS ?n) WHERE {
          ?m a org:Membership ; org:member ?org ; dpg:isCurrent true .
          OPTIONAL { ?org dpg:memberType ?t }
          BIND(COALESCE(?t, dpg:UnknownMemberType) AS ?key)
          OPTIONAL { ?key skos:prefLabel|rdfs:label ?l FILTER(LANG(?l) IN ("", "en")) }
        } GROUP BY ?key ORDER BY DESC(?n)""",
}

_TOTALS = """
SELECT
  (COUNT(DISTINCT ?sol) AS ?solutions) (COUNT(DISTINCT ?dpg) AS ?dpgs)
  (COUNT(DISTINCT ?org) AS ?organisations)
WHERE {
  { ?sol a dpg:Solution } UNION { ?dpg a dpg:DigitalPublicGood } UNION { ?org a dpg:Organisation }
}"""

_MEMBERS = """
SELECT (COUNT(DISTINCT ?m) AS ?memberships) (COUNT(DISTINCT ?cur) AS ?current) WHERE {
  ?m a org:Membership .
  OPTIONAL { ?m dpg:isCurrent true ; org:member ?cur }
}"""

_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _num(term) -> int:
    return int(term.value) if term is not None else 0


def _rows(store, query: str) -> list[dict]:
    rows = []
    for r in store.select(sparql_prefixes() + query):
        key = r["key"].value
        row = {"iri": key, "label": r["label"].value if "label" in r else _local(key),
               "count": _num(r.get("n"))}
        if "title" in r:
            row["title"] = r["title"].value
        rows.append(row)
    return rows


def graph_stats(store, settings: Settings | None = None) -> dict:
    """Counts of solutions by stage, DPGs per SDG goal / type / licence, organisations, members.

    Each breakdown is a list of {"iri", "label", "count"} (SDG rows also "title"),
    largest first (SDG goals in goal order).
    """
    totals = store.select(sparql_prefixes() + _TOTALS)[0]
    members = store.select(sparql_prefixes() + _MEMBERS)[0]
    triples = store.select(_TRIPLES)[0]
    out: dict = {
        "solutions": _num(totals.get("solutions")),
        "dpgs": _num(totals.get("dpgs")),
        "organisations": _num(totals.get("organisations")),
        "memberships": _num(members.get("memberships")),
        "current_members": _num(members.get("current")),
        "triples": _num(triples.get("n")),
    }
    for name, query in _QUERIES.items():
        out[name] = _rows(store, query)
    for row in out["dpgs_by_sdg"]:  # the goal number as the UN's IRI has it ("3", not "03")
        row["label"] = row["iri"].rsplit("/", 1)[-1]
    out["dpgs_by_sdg"].sort(key=lambda r: int(r["label"]) if r["label"].isdigit() else 99)
    if settings is not None:
        out["base_iri"] = settings.base_iri
    out["version"] = store.version()
    return out
