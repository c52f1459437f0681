"""Organisations and alliance members: the lists with their filters, and what one
organisation's page shows (each solution once with its roles, the membership as a
dated timeline, units and parent).

Framework-free. The table of all organisations changes only with a build, so it is
computed once per store version and filtered in Python.
"""

from __future__ import annotations

from collections import defaultdict

from dpgkg.publish.cache import per_version
from dpgkg.publish.resources import ROLE_PROPERTIES, _safe_iri
from dpgkg.rdf import DPG, sparql_prefixes

ROLES = tuple(ROLE_PROPERTIES)  # owner, maintainer, funder, implementer
_ROLE_OF = {p.value: r for r, p in ROLE_PROPERTIES.items()}
MEMBER_STATES = ("current", "former", "never")
PAGE_SIZE = 100


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _table(store) -> list[dict]:
    orgs: dict[str, dict] = {}
    for r in store.select(
        sparql_prefixes()
        + """
        SELECT ?o (SAMPLE(?n) AS ?name) (SAMPLE(?t) AS ?type) (SAMPLE(?tl) AS ?type_label)
               (SAMPLE(?hq) AS ?hq) (SAMPLE(?hql) AS ?hq_label) (SAMPLE(?a2) AS ?alpha2)
               (SAMPLE(?p) AS ?parent) WHERE {
          ?o a dpg:Organisation ; schema:name ?n .
          OPTIONAL { ?o dpg:memberType ?t
                     OPTIONAL { ?t skos:prefLabel|rdfs:label ?tl FILTER(LANG(?tl) IN ("", "en")) } }
          OPTIONAL { ?o dpg:headquarters ?hq OPTIONAL { ?hq dpg:iso3166Alpha2 ?a2 }
                     OPTIONAL { ?hq skos:prefLabel ?hql FILTER(LANGMATCHES(LANG(?hql), "en")) } }
          OPTIONAL { ?o org:subOrganizationOf ?p }
        } GROUP BY ?o"""
    ):
        o = r["o"].value
        orgs[o] = {
            "iri": o,
            "name": r["name"].value,
            "type": _local(r["type"].value) if "type" in r else None,
            "type_label": r["type_label"].value
            if "type_label" in r
            else (_local(r["type"].value) if "type" in r else None),
            "country": r["alpha2"].value if "alpha2" in r else None,
            "country_label": r["hq_label"].value if "hq_label" in r else None,
            "country_iri": r["hq"].value if "hq" in r else None,
            "parent": r["parent"].value if "parent" in r else None,
            "roles": {},
            "member": "never",
            "joined": None,
            "left": None,
        }
    values = " ".join(f"<{p.value}>" for p in ROLE_PROPERTIES.values())
    for r in store.select(
        sparql_prefixes()
        + f"""
        SELECT ?o ?role (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          VALUES ?role {{ {values} }} ?s a dpg:Solution ; ?role ?o }} GROUP BY ?o ?role"""
    ):
        if r["o"].value in orgs:
            orgs[r["o"].value]["roles"][_ROLE_OF[r["role"].value]] = int(r["n"].value)
    for r in store.select(
        sparql_prefixes()
        + """
        SELECT ?o ?joined ?left ?current WHERE {
          ?m a org:Membership ; org:member ?o ; org:organization ?a . ?a a dpg:Alliance .
          OPTIONAL { ?m dpg:joined ?joined } OPTIONAL { ?m dpg:left ?left }
          OPTIONAL { ?m dpg:isCurrent ?current } }"""
    ):
        o = orgs.get(r["o"].value)
        if o is None:
            continue
        current = "current" in r and r["current"].value == "true"
        if current or o["member"] != "current":
            o["member"] = "current" if current else "former"
            o["joined"] = r["joined"].value if "joined" in r else None
            o["left"] = r["left"].value if "left" in r else None
    names = {o["iri"]: o["name"] for o in orgs.values()}
    units: dict[str, int] = defaultdict(int)
    for o in orgs.values():
        if o["parent"]:
            units[o["parent"]] += 1
            o["parent_name"] = names.get(o["parent"], _local(o["parent"]))
    for o in orgs.values():
        o["units"] = units.get(o["iri"], 0)
        o["solutions"] = sum(o["roles"].values())
    return sorted(orgs.values(), key=lambda o: (o["name"].lower(), o["iri"]))


def organisation_table(store) -> list[dict]:
    """Every organisation: name, member type, headquarters, membership, solutions per role."""
    return per_version(store, "organisations", _table)


def facets(rows: list[dict]) -> dict[str, list[tuple[str, str]]]:
    """The values each filter offers (value, label), from the rows themselves."""
    types = {o["type"]: o["type_label"] for o in rows if o["type"]}
    countries = {o["country"]: o["country_label"] or o["country"] for o in rows if o["country"]}
    return {
        "type": sorted(types.items(), key=lambda x: x[1]),
        "country": sorted(countries.items(), key=lambda x: x[1]),
        "member": [(m, m) for m in MEMBER_STATES],
        "role": [(r, r) for r in ROLES],
    }


def filter_rows(
    rows: list[dict],
    *,
    type: str | None = None,
    country: str | None = None,
    member: str | None = None,
    role: str | None = None,
) -> list[dict]:
    """Rows matching every filter given (type and country compare case-insensitively)."""
    out = rows
    if type:
        out = [o for o in out if (o["type"] or "").lower() == type.lower()]
    if country:
        out = [o for o in out if (o["country"] or "").upper() == country.upper()]
    if member == "member":
        out = [o for o in out if o["member"] != "never"]
    elif member:
        out = [o for o in out if o["member"] == member]
    if role:
        out = [o for o in out if o["roles"].get(role)]
    return out


# An organisation's page beyond its description, in one query (each query is a round trip
# to a query process): its solutions by role, its memberships, its members, its relatives.
_MEMBERSHIP = """{{ SELECT ?m (SAMPLE(?other) AS ?o) (SAMPLE(?name) AS ?n) (SAMPLE(?joined) AS ?j)
         (SAMPLE(?left) AS ?l) (SAMPLE(?current) AS ?c) (SAMPLE(?basis) AS ?b)
         (SAMPLE(?note) AS ?note_) WHERE {{
    ?m a org:Membership ; {pattern} .
    OPTIONAL {{ ?other schema:name ?name }}
    OPTIONAL {{ ?m dpg:joined ?joined }} OPTIONAL {{ ?m dpg:left ?left }}
    OPTIONAL {{ ?m dpg:isCurrent ?current }} OPTIONAL {{ ?m dpg:joinedBasis ?basis }}
    OPTIONAL {{ ?m rdfs:comment ?note }} }} GROUP BY ?m }}"""
_ORGANISATION = """
SELECT * WHERE {{
  {{ {{ SELECT ?s ?role (SAMPLE(?sn) AS ?name) (SAMPLE(?st) AS ?stage) WHERE {{
       VALUES ?role {{ {roles} }} ?s a dpg:Solution ; ?role <{s}> ; schema:name ?sn .
       OPTIONAL {{ ?s dpg:stage ?st }} }} GROUP BY ?s ?role }}
     BIND("solution" AS ?part) }}
  UNION {{ {memberships} BIND("membership" AS ?part) }}
  UNION {{ {members} BIND("member" AS ?part) }}
  UNION {{ {{ SELECT ?rel ?o (SAMPLE(?on) AS ?name) WHERE {{
       {{ <{s}> org:subOrganizationOf ?o BIND("parent" AS ?rel) }}
       UNION {{ ?o org:subOrganizationOf <{s}> BIND("unit" AS ?rel) }}
       UNION {{ <{s}> dpg:predecessor ?o BIND("predecessor" AS ?rel) }}
       UNION {{ <{s}> dpg:successor ?o BIND("successor" AS ?rel) }}
       OPTIONAL {{ ?o schema:name ?on }} }} GROUP BY ?rel ?o }}
     BIND("related" AS ?part) }}
}}"""


def organisation_view(store, iri: str) -> dict:
    """An organisation's solutions (each once, with its roles), memberships and units."""
    s = _safe_iri(iri)
    roles = " ".join(f"<{p.value}>" for p in ROLE_PROPERTIES.values())
    parts: dict[str, list[dict]] = defaultdict(list)
    for r in store.select(sparql_prefixes() + _ORGANISATION.format(
            s=s, roles=roles,
            memberships=_MEMBERSHIP.format(pattern=f"org:member <{s}> ; org:organization ?other"),
            members=_MEMBERSHIP.format(pattern=f"org:organization <{s}> ; org:member ?other"))):
        parts[r.pop("part").value].append(r)
    solutions: dict[str, dict] = {}
    for r in parts["solution"]:
        e = solutions.setdefault(
            r["s"].value,
            {
                "iri": r["s"].value,
                "name": r["name"].value,
                "roles": [],
                "stage": _local(r["stage"].value) if "stage" in r else None,
            },
        )
        e["roles"].append(_ROLE_OF[r["role"].value])
    for e in solutions.values():
        e["roles"].sort(key=ROLES.index)
    related = defaultdict(list)
    for r in parts["related"]:
        related[r["rel"].value].append(
            {"iri": r["o"].value, "name": r["name"].value if "name" in r else _local(r["o"].value)}
        )
    for v in related.values():
        v.sort(key=lambda x: x["name"].lower())
    return {
        "solutions": sorted(solutions.values(), key=lambda x: (x["name"].lower(), x["iri"])),
        "memberships": _memberships(parts["membership"]),
        "members": _memberships(parts["member"]),
        "parents": related.get("parent", []),
        "units": related.get("unit", []),
        "predecessors": related.get("predecessor", []),
        "successors": related.get("successor", []),
    }


def _memberships(rows: list[dict]) -> list[dict]:
    out = [
        {
            "iri": r["m"].value,
            "other": r["o"].value,
            "name": r["n"].value if "n" in r else _local(r["o"].value),
            "joined": r["j"].value if "j" in r else None,
            "left": r["l"].value if "l" in r else None,
            "current": "c" in r and r["c"].value == "true",
            "basis": _local(r["b"].value) if "b" in r else None,
            "note": r["note_"].value if "note_" in r else None,
        }
        for r in rows
    ]
    return sorted(out, key=lambda m: (m["joined"] or "9999", m["name"].lower()))


BASIS_TEXT = {
    "Announcement": "announced",
    "FirstListed": "first listed",
    "FirstMentioned": "first mentioned",
    "CoFounder": "co-founder",
}
_ = DPG
