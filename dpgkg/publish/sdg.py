"""What an SDG page shows: a goal with its targets and their indicators in the UN's
numeric order, or a target with its indicators, and the solutions relevant to it by
stage (DPGs unless asked otherwise), counted the way the home page counts them.

Framework-free: plain dicts for the web layer.
"""

from __future__ import annotations

import re

from dpgkg.publish import browse
from dpgkg.publish.cache import per_version
from dpgkg.publish.resources import _safe_iri
from dpgkg.rdf import SDG, sparql_prefixes

SDG_BASE = str(SDG)
_NUMBER = re.compile(r"^[1-9][0-9]*(\.[0-9a-z]+)*$")
STAGES = ("DPGStage", "NomineeStage", "ArchivedStage", "ExcludedStage")


def number_key(number: str) -> tuple:
    """'3.10' after '3.9', letters ('3.a') after digits, as the UN orders them."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in number.split("."))


def _concepts(store) -> dict[str, dict]:
    """Every goal, target and indicator: number, kind, title, short name, parent."""
    rows = store.select(
        sparql_prefixes()
        + """
        SELECT ?c ?kind ?n ?title ?short ?parent WHERE {
          VALUES ?kind { sdgo:Goal sdgo:Target sdgo:Indicator }
          ?c a ?kind ; skos:notation ?n .
          OPTIONAL { ?c skos:prefLabel ?title FILTER(LANGMATCHES(LANG(?title), "en")) }
          OPTIONAL { ?c skos:altLabel ?short FILTER(LANGMATCHES(LANG(?short), "en")) }
          OPTIONAL { ?c skos:broader ?parent }
        }"""
    )
    out: dict[str, dict] = {}
    for r in rows:
        c = r["c"].value
        e = out.setdefault(
            c,
            {
                "iri": c,
                "kind": r["kind"].value.rsplit("#", 1)[-1].lower(),
                "number": None,
                "title": "",
                "short": "",
                "parent": None,
            },
        )
        if _NUMBER.match(r["n"].value):
            e["number"] = r["n"].value
        if "title" in r:
            e["title"] = r["title"].value
        if "short" in r:
            e["short"] = r["short"].value
        if "parent" in r and r["parent"].value.startswith(SDG_BASE):
            e["parent"] = r["parent"].value
    for e in out.values():
        e["number"] = e["number"] or e["iri"].removeprefix(SDG_BASE)
    return out


def concepts(store) -> dict[str, dict]:
    return per_version(store, "sdg-concepts", _concepts)


def goals(store) -> list[dict]:
    """The 17 goals in order, with their short names."""
    return sorted(
        (c for c in concepts(store).values() if c["kind"] == "goal"),
        key=lambda c: number_key(c["number"]),
    )


def _children(table: dict, parent: str) -> list[dict]:
    return sorted(
        (c for c in table.values() if c["parent"] == parent), key=lambda c: number_key(c["number"])
    )


def sdg_view(store, iri: str, stage: str = "DPGStage") -> dict | None:
    """The page of a goal, target or indicator; None when `iri` is none of them.

    `stage` is a stage's local name (``DPGStage``...) or ``all``."""
    table = concepts(store)
    c = table.get(iri)
    if c is None:
        return None
    view = {**c, "children": [], "ancestors": []}
    parent = c["parent"]
    while parent and parent in table:
        view["ancestors"].insert(0, table[parent])
        parent = table[parent]["parent"]
    for child in _children(table, iri):
        view["children"].append({**child, "children": _children(table, child["iri"])})
    counts, solutions = _solutions(store, iri, stage)
    view["stage_counts"] = counts
    view["stage"] = stage
    view["solutions"] = solutions
    return view


def _solutions(store, iri: str, stage: str) -> tuple[dict[str, int], list[dict]]:
    """Solutions relevant to the concept, counted by stage, those at `stage` listed by
    name: one query for their IRIs (kept per store version), their names, stages and
    types from the browse list's table (`browse.index`)."""
    counts = {k: 0 for k in STAGES}
    items = []
    for e in browse.matching(store, [f"?s dpg:relevantToSDG <{_safe_iri(iri)}> ."]):
        if e.stage is None:  # a solution without a stage is in no count
            continue
        key = e.stage.rsplit("#", 1)[-1]
        counts[key] = counts.get(key, 0) + 1
        if stage == "all" or key == stage:
            items.append({"iri": e.iri, "name": e.name, "stage": key, "type": e.type})
    return counts, items  # in the browse list's order: by name, then IRI
