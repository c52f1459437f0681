"""Whole-graph dumps written with pyoxigraph after each build, and the change feed.

Layout, beside the store versions::

    <store>/dumps/<version>/dpgkg.nt.gz     the union graph, N-Triples, gzipped
    <store>/dumps/<version>/dpgkg.ttl       the union graph, Turtle
    <store>/dumps/<version>/dpgkg.jsonld    every named graph, JSON-LD
    <store>/dumps/<version>/dpgkg.trig      every named graph, TriG (provenance kept)
    <store>/dumps/<version>/dumps.json      [DumpInfo] of the files above
    <store>/dumps/<version>/record-hashes.json   {graph IRI: hash} for the change feed
    <store>/dumps/<version>/changes.json    what changed since the previous build
    <store>/dumps/<version>/void.json       the VoID counts of the graph

`after_build(settings, report, committed)` writes all of it; the build calls it after the
swap, with the version it staged in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from dpgkg.publish.catalogue import CATALOGUE_PREFIXES, FORMATS, count_void_statistics
from dpgkg.publish.changes import changes_document, record_hashes
from dpgkg.store import is_remote, open_store
from dpgkg.store.embedded import MERGE_QUERY, has_merge, named_quads

log = logging.getLogger(__name__)

VOID_STATISTICS = "void.json"
KEEP_DUMPS = 3  # dump files of older builds are deleted; their small JSON files stay


@dataclass(frozen=True)
class DumpFormat:
    name: str
    format_ext: str  # key in dpgkg.publish.catalogue.FORMATS
    label: str
    description: str
    rdf: ox.RdfFormat
    quads: bool
    gzipped: bool = False


DUMP_FORMATS: dict[str, DumpFormat] = {f.name: f for f in [
    DumpFormat("dpgkg.nt.gz", "nt", "N-Triples, gzip",
               "Every distinct triple of the graph (the union of its named graphs).",
               ox.RdfFormat.N_TRIPLES, quads=False, gzipped=True),
    DumpFormat("dpgkg.ttl", "ttl", "Turtle",
               "Every distinct triple of the graph (the union of its named graphs).",
               ox.RdfFormat.TURTLE, quads=False),
    DumpFormat("dpgkg.jsonld", "jsonld", "JSON-LD",
               "Every named graph with its provenance, as JSON-LD.",
               ox.RdfFormat.JSON_LD, quads=True),
    DumpFormat("dpgkg.trig", "trig", "TriG",
               "Every named graph with its provenance, as TriG.",
               ox.RdfFormat.TRIG, quads=True),
]}


@dataclass(frozen=True)
class DumpInfo:
    path: Path
    media_type: str
    bytes: int
    sha256: str

    def to_json(self) -> dict:
        d = asdict(self)
        d["path"] = self.path.name
        return d


def _media_type(fmt: DumpFormat) -> str:
    return "application/gzip" if fmt.gzipped else FORMATS[fmt.format_ext].media_type


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_dumps(store: ox.Store, out_dir: str | os.PathLike, merged_nt: bytes | None = None
                ) -> list[DumpInfo]:
    """Write every dump of `store` (a pyoxigraph store) into `out_dir`.

    The quad dumps hold the named graphs, the triple dumps their merge: `merged_nt` as
    the build wrote it, else the default graph of a store that holds it, else computed.
    The merge is written once as plain N-Triples, which the gzipped dump compresses
    and the Turtle dump re-reads; meanwhile a second thread writes the quad dumps
    (pyoxigraph and zlib release the GIL while they work).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(2) as pool:
        union = pool.submit(_write_union_dumps, store, merged_nt, out)
        quads = pool.submit(_write_quad_dumps, store, out)
        written = {**union.result(), **quads.result()}
    infos = [DumpInfo(written[name], _media_type(fmt), written[name].stat().st_size,
                      _sha256(written[name])) for name, fmt in DUMP_FORMATS.items()]
    (out / "dumps.json").write_text(json.dumps([i.to_json() for i in infos], indent=1))
    return infos


def _replace(tmp: Path, path: Path) -> dict[str, Path]:
    os.replace(tmp, path)
    return {path.name: path}


def _write_quad_dumps(store: ox.Store, out: Path) -> dict[str, Path]:
    # A version read back from disk holds its merge as the default graph: leave it out.
    merged = has_merge(store)
    written = {}
    for fmt in DUMP_FORMATS.values():
        if fmt.quads:
            path = out / fmt.name
            tmp = path.with_name(path.name + ".tmp")
            if merged:
                ox.serialize(named_quads(store), str(tmp), format=fmt.rdf,
                             prefixes=CATALOGUE_PREFIXES)
            else:
                store.dump(str(tmp), format=fmt.rdf, prefixes=CATALOGUE_PREFIXES)
            written |= _replace(tmp, path)
    return written


def _write_union_dumps(store: ox.Store, merged_nt: bytes | None, out: Path
                       ) -> dict[str, Path]:
    union_nt = out / "union.nt.tmp"
    written = {}
    try:
        if merged_nt is not None:
            union_nt.write_bytes(merged_nt)
        elif has_merge(store):
            store.dump(str(union_nt), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        else:
            store.query(MERGE_QUERY).serialize(str(union_nt), format=ox.RdfFormat.N_TRIPLES)
        for fmt in DUMP_FORMATS.values():
            if fmt.quads:
                continue
            path = out / fmt.name
            tmp = path.with_name(path.name + ".tmp")
            if fmt.gzipped:
                # mtime=0 so the same graph gives the same bytes (and checksum); level 6
                # compresses within 3% of 9 in half the time.
                with open(union_nt, "rb") as src, open(tmp, "wb") as raw, \
                        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
                    while block := src.read(1 << 20):
                        gz.write(block)
            else:
                ox.serialize(ox.parse(path=str(union_nt), format=ox.RdfFormat.N_TRIPLES),
                             str(tmp), format=fmt.rdf, prefixes=CATALOGUE_PREFIXES)
            written |= _replace(tmp, path)
    finally:
        union_nt.unlink(missing_ok=True)
    return written


def dumps_root(store_spec: str) -> Path | None:
    """Where dumps live for a store setting: beside an embedded store, else nowhere."""
    if is_remote(store_spec):
        return None
    return Path(store_spec) / "dumps"


def read_dumps(root: Path | None, version: str) -> list[DumpInfo]:
    """The dumps of one build, as `write_dumps` listed them ([] when not written)."""
    if root is None:
        return []
    index = root / version / "dumps.json"
    try:
        rows = json.loads(index.read_text())
    except (OSError, ValueError):
        return []
    return [DumpInfo(root / version / r["path"], r["media_type"], r["bytes"], r["sha256"])
            for r in rows if (root / version / r["path"]).is_file()]


def built_versions(root: Path | None) -> list[str]:
    """Build versions with something published beside them, oldest first."""
    if root is None or not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _previous_hashes(root: Path, version: str) -> tuple[str | None, dict | None]:
    for prev in reversed([v for v in built_versions(root) if v < version]):
        try:
            return prev, json.loads((root / prev / "record-hashes.json").read_text())
        except (OSError, ValueError):
            continue
    return None, None


def publish_version(store: ox.Store, root: Path, version: str, built_at: str | None = None,
                    merged_nt: bytes | None = None) -> dict:
    """Dumps, record hashes and the change feed entry of one build; returns the entry."""
    out = root / version
    with ThreadPoolExecutor(1) as side:  # the counts and hashes beside the dumps
        stats = side.submit(count_void_statistics,
                            lambda q: store.query(q, use_default_graph_as_union=True))
        hashes = side.submit(record_hashes, store)
        infos = write_dumps(store, out, merged_nt)
        stats, current = stats.result(), hashes.result()
    (out / VOID_STATISTICS).write_text(json.dumps(stats))
    (out / "record-hashes.json").write_text(json.dumps(current, indent=0, sort_keys=True))
    previous_version, previous = _previous_hashes(root, version)
    entry = changes_document(version, previous_version, previous, current, built_at)
    (out / "changes.json").write_text(json.dumps(entry, indent=1))
    _prune(root, version)
    log.info("dumps written: %s", ", ".join(f"{i.path.name} ({i.bytes} B)" for i in infos))
    return entry


def _prune(root: Path, keep_version: str) -> None:
    """Delete the big dump files of old builds; keep their hashes and change entries."""
    for old in built_versions(root)[:-KEEP_DUMPS]:
        if old == keep_version:
            continue
        for name in [*DUMP_FORMATS, "dumps.json"]:
            (root / old / name).unlink(missing_ok=True)


def after_build(settings, report, committed: ox.Store | None = None,
                merged_nt: bytes | None = None) -> list[DumpInfo]:
    """Called by the build after a successful swap: dumps + change feed of `report.version`.

    `committed`, `merged_nt`: the version just swapped in, as the in-memory store the
    build staged (about ten times faster to read than the store on disk), and its
    merge as the build wrote it; else the version is opened.
    """
    root = dumps_root(settings.store)
    if root is None or not report.version:
        return []
    if committed is None:
        committed = open_store(settings.store).oxigraph()
    built_at = None
    rows = list(committed.query(
        "SELECT (MAX(?t) AS ?t) { GRAPH ?g { ?b <http://www.w3.org/ns/prov#endedAtTime> ?t } }"))
    if rows and rows[0]["t"] is not None:
        built_at = rows[0]["t"].value
    entry = publish_version(committed, root, report.version, built_at, merged_nt)
    if hasattr(report, "extra"):
        report.extra["changes"] = {k: len(entry[k]) for k in ("added", "changed", "removed")}
    return read_dumps(root, report.version)
