"""A resource's JSON-LD: its description's triples, nested, compacted by pyld.

Lossless by construction: the triples of a `Description` (the very triples its Turtle
serialises) become expanded JSON-LD one for one, the nodes the resource links to nested
under it where first referenced (a node referenced twice is embedded once, then named
by its ``@id``, as JSON-LD framing with ``@embed: @once`` would); pyld then compacts
that against the published context (``ontology/context.jsonld``, served at
``/context.jsonld``). The context is loaded from the package, never over the network:
pyld's document loader here knows that one document and refuses every other.

Compaction costs pyld 10-100 ms for a DPG, so each document is compacted once per
store version and kept (`JsonLdCache`); the views serve the kept bytes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache

import pyoxigraph as ox
from pyld import jsonld
from pyld.jsonld import JsonLdError

from dpgkg.config import ONTOLOGY_DIR

CONTEXT_FILE = ONTOLOGY_DIR / "context.jsonld"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_STRING, _BOOLEAN, _INTEGER = _XSD + "string", _XSD + "boolean", _XSD + "integer"


@lru_cache(maxsize=1)
def published_context() -> dict:
    """The context document published at /context.jsonld (read once; it ships with us)."""
    return json.loads(CONTEXT_FILE.read_text())


def document_loader(context_url: str):
    """A pyld document loader that serves the published context at `context_url`, and
    refuses every other URL (nothing is fetched while serving)."""

    def load(url: str, options=None) -> dict:
        if url != context_url:
            raise JsonLdError(
                f"only {context_url} is loaded here, not {url}",
                "jsonld.LoadDocumentError",
                code="loading document failed",
            )
        return {"contextUrl": None, "documentUrl": url, "document": published_context()}

    return load


def _value(term) -> dict:
    """An RDF term as an expanded JSON-LD value (native JSON only where it round-trips)."""
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": "_:" + term.value}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    dt = term.datatype.value
    if dt == _STRING:
        return {"@value": term.value}
    if dt == _BOOLEAN and term.value in ("true", "false"):
        return {"@value": term.value == "true"}
    if dt == _INTEGER and term.value.lstrip("-").isdigit() and str(int(term.value)) == term.value:
        return {"@value": int(term.value)}
    return {"@value": term.value, "@type": dt}


def _id(term) -> str:
    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


def _sort_key(v: dict) -> tuple:
    return (
        "@id" not in v,
        str(v.get("@id", v.get("@value"))),
        v.get("@language", ""),
        v.get("@type", ""),
    )


def expanded(triples: list[ox.Triple], root: str) -> list[dict]:
    """The triples as expanded JSON-LD: `root` first with what it links to nested in it.

    Every triple becomes exactly one property value; nodes nobody links to (or only in a
    cycle) stay at the top level. Values are sorted, so the document is stable.
    """
    nodes: dict[str, dict] = {}
    for t in triples:
        s = _id(t.subject)
        node = nodes.setdefault(s, {"@id": s})
        p = t.predicate.value
        if p == _RDF_TYPE and not isinstance(t.object, ox.Literal):
            types = node.setdefault("@type", [])
            if _id(t.object) not in types:
                types.append(_id(t.object))
            continue
        values = node.setdefault(p, [])
        v = _value(t.object)
        if v not in values:
            values.append(v)
    for node in nodes.values():
        for key, values in node.items():
            if key == "@type":
                values.sort()
            elif key != "@id":
                values.sort(key=_sort_key)
    # Breadth first: a node is nested where the root reaches it soonest.
    placed: set[str] = set()
    top: list[dict] = []
    for start in [root, *sorted(nodes)]:
        if start not in nodes or start in placed:
            continue
        placed.add(start)
        top.append(nodes[start])
        queue = [nodes[start]]
        while queue:
            node = queue.pop(0)
            for key, values in node.items():
                if key in ("@id", "@type"):
                    continue
                for i, v in enumerate(values):
                    ref = v.get("@id")
                    if ref is not None and ref in nodes and ref not in placed:
                        placed.add(ref)
                        values[i] = nodes[ref]
                        queue.append(nodes[ref])
    return top


def compact(triples: list[ox.Triple], root: str, context_url: str) -> dict:
    """The triples as one compacted JSON-LD document (the root node, or an @graph)."""
    options = {"documentLoader": document_loader(context_url), "skipExpansion": True, "base": ""}
    return jsonld.compact(expanded(triples, root), context_url, options)


class JsonLdCache:
    """Compacted documents as bytes, per (store version, resource, context URL), least
    recently used dropped past `max_bytes`. Thread-safe; a new store version empties it."""

    def __init__(self, max_bytes: int = 64 << 20):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._size = 0
        self._version: object = None

    def get(self, version: object, key: tuple) -> bytes | None:
        with self._lock:
            if version != self._version:
                return None
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, version: object, key: tuple, body: bytes) -> None:
        with self._lock:
            if version != self._version:
                self._items.clear()
                self._size, self._version = 0, version
            if key in self._items or len(body) > self.max_bytes:
                return
            self._items[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)


_cache = JsonLdCache()


def document_bytes(
    version: object, key: tuple, triples_of, root: str, context_url: str
) -> bytes | None:
    """The compacted document of `root` as UTF-8 JSON, from the cache or made now.

    `triples_of()` gives the description's triples (None: nothing known, not cached).
    """
    full_key = (*key, context_url)
    body = _cache.get(version, full_key)
    if body is None:
        triples = triples_of()
        if triples is None:
            return None
        doc = compact(triples, root, context_url)
        body = json.dumps(doc, ensure_ascii=False, indent=1).encode()
        _cache.put(version, full_key, body)
    return body
