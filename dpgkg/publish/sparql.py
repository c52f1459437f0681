"""Check, run and serialise SPARQL queries.

Framework-free: the CLI, the web endpoint and the query worker processes share
`check_query` (read-only, SERVICE allow-list, one query) and the serialisers.
Updates, FROM clauses and nesting are read with a small lexer (comments, strings
and IRIs understood), which costs microseconds. SERVICE is decided on the parsed
query instead: any query whose text (after \\u escapes) mentions SERVICE is parsed
with rdflib's SPARQL parser, and every SERVICE in its algebra (escapes, prefixes
and BASE resolved, in subqueries and EXISTS too) must name an allowed endpoint.
A query that mentions SERVICE and cannot be parsed is refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import ClassVar

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.rdf import PREFIXES
from dpgkg.store import open_store


class QueryError(Exception):
    """A query that cannot be run: syntax error, update, refused SERVICE. HTTP 400."""

    status = 400
    headers: dict[str, str] | None = None


class UpdateRefused(QueryError):
    pass


class ServiceRefused(QueryError):
    pass


class QueryTooComplex(QueryError):
    """Nested deeper than the engine can take safely (it would crash, not fail)."""


class QueryTimeout(QueryError):
    """The query ran past the time allowed and was stopped."""

    status = 503


class QueryBusy(QueryError):
    """Every query worker stayed busy for the whole time allowed."""

    status = 503
    headers: ClassVar[dict[str, str]] = {"Retry-After": "5"}


UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY",
                             "MOVE", "ADD", "WITH"})
QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

# One alternation, tried left to right at each position: what can hide a keyword
# (comments, strings, IRIs) is matched whole before words are looked at.
_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
  | (?P<pname>(?:[A-Za-z\u00c0-\uffff][\w\u00b7\u00c0-\uffff.-]*)?:
              (?:[\w\u00b7\u00c0-\uffff:%\\-](?:[\w\u00b7\u00c0-\uffff.:%\\-]*[\w\u00b7\u00c0-\uffff:%\\-])?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>\S)
""", re.VERBOSE | re.DOTALL)


@dataclass
class Token:
    kind: str
    text: str
    pos: int


def tokens(sparql: str) -> list[Token]:
    """Significant tokens of a query: comments dropped, strings/IRIs kept whole."""
    out = []
    for m in _TOKEN.finditer(sparql):
        kind = m.lastgroup
        if kind != "comment":
            out.append(Token(kind, m.group(), m.start()))
    return out


# Stands for "no graph": a default graph made of no graphs is empty, not the union.
EMPTY_GRAPH = "urn:dpgkg:empty-graph"


@dataclass
class QueryInfo:
    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE; None if unreadable
    services: list[str]  # SERVICE endpoints named (IRIs); "?var" for a variable
    from_graphs: list[str] = field(default_factory=list)  # FROM
    from_named: list[str] = field(default_factory=list)  # FROM NAMED


def dataset_args(info: QueryInfo, default_graph_uris: list[str] | None,
            named_graph_uris: list[str] | None) -> dict:
    """The store's dataset arguments: protocol parameters, else the query's FROM clauses.

    Nothing at all means the union default graph; naming only named graphs gives an
    empty default graph (SPARQL 1.1 Protocol 2.1.4, Query 13.2).
    """
    default, named = list(default_graph_uris or []), list(named_graph_uris or [])
    if not default and not named:
        default, named = list(info.from_graphs), list(info.from_named)
    if named and not default:
        default = [EMPTY_GRAPH]
    return {"default_graph_uris": default or None, "named_graph_uris": named or None}


def inspect_query(sparql: str) -> QueryInfo:
    """The query form and SERVICE endpoints; raises UpdateRefused for an update."""
    toks = tokens(sparql)
    prefixes: dict[str, str] = {}
    base = ""
    form = None
    services: list[str] = []
    from_graphs: list[str] = []
    from_named: list[str] = []

    def resolve(tok: Token) -> str | None:
        if tok.kind == "iri":
            iri = tok.text[1:-1]
            if base and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", iri):
                iri = base + iri
            return iri
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            return prefixes.get(prefix, f"{prefix}:") + local
        return None

    i = 0
    # Prologue: PREFIX/BASE declarations, then the first keyword says what this is.
    while i < len(toks):
        t = toks[i]
        word = t.text.upper() if t.kind == "word" else None
        if word == "PREFIX" and i + 2 < len(toks):
            prefixes[toks[i + 1].text.removesuffix(":")] = toks[i + 2].text[1:-1]
            i += 3
            continue
        if word == "BASE" and i + 1 < len(toks):
            base = toks[i + 1].text[1:-1]
            i += 2
            continue
        if word in UPDATE_KEYWORDS:
            raise UpdateRefused("SPARQL Update is not allowed: this endpoint is read-only")
        if word in QUERY_FORMS:
            form = word
        break
    for j, t in enumerate(toks):
        if t.kind == "word" and t.text.upper() in UPDATE_KEYWORDS and j and \
                toks[j - 1].text == ";":
            raise UpdateRefused("SPARQL Update is not allowed: this endpoint is read-only")
        if t.kind == "word" and t.text.upper() == "SERVICE":
            k = j + 1
            if k < len(toks) and toks[k].kind == "word" and toks[k].text.upper() == "SILENT":
                k += 1
            if k >= len(toks):
                continue
            target = toks[k]
            if target.kind == "var":
                services.append(target.text)
            elif (iri := resolve(target)) is not None:
                services.append(iri)
        elif t.kind == "word" and t.text.upper() == "FROM" and j + 1 < len(toks):
            named = toks[j + 1].kind == "word" and toks[j + 1].text.upper() == "NAMED"
            target = toks[j + 2] if named and j + 2 < len(toks) else toks[j + 1]
            if (iri := resolve(target)) is not None:
                (from_named if named else from_graphs).append(iri)
    return QueryInfo(form, services, from_graphs, from_named)


# Every word that can make a query more than a read of the default dataset (an update,
# SERVICE, FROM, BASE), looked for anywhere, even inside longer words, strings or
# comments: a query without any of them cannot be refused, so it is not lexed at all.
_MAY_MATTER = ("SERVICE", "FROM", "BASE", *sorted(UPDATE_KEYWORDS))
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def unescape_codepoints(text: str) -> str:
    """SPARQL's \\u and \\U escapes replaced by their characters (SPARQL 1.1 Query 19.2)."""
    if "\\" not in text:
        return text

    def char(m: re.Match) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF else m.group()

    return _UCHAR.sub(char, text)


def check_depth(sparql: str, limit: int) -> None:
    """Refuse groups, brackets or parentheses nested deeper than `limit` (the engine
    recurses per level and crashes a few thousand deep)."""
    if sum(sparql.count(c) for c in "{([") <= limit:
        return  # cannot be nested deeper than it has openers
    depth = deepest = 0
    for tok in tokens(sparql):
        if tok.kind == "other":
            if tok.text in "{([":
                depth += 1
                deepest = max(deepest, depth)
                if deepest > limit:
                    raise QueryTooComplex(
                        f"the query nests groups deeper than {limit} levels (at character "
                        f"{tok.pos}); flatten it")
            elif tok.text in "})]":
                depth = max(depth - 1, 0)


def service_endpoints(sparql: str) -> list[str]:
    """Every SERVICE endpoint in the parsed query: resolved IRIs, '?name' for variables."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import Variable

    try:
        algebra = translateQuery(parseQuery(sparql)).algebra
    except Exception as exc:  # noqa: BLE001 - pyparsing and rdflib raise many kinds
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ServiceRefused("the query mentions SERVICE but could not be parsed to check "
                             f"its endpoints ({first[:200]})") from None
    found: list[str] = []
    stack: list = [algebra]
    while stack:  # iterative: the algebra of a large query is deep
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                term = node.get("term")
                found.append(f"?{term}" if isinstance(term, Variable) else str(term))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def check_services(sparql: str, allowed: tuple[str, ...]) -> list[str]:
    """The query's SERVICE endpoints, all allowed; ServiceRefused naming the first that is not."""
    text = unescape_codepoints(sparql)
    # Keywords are case-insensitive; no SERVICE in the text (escapes undone) means none
    # in the query, so only the queries that mention it pay for the full parse.
    if "SERVICE" not in text.upper():
        return []
    endpoints = service_endpoints(sparql)
    for endpoint in endpoints:
        if endpoint.startswith("?"):
            raise ServiceRefused(f"SERVICE with a variable endpoint ({endpoint}) is not allowed")
        if endpoint not in allowed:
            hint = (f"allowed: {', '.join(sorted(allowed))}" if allowed
                    else "this endpoint makes no federated calls")
            raise ServiceRefused(f"SERVICE <{endpoint}> is not allowed ({hint})")
    return endpoints


def check_query(sparql: str, settings: Settings) -> QueryInfo:
    """Refuse what this read-only endpoint will not run; the query form if readable
    (None when the query needs no lexing: then only the log would have used it)."""
    check_depth(sparql, settings.query_max_depth)
    services = check_services(sparql, settings.service_allow_list)
    upper = sparql.upper()
    if not any(word in upper for word in _MAY_MATTER):
        return QueryInfo(form=None, services=services)
    info = inspect_query(sparql)
    info.services = services
    return info


def is_update(sparql: str) -> bool:
    try:
        inspect_query(sparql)
    except UpdateRefused:
        return True
    return False


SYNTAX_MESSAGE_MAX = 300  # characters: the expected-token list can run to pages


def syntax_message(exc: SyntaxError) -> str:
    """pyoxigraph's 'error at 1:25: expected ...' as a user-facing message: one line (its
    list of expected tokens can hold character ranges over several lines), cut short."""
    text = " ".join(str(exc).split()) or "invalid query"
    if len(text) > SYNTAX_MESSAGE_MAX:
        text = text[:SYNTAX_MESSAGE_MAX].rstrip() + " …"
    return f"syntax error: {text}"


def run_query(settings: Settings, sparql: str, store=None, **dataset):
    """Check and run a read query in this process over `store` (default: the settings' store)."""
    info = check_query(sparql, settings)
    store = store or open_store(settings.store, settings=settings)
    try:
        return store.query(sparql, **dataset_args(info, dataset.get("default_graph_uris"),
                                                  dataset.get("named_graph_uris")))
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc)) from None


# Serialisation ---------------------------------------------------------------

def serialize_result(result, fmt, output) -> None:
    """Write a query result in format `fmt` (a formats.Format) to a binary file-like object."""
    if isinstance(result, ox.QueryTriples):
        kwargs = {"prefixes": PREFIXES} if fmt.ox_format in (ox.RdfFormat.TURTLE,
                                                               ox.RdfFormat.TRIG) else {}
        ox.serialize(result, output, format=fmt.ox_format, **kwargs)
    else:
        result.serialize(output, format=fmt.ox_format)


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
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(names), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
