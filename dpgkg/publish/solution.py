"""What a DPG's page shows, read from the graph: the facts above the fold, the DPG
Standard at a glance (the build's validation results with the record's answers), its
history and its countries.

Framework-free: `solution_view(store, description, ...)` returns plain dicts and lists;
the web layer renders them. One query per call beside the description (`_FACTS`), plus
tables that only change with a build (countries, licence approvals, indicator names), kept per store
version.
"""

from __future__ import annotations

import re
from collections import defaultdict

from dpgkg.publish import sdg as sdg_concepts
from dpgkg.publish.cache import per_version
from dpgkg.publish.resources import ROLE_PROPERTIES, Description, _safe_iri
from dpgkg.rdf import DCT, DPG, RDFS, SCHEMA, SDG, sparql_prefixes
from dpgkg.validation.status import INDICATORS

SDG_BASE = str(SDG)
REGISTRY_REPO = "https://github.com/DPGAlliance/publicgoods-candidates"
STATUS_TEXT = {
    "pass": "pass",
    "fail": "fail",
    "not-applicable": "not applicable",
    "not-answered": "not answered",
}
# Which record's validation speaks for the solution when it has several files.
_FOLDER_ORDER = ("nominees", "archive", "excluded-nominees")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


def _countries(store) -> dict[str, dict]:
    rows = store.select(
        sparql_prefixes()
        + """
        SELECT ?c (SAMPLE(?m) AS ?m49) (SAMPLE(?a) AS ?alpha2) WHERE {
          ?c a dpg:Country . OPTIONAL { ?c dpg:m49 ?m } OPTIONAL { ?c dpg:iso3166Alpha2 ?a }
        } GROUP BY ?c"""
    )
    return {
        r["c"].value: {
            "m49": r["m49"].value if "m49" in r else None,
            "alpha2": r["alpha2"].value if "alpha2" in r else None,
        }
        for r in rows
    }


def _approvals(store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in store.select(sparql_prefixes() + "SELECT ?l ?t { ?l dpg:approvedFor ?t }"):
        out[r["l"].value].add(r["t"].value)
    return dict(out)


def _indicators(store) -> dict[str, dict]:
    rows = store.select(
        sparql_prefixes()
        + """
        SELECT ?i (SAMPLE(?n) AS ?notation) (SAMPLE(?l) AS ?label) (SAMPLE(?c) AS ?comment)
        WHERE { ?i a dpg:StandardIndicator ; skos:notation ?n .
                OPTIONAL { ?i rdfs:label ?l FILTER(LANG(?l) IN ("", "en")) }
                OPTIONAL { ?i rdfs:comment ?c FILTER(LANG(?c) IN ("", "en")) } }
        GROUP BY ?i"""
    )
    return {
        r["notation"].value: {
            "iri": r["i"].value,
            "label": r["label"].value if "label" in r else "",
            "comment": r["comment"].value if "comment" in r else "",
        }
        for r in rows
    }


def _term_labels(store) -> dict[str, str]:
    rows = store.select(f"""SELECT ?t (SAMPLE(?l) AS ?label) WHERE {{
        ?t <{RDFS.label.value}> ?l FILTER(STRSTARTS(STR(?t), "{DPG}")
        && LANG(?l) IN ("", "en")) }} GROUP BY ?t""")
    return {r["t"].value: r["label"].value for r in rows}


def sdg_number(iri: str) -> str:
    return iri.removeprefix(SDG_BASE)


def _sdg_key(iri: str) -> tuple:
    return tuple(int(x) if x.isdigit() else 0 for x in sdg_number(iri).split("."))


def _humanise(iri: str) -> str:
    local = re.split(r"[#/]", iri)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local).lower()
    return words.replace("pii", "PII").replace("url", "URL").strip() or iri


def _literal_values(values: list) -> list[dict]:
    """Values as text, with any web address in them as a link."""
    out = []
    for v in values:
        text = v.value
        out.append(
            {"text": text, "links": _URL.findall(text)[:5], "is_link": bool(_URL.fullmatch(text))}
        )
    return out


# What the page shows beyond the description, in one query (each query is a round trip
# to a query process): the validation results, the record files, the history.
_FACTS = """
SELECT * WHERE {{
  {{ BIND("validation" AS ?part)
     ?r dpg:validatedRecord <{iri}> ; dpg:indicator ?i ; dpg:status ?status .
     OPTIONAL {{ ?r dpg:sourceFile ?file }} OPTIONAL {{ ?r dpg:message ?msg }} }}
  UNION
  {{ BIND("record" AS ?part)
     ?g dpg:describes <{iri}> ; dpg:sourcePath ?path . OPTIONAL {{ ?g dpg:sourceCommit ?commit }} }}
  UNION
  {{ BIND("history" AS ?part)
     <{iri}> dpg:change ?e . ?e a ?type ; dct:date ?date .
     FILTER(?type IN (dpg:StageChange, dpg:LicenceChange, dpg:SDGChange, dpg:TypeChange))
     OPTIONAL {{ ?e dpg:commit ?ecommit }} OPTIONAL {{ ?e dpg:fromStage ?from }}
     OPTIONAL {{ ?e dpg:toStage ?to }} OPTIONAL {{ ?e dpg:stageAsWritten ?written }}
     OPTIONAL {{ ?e dpg:added ?added }} OPTIONAL {{ ?e dpg:removed ?removed }} }}
}}"""


def _facts(store, iri: str) -> dict[str, list[dict]]:
    """The rows of `_FACTS` for `iri`, by part (validation, record, history)."""
    parts: dict[str, list[dict]] = {"validation": [], "record": [], "history": []}
    for r in store.select(sparql_prefixes() + _FACTS.format(iri=_safe_iri(iri))):
        parts[r.pop("part").value].append(r)
    return parts


def _validation(rows: list[dict]) -> dict[str, dict]:
    by_file: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        key = r["i"].value.rsplit("#Indicator", 1)[-1]
        if key not in INDICATORS:
            continue
        file = r["file"].value if "file" in r else ""
        entry = by_file[file].setdefault(key, {"status": r["status"].value, "messages": []})
        if "msg" in r and r["msg"].value not in entry["messages"]:
            entry["messages"].append(r["msg"].value)
    if not by_file:
        return {}
    best = min(
        by_file,
        key=lambda f: (
            _FOLDER_ORDER.index(f.split("/")[0]) if f.split("/")[0] in _FOLDER_ORDER else 9,
            f,
        ),
    )
    for entry in by_file[best].values():
        entry["messages"].sort()
    return by_file[best]


def _history(rows: list[dict], d: Description) -> dict | None:
    s = d.iri
    issued, modified = d.first(s, DCT.issued), d.first(s, DCT.modified)
    events: dict[str, dict] = {}
    for r in rows:
        e = events.setdefault(
            r["e"].value,
            {
                "iri": r["e"].value,
                "kind": r["type"].value.rsplit("#", 1)[-1],
                "date": r["date"].value,
                "commit": r["ecommit"].value if "ecommit" in r else None,
                "from": None,
                "to": None,
                "written": None,
                "added": [],
                "removed": [],
            },
        )
        for k in ("from", "to"):
            if k in r:
                e[k] = r[k].value
        if "written" in r:
            e["written"] = r["written"].value
        for k in ("added", "removed"):
            if k in r and r[k].value not in e[k]:
                e[k].append(r[k].value)
    if not events and issued is None and modified is None:
        return None
    return {
        "issued": issued.value if issued is not None else None,
        "modified": modified.value if modified is not None else None,
        "events": sorted(events.values(), key=lambda e: (e["date"], e["kind"])),
    }


def _record_source(rows: list[dict]) -> dict | None:
    if not rows:
        return None
    best = min(
        rows,
        key=lambda r: (
            _FOLDER_ORDER.index(r["path"].value.split("/")[0])
            if r["path"].value.split("/")[0] in _FOLDER_ORDER
            else 9
        ),
    )
    path = best["path"].value
    commit = best["commit"].value if "commit" in best else "main"
    return {"path": path, "url": f"{REGISTRY_REPO}/blob/{commit}/{path}"}


def solution_view(store, d: Description) -> dict:
    """Everything the DPG page shows about the solution `d` describes."""
    s = d.iri
    labels = per_version(store, "terms", _term_labels)

    def label(iri: str) -> str:
        return d.label(iri) or labels.get(iri) or _humanise(iri)

    def concept(iri: str) -> str:  # a type or stage: its label, else its name in the ontology
        return d.label(iri) or labels.get(iri) or iri.rsplit("#", 1)[-1]

    types = [d.first(s, DPG.solutionType)] if d.first(s, DPG.solutionType) else []
    type_iris = {t.value for t in d.values(s, DPG.solutionType)}
    stage = d.first(s, DPG.stage)

    table = sdg_concepts.concepts(store)
    sdgs = [
        {
            "iri": g.value,
            "number": sdg_number(g.value),
            "name": table.get(g.value, {}).get("short") or d.label(g.value) or "",
            "title": d.label(g.value) or "",
        }
        for g in sorted(d.values(s, DPG.relevantToSDG), key=lambda g: _sdg_key(g.value))
        if "." not in sdg_number(g.value)
    ]

    approvals = per_version(store, "approvals", _approvals)
    declarations = {}
    for decl in d.values(s, DPG.licenseDeclaration):
        lic = d.first(decl.value, DCT.license)
        if lic is not None:
            declarations[lic.value] = decl.value
    licences = []
    for lic in d.values(s, DCT.license):
        approved_for = approvals.get(lic.value, set())
        decl = declarations.get(lic.value)
        url = d.first(decl, SCHEMA.url) if decl else None
        spdx = d.first(lic.value, DPG.spdxId)
        licences.append(
            {
                "iri": lic.value,
                "id": spdx.value if spdx is not None else lic.value.rsplit("/")[-1],
                "name": d.label(lic.value) or "",
                "approved": bool(type_iris & approved_for) if type_iris else None,
                "approved_for": sorted(label(t) for t in approved_for),
                "url": url.value if url is not None else None,
                "as_written": (
                    d.first(decl, DPG.spdxIdAsWritten).value
                    if decl and d.first(decl, DPG.spdxIdAsWritten) is not None
                    else None
                ),
            }
        )

    roles: dict[str, list[dict]] = {}
    for role, prop in ROLE_PROPERTIES.items():
        orgs = sorted(
            (
                {"iri": o.value, "name": d.label(o.value) or _humanise(o.value)}
                for o in d.values(s, prop)
            ),
            key=lambda o: o["name"].lower(),
        )
        if orgs:
            roles[role] = orgs

    facts = _facts(store, s)
    checklist = _checklist(store, d, label, facts["validation"])
    countries = _country_lists(store, d)
    return {
        "name": d.label(s) or s,
        "description": (
            d.first(s, SCHEMA.description).value if d.first(s, SCHEMA.description) else ""
        ),
        "alternate_names": [v.value for v in d.values(s, SCHEMA.alternateName)],
        "types": [{"iri": t.value, "label": concept(t.value)} for t in types],
        "stage": {
            "iri": stage.value,
            "label": concept(stage.value),
            "key": stage.value.rsplit("#", 1)[-1],
        }
        if stage is not None
        else None,
        "sdgs": sdgs,
        "licences": licences,
        "roles": roles,
        "websites": [u.value for u in d.values(s, SCHEMA.url)],
        "repositories": [u.value for u in d.values(s, SCHEMA.codeRepository)],
        "sectors": sorted(
            ({"iri": x.value, "label": label(x.value)} for x in d.values(s, DPG.sector)),
            key=lambda x: x["label"],
        ),
        "record": _record_source(facts["record"]),
        "checklist": checklist,
        "history": _history(facts["history"], d),
        "countries": countries,
    }


def _checklist(store, d: Description, label, validation: list[dict]) -> dict:
    """The 12 indicators with status, messages and the record's answers behind each."""
    s = d.iri
    results = _validation(validation)
    indicators = per_version(store, "indicators", _indicators)
    answers: dict[str, list[dict]] = {}
    for part in d.values(s, DPG.indicatorAnswer):
        ind = d.first(part.value, DPG.answersIndicator)
        if ind is None:
            continue
        key = ind.value.rsplit("#Indicator", 1)[-1]
        rows = []
        for p, values in sorted(d.index.get(part.value, {}).items()):
            if p in (DPG.answersIndicator.value, RDF_TYPE):
                continue
            rows.append({"label": label(p), "values": _literal_values(values)})
        answers[key] = rows
    # Indicators 1 and 2 are answered by the nominee record itself.
    answers["1"] = [
        {
            "label": f"SDG {sdg_number(g.value)}",
            "values": _literal_values(
                d.values(part.value, DPG.evidenceText) + d.values(part.value, DPG.evidenceURL)
            ),
        }
        for part in d.values(s, DPG.sdgRelevance)
        for g in d.values(part.value, DPG.sdg)
    ]
    answers["1"].sort(key=lambda r: _sdg_key(SDG_BASE + r["label"].removeprefix("SDG ")))
    answers["2"] = [
        {
            "label": (d.first(lic.value, DPG.spdxId) or lic).value.rsplit("/")[-1],
            "values": _literal_values(d.values(decl.value, SCHEMA.url)),
        }
        for decl in d.values(s, DPG.licenseDeclaration)
        for lic in d.values(decl.value, DCT.license)
    ]
    rows = []
    for key in INDICATORS:
        res = results.get(key)
        status = res["status"] if res else None
        ind = indicators.get(key, {})
        rows.append(
            {
                "key": key,
                "label": ind.get("label") or f"Indicator {key}",
                "iri": ind.get("iri") or f"{DPG}Indicator{key}",
                "comment": ind.get("comment", ""),
                "status": status or "unknown",
                "status_text": STATUS_TEXT.get(status, "not validated"),
                "messages": res["messages"] if res else [],
                "answers": answers.get(key, []),
            }
        )
    counts = {k: sum(1 for r in rows if r["status"] == k) for k in STATUS_TEXT}
    return {"rows": rows, "counts": counts, "validated": bool(results)}


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _country_lists(store, d: Description) -> dict:
    table = per_version(store, "countries", _countries)
    out = {}
    for key, prop in (
        ("deployment", DPG.deploymentCountry),
        ("development", DPG.developmentCountry),
    ):
        out[key] = sorted(
            (
                {
                    "iri": c.value,
                    "name": d.label(c.value) or c.value.rsplit("/")[-1],
                    **table.get(c.value, {"m49": None, "alpha2": None}),
                }
                for c in d.values(d.iri, prop)
            ),
            key=lambda c: c["name"],
        )
    out["as_written"] = [v.value for v in d.values(d.iri, DPG.countryAsWritten)]
    return out


def map_classes(countries: dict) -> dict[str, str]:
    """Numeric country code -> class on the map: deployed, developed, or both."""
    classes: dict[str, set[str]] = defaultdict(set)
    for key in ("deployment", "development"):
        for c in countries[key]:
            if c.get("m49"):
                classes[c["m49"]].add(key)
    return {code: "both" if len(k) == 2 else next(iter(k)) for code, k in classes.items()}
