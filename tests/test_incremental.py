"""Incremental builds: a build validates only the records that changed, and its graph and
dumps are byte for byte those of a full build of the same sources.

Real builds through the CLI on a small sources tree made in a tmp dir: ../shared's SDG
and country files beside the tiny registry of tests/fixtures/registry (8 records; a
build takes ~2 s). The dumps of two builds can differ only in what is inherently per
build, and the comparison replaces exactly that: the version id (the store's directory
name, which the build graph's IRI and dct:identifier carry) and the build time (the
build's prov:endedAtTime and the prov:generatedAtTime of the graphs it changed, one
instant per build; a graph unchanged keeps the time the version served gives it, so the
full build starts from a copy of the store the incremental one starts from); of the
change feed's graph hashes it leaves out the provenance hashes (they hash the build
time) and the build graph's.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from dpgkg.cli import main
from dpgkg.incremental import ValidationCache, cache_root, triples_digest
from dpgkg.publish.changes import graph_hashes
from dpgkg.publish.dumps import dumps_root
from dpgkg.sources.buildcache import read_cache, tree_digest, write_cache
from dpgkg.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from comparable import DUMPS, served_dumps  # bench/comparable.py

RECORDS = 8  # record graphs of the tiny registry that are validated (README of the fixture)


@pytest.fixture
def sources(small_sources) -> Path:
    return small_sources


def build(sources: Path, store: Path, *flags: str) -> dict:
    result = CliRunner().invoke(main, ["build", "-q", "--sources", str(sources),
                                       "--store", str(store), *flags],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def served_quads(store: Path) -> list[str]:
    """Every quad of the version served on disk (named graphs and their merge, the
    default graph), sorted, with its version id and build time replaced, and the labels
    of blank nodes too: a version written whole is bulk loaded, which labels them afresh
    (only the ontology's and the shapes' graphs have any)."""
    s = open_store(str(store))
    version = s.version()
    built = s.select("SELECT ?t { ?x <http://www.w3.org/ns/prov#endedAtTime> ?t }")[0]["t"]
    lines = []
    for q in s.oxigraph():
        line = " ".join("_:b" if isinstance(t, ox.BlankNode) else str(t)
                        for t in (q.subject, q.predicate, q.object, q.graph_name))
        lines.append(line.replace(version, "VERSION").replace(built.value, "BUILT"))
    s.close()
    return sorted(lines)


def generation_times(store: Path) -> dict[str, str]:
    """Each graph's prov:generatedAtTime in the version served."""
    rows = open_store(str(store)).select(
        "SELECT ?g ?t { GRAPH ?g { ?g <http://www.w3.org/ns/prov#generatedAtTime> ?t } }")
    return {r["g"].value: r["t"].value for r in rows}


def content_changes(summary: dict) -> dict:
    """The change feed's counts of graphs whose content changed (not only provenance)."""
    return {k: summary["changes"][k] for k in ("added", "changed", "removed")}


def change_description(sources: Path, record: str, text: str) -> None:
    path = sources / "registry" / "nominees" / f"{record}.json"
    obj = json.loads(path.read_text())
    obj["description"] = text
    path.write_text(json.dumps(obj, indent=2))


def test_an_incremental_build_validates_the_changed_record_and_equals_a_full_build(
        sources, tmp_path):
    store = tmp_path / "store"
    first = build(sources, store)
    assert first["validation"]["cache"] == {"validated": RECORDS, "reused": 0}

    unchanged = build(sources, store)
    assert unchanged["validation"]["cache"] == {"validated": 0, "reused": RECORDS}
    assert content_changes(unchanged) == {"added": 0, "changed": 0, "removed": 0}
    # every harvested graph kept the time the first build made it
    assert unchanged["generation_times_kept"] == len(generation_times(store)) > RECORDS

    # the full build starts from the same version served (a copy of the store): graphs
    # unchanged keep the time that version gives them, in both builds alike
    scratch = tmp_path / "scratch"
    shutil.copytree(store, scratch, symlinks=True)
    first_times = generation_times(store)
    change_description(sources, "other-dpg", "A nominee whose description was edited.")
    incremental = build(sources, store)
    assert incremental["validation"]["cache"] == {"validated": 1, "reused": RECORDS - 1}
    # only the edited record was converted again; the others' conversions were reused
    converted = first["harvest_cache"]["converted"]
    assert first["harvest_cache"] == {"reused": 0, "converted": converted, "damaged": 0}
    assert unchanged["harvest_cache"] == {"reused": converted, "converted": 0, "damaged": 0}
    assert incremental["harvest_cache"] == {"reused": converted - 1, "converted": 1,
                                            "damaged": 0}
    assert incremental["rules"] == "reused"
    # one graph changed, and nothing else did, not even the time a graph was made: the
    # build graph's provenance is the only other change
    assert incremental["changes"] == {"added": 0, "changed": 1, "provenance": 1, "removed": 0}
    feed = json.loads((dumps_root(str(store)) / open_store(str(store)).version()
                       / "changes.json").read_text())
    assert [c["graph"].rsplit("/", 2)[-2:] for c in feed["changed"]
            if c.get("changed") != "provenance"] == [["nominees", "other-dpg"]]
    assert [c["graph"].rsplit("/", 1)[-1] for c in feed["changed"]
            if c.get("changed") == "provenance"] == ["build"]
    times = generation_times(store)
    edited = next(g for g in times if g.endswith("/nominees/other-dpg"))
    assert times[edited] != first_times[edited]
    assert {g: t for g, t in times.items() if g != edited} == \
        {g: t for g, t in first_times.items() if g != edited}
    assert incremental["store_delta"]["added"] < 20  # the record, its results, the build

    full = build(sources, scratch, "--full")
    assert full["validation"]["cache"] == {"validated": RECORDS, "reused": 0}
    assert full["harvest_cache"]["reused"] == 0 and full["rules"] == "compiled"
    for key in ("records", "graphs", "triples", "inferred"):
        assert incremental[key] == full[key], key
    assert incremental["validation"]["by_indicator"] == full["validation"]["by_indicator"]
    ours, theirs = served_dumps(store), served_dumps(scratch)
    for name in DUMPS:
        assert ours[name] == theirs[name], f"{name} differs from the full build's"
    # the version served was written as its difference from the one before, and holds
    # what the full build wrote whole
    assert incremental["store_delta"]["added"] > 0 and full["store_delta"] is None
    assert served_quads(store) == served_quads(scratch)
    # the graph hashes the change feed keeps were updated from the previous version's
    # by the difference: they are what hashing every graph of the version gives
    hashes = json.loads((dumps_root(str(store)) / open_store(str(store)).version()
                         / "graph-hashes.json").read_text())
    assert hashes == json.loads(json.dumps(graph_hashes(open_store(str(store)).oxigraph())))


def test_a_changed_source_file_revalidates_every_record_and_full_ignores_the_cache(
        sources, tmp_path):
    store = tmp_path / "store"
    before = build(sources, store)
    # The approved-licence list and the licences the nominee schema accepts are part of
    # the records' validation (indicator 2): with MIT taken off both, other-dpg (licensed
    # "mit") and every other MIT-licensed record fail it.
    page = sources / "registry" / "help-center" / "licenses.md"
    page.write_text(page.read_text().replace("MIT|MIT License\n", ""))
    schema_path = sources / "registry" / "nominee-schema.json"
    schema = json.loads(schema_path.read_text())
    spdx = schema["properties"]["license"]["items"]["properties"]["spdx"]
    spdx["enum"] = [x for x in spdx["enum"] if x != "MIT"]
    schema_path.write_text(json.dumps(schema))
    again = build(sources, store)
    assert again["validation"]["cache"]["validated"] == RECORDS
    fails = [b["validation"]["by_indicator"]["2"].get("fail", 0) for b in (before, again)]
    assert fails[1] > fails[0]

    forced = build(sources, store, "--full")
    assert forced["validation"]["cache"] == {"validated": RECORDS, "reused": 0}
    again = build(sources, store)
    assert again["validation"]["cache"]["reused"] == RECORDS
    assert again["store_delta"] is not None


def test_a_damaged_or_stale_cache_only_costs_time(sources, tmp_path):
    store = tmp_path / "store"
    build(sources, store)
    cache = cache_root(str(store)) / "validation.json"
    saved = json.loads(cache.read_text())
    assert len(saved["entries"]) == RECORDS

    cache.write_text("{not json")
    staged = cache_root(str(store)) / "staged.nq"
    staged.write_bytes(staged.read_bytes()[:-100])
    damaged = build(sources, store)
    assert damaged["validation"]["cache"]["validated"] == RECORDS
    assert damaged["store_delta"] is None  # written whole

    stale = json.loads(cache.read_text())
    stale["context"] = "0" * 64  # as if the shapes, code or package version had changed
    cache.write_text(json.dumps(stale))
    assert build(sources, store)["validation"]["cache"]["validated"] == RECORDS
    again = build(sources, store)
    assert again["validation"]["cache"]["reused"] == RECORDS
    assert again["store_delta"] is not None


def test_damaged_record_conversions_are_converted_again_and_named(sources, tmp_path):
    store = tmp_path / "store"
    build(sources, store)
    times = generation_times(store)
    entries = sorted((cache_root(str(store)) / "records").iterdir())
    assert len(entries) > 2
    entries[0].write_bytes(entries[0].read_bytes()[:-40])       # cut short: not JSON
    entry = json.loads(entries[1].read_bytes())
    entry["nt"] = entry["nt"].replace("<", "<x", 1)              # its checksum no longer holds
    entries[1].write_text(json.dumps(entry))
    rules = cache_root(str(store)) / "rules.json"
    rules.write_text(rules.read_text().replace('\\"subclass\\":[[', '\\"subclass\\":[[1,', 1))
    damaged = build(sources, store)
    assert damaged["harvest_cache"]["damaged"] == 2
    assert damaged["rules"] == "damaged"
    # the same graphs, made again: no content changed, and every graph kept its time
    assert content_changes(damaged) == {"added": 0, "changed": 0, "removed": 0}
    assert generation_times(store) == times
    again = build(sources, store)
    assert again["harvest_cache"]["damaged"] == 0 and again["rules"] == "reused"


def test_cache_files_and_digests(tmp_path):
    root = tmp_path / "cache"
    assert read_cache(root, "x") == {}
    write_cache(root, "x", {"a": 1})
    assert read_cache(root, "x") == {"a": 1}
    assert [p.name for p in root.iterdir()] == ["x.json"]  # no temporary file left
    assert cache_root("http://example.org/sparql") is None

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "a.ttl").write_text("one")
    before = tree_digest([tree])
    assert tree_digest([tree]) == before
    (tree / "sub" / "a.ttl").write_text("two")
    assert tree_digest([tree]) != before


def test_validation_keys_ignore_only_what_changes_with_every_build():
    import pyoxigraph as ox

    from dpgkg.validation.records import _Job

    s, g = ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/g")
    name = ox.Triple(s, ox.NamedNode("https://schema.org/name"), ox.Literal("A"))

    def at(time: str) -> ox.Triple:
        return ox.Triple(g, ox.NamedNode("http://www.w3.org/ns/prov#generatedAtTime"),
                         ox.Literal(time))

    cache = ValidationCache(root=None, context="c")
    job = _Job(source="nominees/a", triples=[name, at("2024-01-01")], subject=s.value)
    later = _Job(source="nominees/a", triples=[at("2025-01-01"), name], subject=s.value)
    other = _Job(source="nominees/a", triples=[ox.Triple(s, name.predicate, ox.Literal("B"))],
                 subject=s.value)
    assert cache.key(job) == cache.key(later)
    assert cache.key(job) != cache.key(other)
    assert triples_digest([name, name]) == triples_digest([name])


def test_a_difference_never_touches_the_version_served(sources, tmp_path):
    store = tmp_path / "store"
    build(sources, store)
    served = open_store(str(store))
    before_version = served.version()
    before = sorted(str(q) for q in served.oxigraph())
    served.close()

    change_description(sources, "good-dpg", "Edited while the old version is served.")
    after = build(sources, store)
    assert after["store_delta"] is not None
    # the version replaced is still on disk (readers may hold it) with what it held
    old = ox.Store.read_only(str(store / "versions" / before_version))
    assert sorted(str(q) for q in old) == before
    del old

    # a cache that describes another version than the one served is not used
    index = cache_root(str(store)) / "staged.json"
    kept = json.loads(index.read_text())
    index.write_text(json.dumps({**kept, "version": before_version}))
    assert build(sources, store)["store_delta"] is None
