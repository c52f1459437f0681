"""Remote store spec strings: which endpoints a kind of store answers at, and how a
version is published to it (see docs/remote-stores.md)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field

# A version in one update request is ~170 bytes a triple; the Oxigraph server refuses
# a SPARQL body over 128 MB. Larger versions go by LOAD (Oxigraph) or staged (other
# stores with a Graph Store endpoint): `Endpoints.large`.
REQUEST_MAX_TRIPLES = 500_000


PUBLISH_MODES = ("request", "load", "staged")


_PROLOGUE = re.compile(r"(?:\s*(?:(?:#[^\n]*\n?)|(?:PREFIX\s+[^:\s]*:\s*<[^>]*>)|(?:BASE\s*<[^>]*>)"
                       r"|(?:DEFINE\s+\S+\s+(?:\"[^\"]*\"|'[^']*'|<[^>]*>|\S+))))*\s*", re.IGNORECASE)


_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read after the prologue."""
    m = _FORM.match(sparql, _PROLOGUE.match(sparql).end())
    if not m:
        raise SyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return m.group(1).upper()


# SPARQL 1.1 Query 19.2: \u and \U escapes stand for their character anywhere in a query,
# keywords included, and are replaced before it is parsed.
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


# A keyword followed (after white space and comments) by what can follow it: a variable,
# an IRI, a prefixed name or, after FROM, NAMED. Strings, comments and IRIs are not
# stripped first, so a match in one is a false yes, which only costs speed (an IRI cannot
# hold a keyword and the white space after it).
_GAP = r"(?:\s|#[^\n\r]*)*"
_AFTER = r"(?:[?$<:]|[A-Za-z\u00c0-\uffff][\w\u00b7\u00c0-\uffff.-]*:)"
_GRAPH = re.compile(rf"GRAPH{_GAP}{_AFTER}", re.IGNORECASE)
_FROM = re.compile(rf"FROM{_GAP}(?:NAMED\b|{_AFTER})", re.IGNORECASE)


def _unescaped(sparql: str) -> str:
    if "\\" not in sparql:
        return sparql
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)


def _has_keyword(keyword: re.Pattern, sparql: str) -> bool:
    """Whether `keyword` occurs where it is not the end of a variable, a prefixed or blank
    node name, or an IRI's path. A keyword can follow a word directly (`?s ?p trueGRAPH ?g
    {...}` parses), so only what comes before that word decides."""
    text = _unescaped(sparql)
    for m in keyword.finditer(text):
        start = m.start()
        while start and (text[start - 1].isalnum() or text[start - 1] in "_\u00b7"):
            start -= 1
        if start == 0 or text[start - 1] not in "?$:/#":
            return True
    return False


def uses_graph(sparql: str) -> bool:
    """Whether a query may use GRAPH (it sees named graphs); a false yes costs speed only."""
    return _has_keyword(_GRAPH, sparql)


def names_dataset(sparql: str) -> bool:
    """Whether a query may name its own dataset (FROM or FROM NAMED)."""
    return _has_keyword(_FROM, sparql)


def redact(url: str) -> str:
    """The URL without user:password@, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _strip_userinfo(url: str) -> tuple[str, str | None, str | None]:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return (urllib.parse.urlunsplit(parts._replace(netloc=host)),
            urllib.parse.unquote(user) or None, urllib.parse.unquote(password) or None)


@dataclass
class Endpoints:
    """Where one kind of store answers, and what it needs besides the standard."""

    kind: str
    query: str
    update: str
    gsp: str | None = None
    # form parameters that make the default graph the union of the named graphs (read
    # from a store an earlier dpgkg wrote, until it is published again)
    union_params: dict = field(default_factory=dict)
    url: str = ""
    # "request": a version in one update request (INSERT DATA);
    # "load": one update request of LOADs, fetching each graph from this process;
    # "staged": staging graphs + one swap request
    publish: str = "request"
    # how a "request" version too large for one request body goes: "load" or "staged"
    large: str = "staged"
    # Readers check the control graph before and after each query (Virtuoso, whose
    # read-committed readers can see a large transaction half committed).
    guard: bool = False
    # How a query that names no dataset is kept to the version served (docs/remote-stores.md,
    # "What queries see"; the control graph is a named graph either way):
    # "merge" (the Oxigraph server, Virtuoso): the swap request also writes the RDF merge of the
    # version's graphs into the named graph MERGE, a query's default graph; a query that
    # uses GRAPH also gets the version's graphs as its named graphs;
    # "listed" (other stores): the version's graphs as its default and named graphs.
    bookkeeping: str = "listed"


def parse_spec(spec: str, *, authenticated: bool = False) -> Endpoints:
    """The endpoints named by a spec string (without credentials)."""
    kind, sep, url = spec.partition("+")
    if not sep or not url.startswith(("http://", "https://")):
        kind, url = "sparql", spec
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not a remote store spec: {redact(spec)!r}")
    kind = kind.lower()
    if kind in ("oxigraph", "virtuoso"):
        parts = urllib.parse.urlsplit(url)
        params = dict(urllib.parse.parse_qsl(parts.query))
        publish = params.pop("publish", None)
        if params:
            raise ValueError(f"unknown spec parameters {sorted(params)} in {redact(spec)!r}")
        base = urllib.parse.urlunsplit(parts._replace(query="")).rstrip("/")
    if kind == "oxigraph":
        e = Endpoints(kind, f"{base}/query", f"{base}/update", f"{base}/store",
                      {"union-default-graph": ""}, base, large="load", bookkeeping="merge")
        e.publish = _publish_mode(publish or e.publish)
        return e
    if kind == "virtuoso":
        # Anonymous /sparql cannot write; /sparql-auth takes digest auth (e.g. dba).
        auth = "-auth" if authenticated else ""
        e = Endpoints(kind, f"{base}/sparql", f"{base}/sparql{auth}",
                      f"{base}/sparql-graph-crud{auth}", {}, base, "staged", guard=True,
                      bookkeeping="merge")
        e.publish = _publish_mode(publish or e.publish)
        if e.publish == "load":  # its LOAD commits on its own, outside the request
            raise ValueError("publish=load: Virtuoso's LOAD is not part of the update "
                             "request's transaction (use staged or request)")
        return e
    if kind == "sparql":
        parts = urllib.parse.urlsplit(url)
        params = dict(urllib.parse.parse_qsl(parts.query))
        base = urllib.parse.urlunsplit(parts._replace(query=""))
        query = params.pop("query", base)
        update = params.pop("update", query)
        gsp = params.pop("gsp", None)
        publish = _publish_mode(params.pop("publish", "request"))
        if params:
            raise ValueError(f"unknown spec parameters {sorted(params)} in {redact(spec)!r}")
        return Endpoints(kind, query, update, gsp, {}, base, publish)
    raise ValueError(f"unknown store kind {kind!r} in {redact(spec)!r} "
                     "(oxigraph+, virtuoso+, sparql+ or a plain http(s) URL)")


def _publish_mode(publish: str) -> str:
    if publish not in PUBLISH_MODES:
        raise ValueError(f"publish={publish!r}: expected request, load or staged")
    return publish
