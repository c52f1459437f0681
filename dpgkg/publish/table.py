"""Tables for spreadsheets: the browse list and search results as CSV (RFC 4180).

Framework-free. A cell a spreadsheet would read as a formula (it starts with `=`, `+`,
`-`, `@`, a tab or a carriage return: the characters OWASP's "CSV injection" lists) is
written with a leading `'`, which spreadsheets show as text and drop from the value.
Multi-valued cells join their values with " | ".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from dpgkg.publish.formats import PAGE_FORMATS
from dpgkg.rdf import sparql_prefixes

CSV_MEDIA_TYPE = PAGE_FORMATS["csv"].media_type
SEPARATOR = " | "
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The browse list's columns: what a DPG's page shows first, one row per solution.
SOLUTION_COLUMNS = ("name", "iri", "page", "type", "stage", "description", "licences",
                    "sdgs", "owners", "maintainers", "funders", "website", "repositories",
                    "sectors", "issued", "modified")
# Search results: named as in the browse list, plus what kind of thing each hit is.
SEARCH_COLUMNS = ("name", "iri", "page", "kind", "description")


def guard(value: object) -> str:
    """The cell as text, with a leading `'` where a spreadsheet would see a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(columns: Iterable[str], rows: Iterable[dict]) -> str:
    """A header row and one row per dict (missing keys empty, lists joined), CRLF ends."""
    columns = list(columns)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([guard(SEPARATOR.join(v) if isinstance(v, (list, tuple)) else v)
                         for v in (row.get(c) for c in columns)])
    return out.getvalue()


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


_STAGES = {"DPGStage": "DPG", "NomineeStage": "Nominee", "ArchivedStage": "Archived",
           "ExcludedStage": "Excluded"}


def _stage(iri: str) -> str:
    return _STAGES.get(_local(iri), _local(iri))


_GROUPED = {  # column -> (pattern binding ?v, how a value is written)
    "licences": ("?s dct:license ?x . OPTIONAL { ?x dpg:spdxId ?xl } BIND(COALESCE(?xl, ?x) AS ?v)",
                 _local),
    "sdgs": ("?s dpg:relevantToSDG ?x . ?x skos:notation ?v", str),
    "owners": ("?s dpg:ownedBy ?x . ?x schema:name ?v", str),
    "maintainers": ("?s dpg:maintainedBy ?x . ?x schema:name ?v", str),
    "funders": ("?s dpg:fundedBy ?x . ?x schema:name ?v", str),
    "website": ("?s schema:url ?v", str),
    "repositories": ("?s schema:codeRepository ?v", str),
    "sectors": ("?s dpg:sector ?x . ?x skos:prefLabel ?v FILTER(LANG(?v) IN (\"\", \"en\"))",
                str),
    "issued": ("?s dct:issued ?v", str),
    "modified": ("?s dct:modified ?v", str),
    "type": ("?s dpg:solutionType ?v", _local),
    "stage": ("?s dpg:stage ?v", _stage),
    "description": ("?s schema:description ?v", str),
}


def solution_columns(store) -> dict[str, dict[str, list[str]]]:
    """Every solution's multi-valued columns (iri -> column -> sorted values), from one
    query (about a second on the full graph: the web layer keeps it per store version)."""
    unions = " UNION ".join(f'{{ {pattern} BIND("{col}" AS ?col) }}'
                            for col, (pattern, _) in _GROUPED.items())
    found: dict[str, dict[str, list[str]]] = {}
    for r in store.select(sparql_prefixes() + f"""
            SELECT DISTINCT ?s ?col ?v WHERE {{ ?s a dpg:Solution . {unions} }}"""):
        col = r["col"].value
        cell = found.setdefault(r["s"].value, {}).setdefault(col, [])
        text = _GROUPED[col][1](r["v"].value)
        if text not in cell:
            cell.append(text)
    for columns in found.values():
        for col, cell in columns.items():
            cell.sort(key=_sort_key(col))
    return found


def solution_rows(store, where: str, page_of, columns: dict | None = None) -> list[dict]:
    """Every solution matching `where` (SPARQL patterns binding ?s and its name ?n), in
    the browse list's order (by name), with the browse list's columns. `page_of(iri)` is
    the URL of its page on this site; `columns` what `solution_columns` gave (else it is
    asked for)."""
    names = store.select(sparql_prefixes() + f"""
        SELECT ?s (SAMPLE(?n) AS ?name) WHERE {{ {where} }}
        GROUP BY ?s ORDER BY LCASE(STR(?name)) ?s""")
    if not names:
        return []
    columns = solution_columns(store) if columns is None else columns
    out = []
    for r in names:
        iri = r["s"].value
        known = columns.get(iri, {})
        out.append({"name": r["name"].value, "iri": iri, "page": page_of(iri),
                    **{col: known.get(col, []) for col in _GROUPED}})
    return out


def _sort_key(col: str):
    if col == "sdgs":
        return lambda v: (len(v), v)  # 2 before 10
    return str.lower
