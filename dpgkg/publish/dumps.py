"""Whole-graph dumps written with pyoxigraph after each build, and the change feed.

Layout, beside the store versions::

    <store>/dumps/<version>/dpgkg.nt.gz     the union graph, N-Triples, gzipped
    <store>/dumps/<version>/dpgkg.ttl       the union graph, Turtle
    <store>/dumps/<version>/dpgkg.jsonld    every named graph, JSON-LD
    <store>/dumps/<version>/dpgkg.trig      every named graph, TriG (provenance kept)
    <store>/dumps/<version>/dumps.json      [DumpInfo] of the files above
    <store>/dumps/<version>/graph-hashes.json    {graph IRI: hashes} for the change feed
    <store>/dumps/<version>/changes.json    what changed since the previous build
    <store>/dumps/<version>/graph-digests.json   {graph IRI: sha256} of the harvested
                                            graphs, for the next build (its graphs' times)
    <store>/dumps/<version>/void.json       the VoID counts of the graph

A build writes all of it before its version is served (`publish_dumps`, called by the
store writer between writing the version and swapping it in), so ``/dumps/`` always
lists the dumps of the version served: the files are written into a hidden folder,
``.<version>.partial/``, renamed to ``<version>/`` once complete, and the build holds
``.<version>.lock`` (an ``flock``) until its swap is done. Whatever a build killed on
the way leaves (a partial folder, ``*.tmp`` files, the dumps of a version never
served) is removed by the next build that publishes (`clean_unfinished`).
`after_build(settings, report)` publishes a version already served (the same files).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from dpgkg.publish.catalogue.vocab import CATALOGUE_PREFIXES
from dpgkg.publish.catalogue.void import count_void_statistics, count_void_statistics_nt
from dpgkg.publish.changes import (
    change_counts,
    changes_document,
    graph_hashes,
    updated_hashes,
)
from dpgkg.publish.formats import DUMP_FORMATS
from dpgkg.sources import feed
from dpgkg.store import is_remote, open_store
from dpgkg.store.embedded import MERGE_QUERY, has_merge, named_quads, served_version

log = logging.getLogger(__name__)

VOID_STATISTICS = "void.json"
KEEP_DUMPS = 3  # dump files of older builds are deleted; their small JSON files stay


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
    Each dump is written by a thread of its own: pyoxigraph and zlib let go of the GIL
    for much of their work (four threads: ~0.45 s at 1x against ~0.85 s one by one).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if merged_nt is None:
        if has_merge(store):
            merged_nt = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        else:
            merged_nt = ox.serialize(store.query(MERGE_QUERY), format=ox.RdfFormat.N_TRIPLES)
    with ThreadPoolExecutor(len(DUMP_FORMATS)) as pool:
        futures = [pool.submit(_write_dump, store, merged_nt, fmt, out)
                   for fmt in DUMP_FORMATS.values()]
        written = {f.result().name: f.result() for f in futures}
    infos = [DumpInfo(written[name], fmt.media_type, written[name].stat().st_size,
                      _sha256(written[name])) for name, fmt in DUMP_FORMATS.items()]
    (out / "dumps.json").write_text(json.dumps([i.to_json() for i in infos], indent=1))
    return infos


def _write_dump(store: ox.Store, merged_nt: bytes, fmt, out: Path) -> Path:
    """One dump: the named graphs (a quad format) or their merge, written to a temporary
    file renamed into place."""
    path = out / fmt.name
    tmp = path.with_name(path.name + ".tmp")
    if fmt.quads:
        # A version read back from disk holds its merge as the default graph: leave it out.
        if has_merge(store):
            ox.serialize(named_quads(store), str(tmp), format=fmt.rdf,
                         prefixes=CATALOGUE_PREFIXES)
        else:
            store.dump(str(tmp), format=fmt.rdf, prefixes=CATALOGUE_PREFIXES)
    elif fmt.gzipped:
        # mtime=0 so the same graph gives the same bytes (and checksum); level 6
        # compresses within 3% of 9 in half the time.
        with open(tmp, "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
            gz.write(merged_nt)
    else:
        ox.serialize(ox.parse(merged_nt, format=ox.RdfFormat.N_TRIPLES),
                     str(tmp), format=fmt.rdf, prefixes=CATALOGUE_PREFIXES)
    os.replace(tmp, path)
    return path


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


def publish_version(store: ox.Store, root: Path, version: str, built_at: str | None = None,
                    merged_nt: bytes | None = None, difference=None,
                    digests: dict | None = None) -> dict:
    """Dumps, graph hashes and the change feed entry of one build; returns the entry.

    `difference`: (version, quads removed, quads added) when the store is that version
    changed by those quads, or a function giving that (or None) when asked; the graph
    hashes are then the previous version's updated (:func:`updated_hashes`), not computed
    again over every graph. `digests`: those of
    the harvested graphs (:func:`dpgkg.incremental.graph_digests`), kept for the next build.
    Written into ``.<version>.partial/`` and renamed to ``<version>/`` when complete."""
    out = root / f".{version}.partial"
    shutil.rmtree(out, ignore_errors=True)
    try:
        previous_version, previous = feed.previous_hashes(root, version)

        def hashes_now() -> dict:
            diff = difference() if callable(difference) else difference
            if diff is not None and diff[0] == previous_version:
                updated = updated_hashes(store, previous, diff[1], diff[2])
                if updated is not None:
                    return updated
            return graph_hashes(store)

        with ThreadPoolExecutor(2) as side:  # the counts and hashes beside the dumps
            stats = side.submit(count_void_statistics,
                                lambda q: store.query(q, use_default_graph_as_union=True)
                                ) if merged_nt is None else side.submit(
                                    count_void_statistics_nt, merged_nt)
            hashes = side.submit(hashes_now)
            infos = write_dumps(store, out, merged_nt)
            stats, current = stats.result(), hashes.result()
        (out / VOID_STATISTICS).write_text(json.dumps(stats))
        entry = changes_document(version, previous_version, previous, current, built_at)
        feed.write_version(out, current, entry, digests)
        final, old = root / version, root / f".{version}.old"
        if final.exists():  # published again (a version served already): replace it
            shutil.rmtree(old, ignore_errors=True)
            os.rename(final, old)
        os.rename(out, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    infos = [DumpInfo(root / version / i.path.name, i.media_type, i.bytes, i.sha256)
             for i in infos]
    _prune(root, version)
    log.info("dumps written: %s", ", ".join(f"{i.path.name} ({i.bytes} B)" for i in infos))
    return entry


def _prune(root: Path, keep_version: str) -> None:
    """Delete the big dump files and graph hashes of old builds; keep their change entries."""
    for old in feed.built_versions(root)[:-KEEP_DUMPS]:
        if old == keep_version:
            continue
        # The feed entries stay (the feed is the whole history); the graph hashes only
        # serve to compare the next build, and are 2-3 times their size.
        for name in [*DUMP_FORMATS, "dumps.json", feed.HASHES, feed.LEGACY_HASHES,
                     feed.DIGESTS]:
            (root / old / name).unlink(missing_ok=True)


def _lock_path(root: Path, version: str) -> Path:
    return root / f".{version}.lock"


@contextlib.contextmanager
def publishing(store_spec: str, version: str) -> Iterator[None]:
    """Hold the lock of a build publishing `version` (no other build cleans its files)."""
    root = dumps_root(store_spec)
    if root is None:
        yield
        return
    root.mkdir(parents=True, exist_ok=True)
    path = _lock_path(root, version)
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _held(root: Path, version: str) -> bool:
    """Whether a live build holds the lock of `version` (a killed one holds nothing)."""
    try:
        fd = os.open(_lock_path(root, version), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def clean_unfinished(root: Path, served: str | None, own: str | None = None) -> list[str]:
    """Remove what builds killed on the way left; returns the names removed.

    That is: partial folders and stale locks, ``*.tmp`` files, and the dumps of a version
    newer than the one served (it was never swapped in), unless a live build holds them.
    """
    removed = []
    if not root.is_dir():
        return removed
    for p in sorted(root.iterdir()):
        version = p.name[1:].rsplit(".", 1)[0] if p.name.startswith(".") else p.name
        if version == own or _held(root, version):
            continue
        if p.name.startswith("."):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p.name)
        elif p.is_dir() and (served is None or version > served):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
        elif p.is_dir():
            for tmp in p.glob("*.tmp"):
                tmp.unlink(missing_ok=True)
                removed.append(f"{p.name}/{tmp.name}")
    if removed:
        log.info("removed what unfinished builds left: %s", ", ".join(removed))
    return removed


def publish_dumps(settings, version: str, committed: ox.Store | None = None,
                  merged_nt: bytes | None = None, difference=None,
                  digests: dict | None = None) -> dict | None:
    """Dumps + change feed entry of `version` (None for a remote store, which has none).

    `committed`, `merged_nt`: the version as the in-memory store the build staged (about
    ten times faster to read than the store on disk) and its merge as the build wrote
    it; else the version served is opened. Call it holding :func:`publishing`.
    """
    root = dumps_root(settings.store)
    if root is None:
        return None
    if committed is None:
        committed = open_store(settings.store).oxigraph()
    built_at = None
    rows = list(committed.query(
        "SELECT (MAX(?t) AS ?t) { GRAPH ?g { ?b <http://www.w3.org/ns/prov#endedAtTime> ?t } }"))
    if rows and rows[0]["t"] is not None:
        built_at = rows[0]["t"].value
    clean_unfinished(root, served_version(settings.store), own=version)
    return publish_version(committed, root, version, built_at, merged_nt, difference, digests)


def after_build(settings, report, committed: ox.Store | None = None,
                merged_nt: bytes | None = None) -> list[DumpInfo]:
    """Dumps + change feed of `report.version`, a version served already (the build
    itself publishes before its swap: :func:`publish_dumps`)."""
    root = dumps_root(settings.store)
    if root is None or not report.version:
        return []
    with publishing(settings.store, report.version):
        entry = publish_dumps(settings, report.version, committed, merged_nt)
    if hasattr(report, "extra"):
        report.extra["changes"] = change_counts(entry)
    return read_dumps(root, report.version)
