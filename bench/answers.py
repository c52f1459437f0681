"""The peers' answers compared to ours, before anything is timed.

A timing of a peer means something only if the peer answered the same question: the
same default graph, the same solutions. ``normalise`` turns a SPARQL response (results
JSON, or a graph in N-Triples / Turtle / N-Quads) into a value that compares equal when
the answers are equal; ``differences`` says how two answers differ; ``require_same``
stops the benchmark with that message when any peer's answer differs from ours.

Equal means: the same solutions as a multiset (order ignored; a query whose order
matters is compared by its rows all the same), variables unbound alike, literals
compared by value where the datatype is numeric (``1000.0`` and ``1.0E3`` are one
double), language tags case-folded, ``xsd:string`` and a plain literal one; blank
nodes compared up to renaming (graphs by isomorphism, solutions by position only).
SPARQL leaves the order of ``GROUP_CONCAT``'s items undefined, so in the answer to a
query that uses it, a plain literal is compared as the multiset of the pieces its
separators split it into (the separators the query names; a space by default), with or
without a language tag.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from decimal import Decimal, InvalidOperation

XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                              "positiveInteger", "nonPositiveInteger", "negativeInteger",
                              "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
FLOATS = {XSD + "double", XSD + "float"}
DECIMAL = XSD + "decimal"
BOOLEAN = XSD + "boolean"
RDF_LANG = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


_CONCAT = re.compile(r"GROUP_CONCAT\s*\((?P<args>[^()]*(?:\([^()]*\)[^()]*)*)\)", re.IGNORECASE)
_SEPARATOR = re.compile(r";\s*SEPARATOR\s*=\s*(?:\"((?:[^\"\\\\]|\\\\.)*)\"|'((?:[^'\\\\]|\\\\.)*)')",
                        re.IGNORECASE)


def concat_separators(query: str | None) -> tuple[str, ...]:
    """The separators of the query's GROUP_CONCATs (empty when it has none)."""
    seps = []
    for m in _CONCAT.finditer(query or ""):
        sep = _SEPARATOR.search(m.group("args"))
        seps.append((sep.group(1) if sep.group(1) is not None else sep.group(2)) if sep else " ")
    return tuple(sorted(set(seps), key=len, reverse=True))


def _pieces(value: str, seps: tuple[str, ...]) -> tuple:
    parts = [value]
    for sep in seps:
        if sep:
            parts = [p for part in parts for p in part.split(sep)]
    return tuple(sorted(parts))


def _literal(value: str, datatype: str | None, lang: str | None) -> tuple:
    if lang:
        return ("lit", value, "@" + lang.lower())
    if datatype in (None, XSD + "string"):
        return ("lit", value, None)
    try:
        if datatype in INTEGERS:
            return ("num", Decimal(int(value.strip())))
        if datatype == DECIMAL:
            return ("num", Decimal(value.strip()).normalize())
        if datatype in FLOATS:
            return ("dbl", float(value.strip()))
    except (ValueError, InvalidOperation):
        pass
    if datatype == BOOLEAN and value.strip() in ("0", "1", "true", "false"):
        return ("bool", value.strip() in ("1", "true"))
    return ("lit", value, datatype)


def term(t: dict, seps: tuple[str, ...] = ()) -> tuple:
    """One term of SPARQL results JSON, normalised (`seps`: concat_separators)."""
    kind = t.get("type")
    if seps and kind == "literal" and t.get("datatype") in (None, XSD + "string", RDF_LANG):
        # SPARQL 1.1 makes GROUP_CONCAT a simple literal, 1.2 keeps a language tag its
        # items share (Oxigraph does): the tag is not compared here.
        return ("concat", _pieces(t["value"], seps))
    if kind == "uri":
        return ("uri", t["value"])
    if kind == "bnode":
        return ("bnode",)
    if kind in ("literal", "typed-literal"):
        return _literal(t["value"], t.get("datatype"), t.get("xml:lang"))
    if kind == "triple":  # RDF-star
        v = t["value"]
        return ("triple", term(v["subject"]), term(v["predicate"]), term(v["object"]))
    raise ValueError(f"unknown term type {kind!r}")


def _results_json(body: bytes, seps: tuple[str, ...] = ()) -> tuple:
    doc = json.loads(body)
    if "boolean" in doc:
        v = doc["boolean"]
        return ("boolean", v in (True, 1, "1", "true"))
    rows = Counter(frozenset((var, term(t, seps)) for var, t in b.items())
                   for b in doc["results"]["bindings"])
    return ("solutions", rows)


def _graph(body: bytes, fmt: str) -> tuple:
    import rdflib
    from rdflib.compare import to_isomorphic

    g = rdflib.Dataset() if fmt in ("nquads", "trig") else rdflib.Graph()
    g.parse(data=body.decode("utf-8"), format=fmt)
    if isinstance(g, rdflib.Dataset):
        merged = rdflib.Graph()
        for t in g.triples((None, None, None, None)):
            merged.add(t[:3])
        g = merged
    # Literal values normalised the way solutions are (rdflib keeps lexical forms).
    norm = rdflib.Graph()
    for s, p, o in g:
        if isinstance(o, rdflib.Literal) and o.datatype is not None:
            key = _literal(str(o), str(o.datatype), None)
            if key[0] in ("num", "dbl", "bool"):
                o = rdflib.Literal(repr(key[1]), datatype=rdflib.URIRef(f"urn:norm:{key[0]}"))
        elif isinstance(o, rdflib.Literal) and o.language:
            o = rdflib.Literal(str(o), lang=o.language.lower())
        norm.add((s, p, o))
    return ("graph", to_isomorphic(norm))


GRAPH_FORMATS = {"application/n-triples": "nt", "text/plain": "nt", "text/turtle": "turtle",
                 "application/n-quads": "nquads", "application/trig": "trig",
                 "application/rdf+xml": "xml", "application/ld+json": "json-ld"}


def normalise(body: bytes, content_type: str, query: str | None = None) -> tuple:
    """A SPARQL response to `query` as a comparable value: ("boolean", b), ("solutions",
    multiset of rows) or ("graph", canonical graph)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("application/sparql-results+json", "application/json"):
        return _results_json(body, concat_separators(query))
    if media in GRAPH_FORMATS:
        return _graph(body, GRAPH_FORMATS[media])
    raise ValueError(f"cannot compare answers in {content_type!r}")


def _row_text(row: frozenset, limit: int = 160) -> str:
    def show(t: tuple) -> str:
        if t[0] == "concat":
            return "|".join(t[1])
        return str(t[1]) if len(t) > 1 else "_:b"

    text = ", ".join(f"?{v}={show(t)}" for v, t in sorted(row, key=str))
    return text if len(text) <= limit else text[:limit] + "..."


def differences(ours: tuple, theirs: tuple, samples: int = 3) -> str | None:
    """None when the answers are equal, else a short account of how they differ."""
    if ours[0] != theirs[0]:
        return f"answer kind {theirs[0]} where dpgkg gives {ours[0]}"
    kind = ours[0]
    if kind == "boolean":
        return None if ours[1] == theirs[1] else f"{theirs[1]} where dpgkg says {ours[1]}"
    if kind == "graph":
        from rdflib.compare import graph_diff

        if ours[1] == theirs[1]:
            return None
        _both, only_ours, only_theirs = graph_diff(ours[1], theirs[1])
        lines = [(f"{len(ours[1])} triples from dpgkg, {len(theirs[1])} from the peer; "
                 f"{len(only_ours)} only in dpgkg's, {len(only_theirs)} only in the peer's")]
        lines += [f"  only dpgkg: {t}" for t in list(only_ours)[:samples]]
        lines += [f"  only peer:  {t}" for t in list(only_theirs)[:samples]]
        return "\n".join(lines)
    if ours[1] == theirs[1]:
        return None
    a, b = ours[1], theirs[1]
    only_a, only_b = a - b, b - a
    lines = [(f"{sum(a.values())} solutions from dpgkg, {sum(b.values())} from the peer; "
             f"{sum(only_a.values())} only in dpgkg's, {sum(only_b.values())} only in the peer's")]
    lines += [f"  only dpgkg: {_row_text(r)}" for r in list(only_a)[:samples]]
    lines += [f"  only peer:  {_row_text(r)}" for r in list(only_b)[:samples]]
    return "\n".join(lines)


def mismatches(answers: dict[str, dict[str, tuple]], reference: str) -> list[str]:
    """answers[query][server] -> one message per (query, server) that differs from the
    reference server's answer."""
    out = []
    for qname, by_server in answers.items():
        ours = by_server[reference]
        for server, theirs in by_server.items():
            if server == reference:
                continue
            diff = differences(ours, theirs)
            if diff:
                out.append(f"{server} answers {qname} otherwise than {reference}: {diff}")
    return out


def require_same(answers: dict[str, dict[str, tuple]], reference: str) -> None:
    """Stop the benchmark (exit status 3, nothing written) when a peer answered a query
    otherwise than the reference: its timing would compare different work."""
    problems = mismatches(answers, reference)
    if problems:
        sys.stderr.write("Answers differ; nothing was timed or written:\n"
                         + "\n".join(problems) + "\n")
        raise SystemExit(3)
