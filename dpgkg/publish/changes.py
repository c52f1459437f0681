"""The change feed: which record graphs a build added, changed and removed.

Each record graph (a named graph that describes itself as `dpg:RecordGraph`) is
hashed over its sorted N-Triples without `prov:generatedAtTime`, which changes at
every build whatever the content. Comparing the hashes of two builds gives the feed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from dpgkg.rdf import DPG, PROV, RDF

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
IGNORED_PREDICATES = {PROV.generatedAtTime}


def compute_changes(previous_hashes: dict[str, str], current_hashes: dict[str, str]
                    ) -> dict[str, list[str]]:
    """Keys added, changed (different hash) and removed between two builds, sorted."""
    return {
        "added": sorted(k for k in current_hashes if k not in previous_hashes),
        "changed": sorted(k for k, h in current_hashes.items()
                          if k in previous_hashes and previous_hashes[k] != h),
        "removed": sorted(k for k in previous_hashes if k not in current_hashes),
    }


def hash_lines(lines) -> str:
    """sha256 of the sorted, newline-joined N-Triples lines."""
    h = hashlib.sha256()
    for line in sorted(set(lines)):
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()


def graph_lines(quads) -> dict[str, list[str]]:
    """N-Triples lines per graph IRI, leaving out the provenance timestamps."""
    lines: dict[str, list[str]] = defaultdict(list)
    for q in quads:
        if q.predicate in IGNORED_PREDICATES or not isinstance(q.graph_name, ox.NamedNode):
            continue
        lines[q.graph_name.value].append(f"{q.subject} {q.predicate} {q.object} .")
    return lines


def record_graphs(store: ox.Store) -> dict[str, str | None]:
    """Record graph IRI -> the resource it describes (None for reference graphs)."""
    out: dict[str, str | None] = {}
    for q in store.quads_for_pattern(None, RDF.type, DPG.RecordGraph, None):
        if q.subject == q.graph_name:
            out.setdefault(q.subject.value, None)
    for q in store.quads_for_pattern(None, DPG.describes, None, None):
        if q.subject == q.graph_name and q.subject.value in out:
            out[q.subject.value] = min(filter(None, [out[q.subject.value], q.object.value]))
    return out


def record_hashes(store: ox.Store) -> dict:
    """{"hashes": {graph: sha256}, "resources": {graph: described resource}} of every record."""
    graphs = record_graphs(store)
    lines = graph_lines(q for g in graphs
                        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    return {"hashes": {g: hash_lines(lines.get(g, [])) for g in sorted(graphs)},
            "resources": {g: r for g, r in sorted(graphs.items()) if r}}


def _hashes(doc: dict | None) -> dict[str, str]:
    return (doc or {}).get("hashes", {})


def changes_document(version: str, previous_version: str | None, previous: dict | None,
                     current: dict, built_at: str | None = None) -> dict:
    """The feed entry of one build: record graphs and the resources they describe."""
    changes = compute_changes(_hashes(previous), _hashes(current))
    resources = {**(previous or {}).get("resources", {}), **current.get("resources", {})}
    return {
        "version": version,
        "previous": previous_version,
        "built": built_at,
        **{kind: [{"graph": g, **({"resource": resources[g]} if g in resources else {})}
                  for g in keys] for kind, keys in changes.items()},
    }


def read_feed(root: Path | None, limit: int = 50) -> list[dict]:
    """The change entries of the latest builds, newest first."""
    if root is None or not root.is_dir():
        return []
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                    reverse=True):
        try:
            out.append(json.loads((d / "changes.json").read_text()))
        except (OSError, ValueError):
            continue
        if len(out) >= limit:
            break
    return out


AS_TYPES = {"added": "Create", "changed": "Update", "removed": "Delete"}


def activity_stream(feed: list[dict], feed_url: str) -> dict:
    """The feed as an ActivityStreams 2.0 OrderedCollection of Create/Update/Delete."""
    items = []
    for entry in feed:
        for kind, as_type in AS_TYPES.items():
            for item in entry.get(kind, []):
                obj = item.get("resource") or item["graph"]
                activity = {"type": as_type, "object": obj, "target": item["graph"],
                            "summary": f"build {entry['version']}: {kind} {obj}"}
                if entry.get("built"):
                    activity["published"] = entry["built"]
                items.append(activity)
    return {"@context": AS_CONTEXT, "id": feed_url, "type": "OrderedCollection",
            "totalItems": len(items), "orderedItems": items}
