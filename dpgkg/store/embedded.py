"""The embedded store: pyoxigraph (RocksDB) on disk, one directory per version.

Layout of ``--store PATH``::

    PATH/current          -> versions/<id>   (symlink, swapped atomically)
    PATH/versions/<id>/   one complete store per successful build

A build stages the new version in memory (it needs about 0.5 kB of RAM per quad),
writes it to a new version directory and only then replaces the symlink with
``os.replace``, so readers see the old graph or the new one, never a mix, and a
failed build leaves the previous graph in place. Readers notice a new version
by reading the symlink (one system call) and reopen.

A version holds the named graphs and, in its default graph, their RDF merge: each
distinct triple once. Queries without a dataset read that default graph. Oxigraph's
own union default graph gives a triple once *per graph it is in* (oxigraph#1919,
fixed after 0.5.13): an organisation named in 700 records had 700 names, which
inflates COUNT(*) and multiplies every join through shared entities, so queries
grew faster than the graph. A version written before the merge was stored (its
default graph empty) is still queried as the union.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from dpgkg.store.base import NoGraph, Store, StoreWriter

MERGE_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


class _Concatenated(io.RawIOBase):
    """Byte strings read one after the other as one stream, without copying them."""

    def __init__(self, *parts: bytes):
        self.parts = [memoryview(p) for p in parts if p]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.parts:
            return 0
        n = min(len(buffer), len(self.parts[0]))
        buffer[:n] = self.parts[0][:n]
        self.parts[0] = self.parts[0][n:]
        if not self.parts[0]:
            self.parts.pop(0)
        return n


def _new_version_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def served_version(path: str | os.PathLike) -> str | None:
    """The version a store directory serves now (None when it has none)."""
    try:
        return os.path.basename(os.readlink(Path(path) / "current"))
    except OSError:
        return None


def has_merge(store: ox.Store) -> bool:
    """Whether the store's default graph holds the merge (dpgkg puts nothing else there)."""
    return next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) \
        is not None


def named_quads(store: ox.Store) -> Iterable[ox.Quad]:
    """The quads of the named graphs (the version's content, without its merge)."""
    if not has_merge(store):
        return store
    return (q for q in store if not isinstance(q.graph_name, ox.DefaultGraph))


class EmbeddedStore(Store):
    def __init__(self, path: str | os.PathLike, *, in_memory: bool = False,
                 in_memory_max_bytes: int | None = None):
        """`in_memory`: copy the served version into memory (2-5x faster queries, more RAM),
        if it takes at most `in_memory_max_bytes` on disk (else it is queried on disk)."""
        self.path = Path(path)
        self.in_memory = in_memory
        self.in_memory_max_bytes = in_memory_max_bytes
        self._lock = threading.Lock()
        self._version: str | None = None
        # The served store, and whether it is an older version without its merge (queried
        # as the union); one tuple, so a reader never pairs one version's store with
        # another's flag.
        self._opened: tuple[ox.Store, bool] | None = None
        self._copied = False  # whether the opened version is a copy in memory

    # Reading
    @property
    def current_link(self) -> Path:
        return self.path / "current"

    def _current_version(self) -> str | None:
        return served_version(self.path)

    def _open(self) -> tuple[ox.Store, bool]:
        version = self._current_version()
        if version is None:
            raise NoGraph(f"no graph built yet at {self.path} (run `dpgkg build`)")
        if version != self._version or self._opened is None:
            with self._lock:
                if version != self._version or self._opened is None:
                    where = self.path / "versions" / version
                    disk = ox.Store.read_only(str(where))
                    copied = self._copies(where)
                    if copied:
                        mem = ox.Store()
                        mem.bulk_extend(disk.quads_for_pattern(None, None, None, None))
                        disk = mem
                    self._opened, self._version = (disk, not has_merge(disk)), version
                    self._copied = copied
        return self._opened

    def _copies(self, where: Path) -> bool:
        return self.in_memory and (self.in_memory_max_bytes is None
                                   or _disk_bytes(where) <= self.in_memory_max_bytes)

    def preload(self) -> bool:
        version = self._current_version()
        if version is None or not self._copies(self.path / "versions" / version):
            return False
        self._open()
        return True

    def stale(self) -> bool:
        return self._copied and self._current_version() != self._version

    def copied_version(self) -> str | None:
        return self._version if self._copied else None

    def oxigraph(self) -> ox.Store:
        """The pyoxigraph store now served (for dumps and fast serialisation)."""
        return self._open()[0]

    def version(self) -> str:
        self._open()
        return self._version or ""

    def query(self, sparql, *, default_graph_uris=None, named_graph_uris=None):
        store, union = self._open()
        kwargs: dict = {}
        if default_graph_uris:
            kwargs["default_graph"] = [ox.NamedNode(u) for u in default_graph_uris]
        elif union:
            kwargs["use_default_graph_as_union"] = True
        if named_graph_uris:
            kwargs["named_graphs"] = [ox.NamedNode(u) for u in named_graph_uris]
        return store.query(sparql, **kwargs)

    def close(self) -> None:
        self._opened = None
        self._version = None
        self._copied = False

    # Writing
    def writer(self) -> EmbeddedWriter:
        return EmbeddedWriter(self.path)


class EmbeddedWriter(StoreWriter):
    """Stages the new version in memory (inference and validation read it many times,
    ~10x faster than from disk), then writes it to its own directory and swaps it in."""

    #: Keep the staged version's named quads as N-Quads (`staged_nquads`) after `commit`,
    #: for a later build to start from (:meth:`start_from`).
    keep_staged = False
    #: A version is written as a difference only when it is at most this share of it,
    #: and compacted when the difference leaves it in more than MAX_FILES files.
    MAX_DELTA = 0.25
    MAX_FILES = 48
    #: Larger versions are written whole: comparing them line by line would take several
    #: times their N-Quads in memory (1x, 140k quads: 26 MB of N-Quads).
    MAX_TRACKED = 3_000_000

    def __init__(self, path: Path):
        self.path = path
        self.version_id = _new_version_id()
        (path / "versions").mkdir(parents=True, exist_ok=True)
        self.dir = path / "versions" / self.version_id
        self.store = ox.Store()
        self._done = False
        self._baseline: tuple[str, bytes] | None = None
        self.staged_nquads: bytes | None = None
        self.delta: dict | None = None
        # (version, quads removed, quads added) when written as a difference from version
        self.difference: tuple | None = None

    def start_from(self, version: str, nquads: bytes) -> None:
        """Write the new version as its difference from `version`, given the named quads
        of `version` as N-Quads (as an earlier commit kept them in `staged_nquads`).

        The new version starts as a RocksDB checkpoint of the one served (hard links to
        its files, which RocksDB never changes: the served version is not touched), and
        the quads that differ, and their share of the merge, are removed and added. When
        `version` is no longer the one served, or the difference is large, the version
        is written whole as usual.
        """
        self._baseline = (version, nquads)

    def add_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        self.store.bulk_extend(quads)

    def add_graph_nt(self, graph: ox.NamedNode, data: bytes) -> None:
        self.store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)

    def query(self, sparql: str):
        return self.store.query(sparql, use_default_graph_as_union=True)

    def commit(self, before_swap=None) -> str:
        """See :meth:`StoreWriter.commit`. `before_swap` (the dumps) runs beside the
        writing of the version to disk, as soon as the merge is known: it reads only the
        version staged in memory; :meth:`written_difference` waits for the difference."""
        self._decided = threading.Event()
        with ThreadPoolExecutor(2) as side:
            # The merge is computed while the named graphs are written (pyoxigraph lets
            # go of the GIL for both); a CONSTRUCT is a set, Oxigraph drops repeats itself.
            merge = side.submit(lambda: ox.serialize(self.store.query(MERGE_QUERY),
                                                     format=ox.RdfFormat.N_TRIPLES))
            published = None if before_swap is None else side.submit(
                lambda: before_swap(self.version_id, self.store, merge.result()))
            try:
                self._write(merge)
            finally:
                self._decided.set()
            if published is not None:
                published.result()  # raises what publishing raised: nothing is swapped in
        previous = served_version(self.path)
        tmp = self.path / f"current.{self.version_id}.tmp"
        os.symlink(os.path.join("versions", self.version_id), tmp)
        os.replace(tmp, self.path / "current")  # the atomic swap
        self._done = True
        self.committed = self.store
        self._prune(previous)
        return self.version_id

    def _write(self, merge) -> None:
        """Write the version to its directory (whole, or as a difference)."""
        if (self.keep_staged or self._baseline is not None) and \
                len(self.store) <= self.MAX_TRACKED:
            self.staged_nquads = self.store.dump(format=ox.RdfFormat.N_QUADS)
        disk = self._write_difference()
        self._decided.set()
        if disk is None:
            # Whole: the named graphs and the merge in one bulk load (an N-Triples line is
            # an N-Quads line in the default graph), 30% faster than a load of each.
            nquads = self.staged_nquads
            if nquads is None:
                nquads = self.store.dump(format=ox.RdfFormat.N_QUADS)
            self.merged_nt = merge.result()
            disk = ox.Store(str(self.dir))
            disk.bulk_load(_Concatenated(nquads, self.merged_nt), format=ox.RdfFormat.N_QUADS)
        else:
            self.merged_nt = merge.result()
        disk.flush()
        # A difference adds a few small files to the checkpoint's: compacting them all
        # again would cost more than the difference itself, until they pile up.
        if self.delta is None or len(list(self.dir.glob("*.sst"))) > self.MAX_FILES:
            disk.optimize()
        del disk  # release RocksDB's lock before readers open it

    def written_difference(self) -> tuple | None:
        """(version, quads removed, quads added) once :meth:`commit` has decided to write
        the version as its difference from `version`, None when it writes it whole."""
        decided = getattr(self, "_decided", None)
        if decided is not None:
            decided.wait()
        return self.difference

    def _write_difference(self) -> ox.Store | None:
        """The new version as a checkpoint of the one served plus the difference
        (see :meth:`start_from`); None when it is to be written whole."""
        if self._baseline is None or self.staged_nquads is None:
            return None
        version, old_nq = self._baseline
        if version != served_version(self.path):
            return None
        old, new = set(old_nq.splitlines()), set(self.staged_nquads.splitlines())
        gone, came = old - new, new - old
        if len(gone) + len(came) > self.MAX_DELTA * max(len(new), 1):
            return None
        # A whole write gives the merge its own blank nodes (the ontology's and shapes'),
        # which the difference could not name: a change to one is written whole.
        if any(b"_:" in line for line in gone | came):
            return None
        try:
            ox.Store.read_only(str(self.path / "versions" / version)).backup(str(self.dir))
        except OSError:
            shutil.rmtree(self.dir, ignore_errors=True)
            return None
        fmt = ox.RdfFormat.N_QUADS
        removed = list(ox.parse(b"\n".join(sorted(gone)), format=fmt)) if gone else []
        added = list(ox.parse(b"\n".join(sorted(came)), format=fmt)) if came else []
        disk = ox.Store(str(self.dir))
        default = ox.DefaultGraph()
        for q in removed:
            disk.remove(q)
            # the merge loses a triple only when no named graph holds it any more
            if next(self.store.quads_for_pattern(q.subject, q.predicate, q.object), None) \
                    is None:
                disk.remove(ox.Quad(q.subject, q.predicate, q.object, default))
        disk.extend(added)
        disk.extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in added)
        self.delta = {"from": version, "removed": len(removed), "added": len(added)}
        self.difference = (version, removed, added)
        return disk

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self.store = ox.Store()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _prune(self, previous: str | None) -> None:
        """Keep the new version and the one it replaced (readers may still hold it).

        Everything else older goes, including what a killed build left behind,
        unless a writer still holds it open (a build running at the same time).
        """
        keep = {self.version_id, previous}
        for link in self.path.glob("current.*.tmp"):  # a build killed during its swap
            if link.name != f"current.{self.version_id}.tmp":
                link.unlink(missing_ok=True)
        for old in (self.path / "versions").iterdir():
            if old.is_dir() and old.name not in keep and old.name < self.version_id \
                    and not _locked(old):
                shutil.rmtree(old, ignore_errors=True)


def _disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.iterdir() if f.is_file())


def _locked(version_dir: Path) -> bool:
    """Whether a process holds the RocksDB lock of this directory (a build writing it)."""
    import fcntl

    try:
        fd = os.open(version_dir / "LOCK", os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
