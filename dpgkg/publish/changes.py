"""The change feed's comparison: which named graphs a build added, changed and removed.

Every named graph of a build (record graphs, reference graphs, the ontology, the
shapes, the inferred and validation graphs, the build's own description) gets two
hashes: one of its content and one of its provenance (when and from which commit it
was made, what the build was), so an update says which of the two changed. A graph's
hash is order-independent (the sum of its quads' sha256 modulo 2**256, each quad
once as the graph is a set); a graph with blank nodes is canonicalised (RDFC-1.0)
first, so the same content always hashes the same. Comparing the hashes of two builds
gives the feed entry of the second one. Framework-free and file-free: the hashes and
entries are stored by :mod:`dpgkg.sources.feed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox

from dpgkg.rdf import DPG, PROV, RDF

#: Predicates that say when or from which commit a graph was made: a change of these
#: alone is a provenance change.
PROVENANCE_PREDICATES = frozenset({
    PROV.generatedAtTime, PROV.startedAtTime, PROV.endedAtTime, PROV.invalidatedAtTime,
    DPG.sourceCommit})
HASHES_FORMAT = 2
_MOD = 1 << 256


def _iri(term: ox.NamedNode) -> bytes:
    return f"<{term.value}>".encode()


_PROVENANCE = frozenset(_iri(p) for p in PROVENANCE_PREDICATES)
_TYPE, _DESCRIBES = _iri(RDF.type), _iri(DPG.describes)
_ACTIVITY = _iri(PROV.Activity) + b" ."


def _canonical_lines(quads: Iterable[ox.Quad]) -> list[bytes]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return [f"{q.subject} {q.predicate} {q.object} .".encode() for q in dataset]


def graph_lines(store: ox.Store, graph: ox.NamedNode) -> list[bytes]:
    """A graph's triples as N-Triples lines, serialised by pyoxigraph (a graph with
    blank nodes: canonicalised with RDFC-1.0 first)."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
    lines = [line for line in data.split(b"\n") if line]
    if any(line.startswith(b"_:") or b" _:" in line for line in lines):
        return _canonical_lines(store.quads_for_pattern(None, None, None, graph))
    return lines


def _sum(lines: Iterable[bytes]) -> str:
    total = 0
    for line in lines:
        total += int.from_bytes(hashlib.sha256(line).digest(), "big")
    return f"{total % _MOD:064x}"


def hash_graph(graph: str, lines: list[bytes]) -> tuple[str, str, str | None]:
    """(content sha, provenance sha, the resource it describes or None) of one graph's
    N-Triples lines (each triple once).

    Provenance: the triples of PROVENANCE_PREDICATES and every triple about a
    `prov:Activity` described in the graph (a build's description)."""
    parts = [line.split(b" ", 2) for line in lines]
    activities = {s for s, p, o in parts if p == _TYPE and o == _ACTIVITY}
    provenance = [p in _PROVENANCE or s in activities for s, p, _ in parts]
    me = f"<{graph}>".encode()
    describes = sorted(o[1:-3].decode() for s, p, o in parts
                       if p == _DESCRIBES and s == me and o.startswith(b"<"))
    return (_sum(line for line, prov in zip(lines, provenance) if not prov),
            _sum(line for line, prov in zip(lines, provenance) if prov),
            describes[0] if describes else None)


def graph_hashes(store: ox.Store) -> dict:
    """The hashes of every named graph of `store`, one graph read at a time::

        {"format": 2, "content": {graph: sha}, "provenance": {graph: sha},
         "resources": {graph: the resource it describes}}
    """
    content, provenance, resources = {}, {}, {}
    for g in sorted(store.named_graphs(), key=str):
        if not isinstance(g, ox.NamedNode):
            continue
        lines = graph_lines(store, g)
        if not lines:  # an empty graph is no graph of the dataset
            continue
        content[g.value], provenance[g.value], r = hash_graph(g.value, lines)
        if r:
            resources[g.value] = r
    return {"format": HASHES_FORMAT, "content": content, "provenance": provenance,
            "resources": resources}


def updated_hashes(store: ox.Store, previous: dict | None, removed: list[ox.Quad],
                   added: list[ox.Quad]) -> dict | None:
    """The hashes of `store` (what :func:`graph_hashes` gives), from the `previous`
    version's hashes and the quads removed from and added to it since.

    A graph's hash is a sum, so a graph the difference touches gets its removed lines'
    hashes taken off and its added lines' put on; a touched graph whose lines this cannot
    classify alone (a blank node, a prov:Activity, a dpg:describes, new or emptied) is
    hashed again whole from `store`. None when `previous` is of another format."""
    if not previous or previous.get("format") != HASHES_FORMAT:
        return None
    content, provenance = dict(previous["content"]), dict(previous["provenance"])
    resources = dict(previous.get("resources", {}))
    touched: dict[str, tuple[list, list]] = {}
    for sign, quads in ((0, removed), (1, added)):
        for q in quads:
            if isinstance(q.graph_name, ox.NamedNode):
                touched.setdefault(q.graph_name.value, ([], []))[sign].append(q.triple)
    for g, (gone, came) in sorted(touched.items()):
        lines = [_nt_lines(gone), _nt_lines(came)]
        whole = g not in content or any(
            b"_:" in line or b" " + _DESCRIBES + b" " in line or _ACTIVITY in line
            for part in lines for line in part)
        if not whole:
            node = ox.NamedNode(g)
            whole = next(store.quads_for_pattern(None, RDF.type, PROV.Activity, node),
                         None) is not None
        if whole:
            content.pop(g, None), provenance.pop(g, None), resources.pop(g, None)
            all_lines = graph_lines(store, ox.NamedNode(g))
            if all_lines:
                content[g], provenance[g], r = hash_graph(g, all_lines)
                if r:
                    resources[g] = r
            continue
        for sign, part in ((-1, lines[0]), (1, lines[1])):
            for line in part:
                kind = provenance if line.split(b" ", 2)[1] in _PROVENANCE else content
                kind[g] = _add(kind[g], line, sign)
    return {"format": HASHES_FORMAT, "content": dict(sorted(content.items())),
            "provenance": dict(sorted(provenance.items())),
            "resources": dict(sorted(resources.items()))}


def _nt_lines(triples: list) -> list[bytes]:
    if not triples:
        return []
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return [line for line in data.split(b"\n") if line]


def _add(hexsum: str, line: bytes, sign: int) -> str:
    total = int(hexsum, 16) + sign * int.from_bytes(hashlib.sha256(line).digest(), "big")
    return f"{total % _MOD:064x}"


def _content(doc: dict | None) -> dict[str, str]:
    # Before format 2 only record graphs were hashed, under "hashes", content only.
    doc = doc or {}
    return doc.get("content", doc.get("hashes", {}))


def compute_changes(previous: dict | None, current: dict) -> dict[str, list]:
    """Graphs added, changed and removed between two builds' hashes, sorted; a changed
    graph is ``(graph, "content" | "provenance")``."""
    before, after = _content(previous), _content(current)
    before_prov = (previous or {}).get("provenance", {})
    after_prov = current.get("provenance", {})
    changed = []
    for g in sorted(g for g in after if g in before):
        if before[g] != after[g]:
            changed.append((g, "content"))
        elif before_prov.get(g) != after_prov.get(g):
            changed.append((g, "provenance"))
    return {"added": sorted(g for g in after if g not in before),
            "changed": changed,
            "removed": sorted(g for g in before if g not in after)}


def changes_document(version: str, previous_version: str | None, previous: dict | None,
                     current: dict, built_at: str | None = None) -> dict:
    """The feed entry of one build: the graphs it added, changed (saying what) and
    removed, with the resources they describe."""
    changes = compute_changes(previous, current)
    resources = {**(previous or {}).get("resources", {}), **current.get("resources", {})}

    def item(g: str, **extra) -> dict:
        return {"graph": g, **({"resource": resources[g]} if g in resources else {}), **extra}

    return {
        "version": version,
        "previous": previous_version,
        "built": built_at,
        "added": [item(g) for g in changes["added"]],
        "changed": [item(g, changed=what) for g, what in changes["changed"]],
        "removed": [item(g) for g in changes["removed"]],
    }


def change_counts(entry: dict) -> dict:
    """For the build summary: graphs added, changed in content, changed in provenance
    only, and removed."""
    changed = entry.get("changed", [])
    content = sum(1 for c in changed if c.get("changed", "content") == "content")
    return {"added": len(entry.get("added", [])), "changed": content,
            "provenance": len(changed) - content, "removed": len(entry.get("removed", []))}
