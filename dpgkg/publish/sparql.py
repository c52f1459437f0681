"""Run SPARQL queries against the store and serialise their results.

Framework-free: the CLI and the web endpoint both call `run_query`.
"""

from __future__ import annotations

import csv
import io
import re

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.rdf import PREFIXES
from dpgkg.store import open_store

UPDATE_RE = re.compile(
    r"^\s*(?:(?:PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)


class QueryError(Exception):
    """A query that cannot be run: syntax error, update, refused SERVICE."""


def is_update(sparql: str) -> bool:
    # Strip comments so a '# INSERT' in a comment does not count.
    text = re.sub(r"#[^\n]*", "", sparql)
    return bool(UPDATE_RE.match(text))


def run_query(settings: Settings, sparql: str, store=None, **dataset):
    """Run a read query over the store named in `settings` (or the given `store`)."""
    if is_update(sparql):
        raise QueryError("SPARQL Update is not allowed: this endpoint is read-only")
    store = store or open_store(settings.store)
    try:
        return store.query(sparql, **dataset)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from None


def _cell(term) -> str:
    if term is None:
        return ""
    return term.value if hasattr(term, "value") else str(term)


def _short(term) -> str:
    if isinstance(term, ox.NamedNode):
        for p, ns in PREFIXES.items():
            if term.value.startswith(ns):
                return f"{p}:{term.value[len(ns):]}"
        return f"<{term.value}>"
    return _cell(term)


RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
                  "tsv": ox.QueryResultsFormat.TSV, "xml": ox.QueryResultsFormat.XML}
GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                 "jsonld": ox.RdfFormat.JSON_LD, "xml": ox.RdfFormat.RDF_XML}


def format_for_cli(result, fmt: str) -> str:
    """Text for a terminal: an aligned table, or one of the standard formats."""
    if isinstance(result, ox.QueryTriples):
        rdf_fmt = GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
        kwargs = {"prefixes": PREFIXES} if rdf_fmt in (ox.RdfFormat.TURTLE,) else {}
        return ox.serialize(result, format=rdf_fmt, **kwargs).decode()
    if isinstance(result, ox.QueryBoolean):
        if fmt in RESULT_FORMATS:
            return result.serialize(format=RESULT_FORMATS[fmt]).decode() + "\n"
        return ("true" if result else "false") + "\n"
    if fmt in RESULT_FORMATS:
        return result.serialize(format=RESULT_FORMATS[fmt]).decode()
    names = [v.value for v in result.variables]
    rows = [[_short(s[n]) for n in names] for s in result]
    if fmt != "table":
        buf = io.StringIO()
        csv.writer(buf).writerows([names, *rows])
        return buf.getvalue()
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(names), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
