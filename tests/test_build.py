"""`dpgkg build` and `dpgkg query` as a user runs them: bad records, failed builds, formats."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from dpgkg.cli import main
from dpgkg.sources import FIX
from dpgkg.store import open_store


@pytest.fixture
def sources(shared, tmp_path):
    """A writable copy of ../shared made at test time (never committed)."""
    dst = tmp_path / "sources"
    shutil.copytree(shared, dst, symlinks=True)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_bad_records_are_named_and_skipped_the_rest_is_harvested(sources, tmp_path):
    nominees = sources / "registry" / "nominees"
    (nominees / "aam-digital.json").write_text('{"name": "Aam Digital", ')   # bad JSON
    (nominees / "zz-empty.json").write_text("")                             # empty file
    result = run("build", "-q", "--sources", sources, "--store", tmp_path / "store")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["skipped"] == 2
    assert "nominees/aam-digital.json" in result.stderr
    assert "nominees/zz-empty.json" in result.stderr
    store = open_store(str(tmp_path / "store"))
    n = store.select("PREFIX dpg: <https://w3id.org/dpgkg/ontology#> "
                     "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a dpg:Solution }")[0]["n"]
    assert int(n.value) == 750 - 1  # aam-digital skipped; the empty file was never a record
    assert summary["records"] == 749


def test_failed_build_leaves_the_previous_graph_serving(sources, tmp_path):
    store_dir = tmp_path / "store"
    assert run("build", "-q", "--sources", sources, "--store", store_dir).exit_code == 0
    store = open_store(str(store_dir))
    version = store.version()
    before = store.select("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0]["n"].value

    # A source that breaks the build half-way (the SDG ontology is parsed for reasoning).
    (sources / "sdg" / "sdgs-ontology.ttl").write_text("this is not Turtle {")
    result = run("build", "-q", "--sources", sources, "--store", store_dir)
    assert result.exit_code == 1
    assert "build failed" in result.stderr and "previous graph" in result.stderr
    assert store.version() == version
    assert store.select("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0]["n"].value == before

    # A source that is not there: one line naming it and the fix, exit 2.
    missing = sources / "countries" / "country-codes.csv"
    missing.unlink()
    result = run("build", "-q", "--sources", sources, "--store", store_dir)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: cannot read source 'countries' at {missing}: no such file or directory; {FIX}"]
    assert store.version() == version
    # nothing half-built is left beside the served version
    assert [p.name for p in (store_dir / "versions").iterdir()] == [version]


def test_query_formats(full_settings, tmp_path):
    q = ("PREFIX sdgo: <http://metadata.un.org/sdg/ontology#> "
         "SELECT ?g WHERE { ?g a sdgo:Goal } ORDER BY ?g LIMIT 3")
    out = run("query", "--store", full_settings.store, "--format", "json", q)
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    assert doc["head"]["vars"] == ["g"] and len(doc["results"]["bindings"]) == 3

    out = run("query", "--store", full_settings.store, "--format", "csv", q)
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["g"] and len(rows) == 4

    qfile = tmp_path / "q.rq"
    qfile.write_text(q)
    out = run("query", "--store", full_settings.store, qfile)
    assert "(3 rows)" in out.stdout

    out = run("query", "--store", full_settings.store, "SELECT * WHERE { ?s ?p }")
    assert out.exit_code == 2 and "syntax error" in out.stderr and "1:" in out.stderr

    out = run("query", "--store", full_settings.store, "DELETE WHERE { ?s ?p ?o }")
    assert out.exit_code == 2 and "read-only" in out.stderr


def test_reader_sees_old_or_new_graph_never_a_mix(tmp_path):
    import pyoxigraph as ox

    store = open_store(str(tmp_path / "s"))
    g = ox.NamedNode("urn:g")
    t = [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.Literal("old"))]
    with store.writer() as w:
        w.add_graph(g, t)
        w.commit()
    assert store.select("SELECT ?o { ?s ?p ?o }")[0]["o"].value == "old"
    w = store.writer()
    w.add_graph(g, [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.Literal("new"))])
    w.query("ASK {}")  # loaded, not committed
    assert [r["o"].value for r in store.select("SELECT ?o { ?s ?p ?o }")] == ["old"]
    w.commit()
    assert [r["o"].value for r in store.select("SELECT ?o { ?s ?p ?o }")] == ["new"]


def test_commit_removes_what_an_interrupted_commit_left(tmp_path):
    import pyoxigraph as ox

    store = open_store(str(tmp_path / "s"))
    t = [ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.Literal("x"))]
    versions = tmp_path / "s" / "versions"
    with store.writer() as w:
        w.add_graph(ox.NamedNode("urn:g"), t)
        first = w.commit()
    # A build killed while writing its version directory leaves it behind, unserved.
    stray = versions / "00000000T000000000000Z"
    ox.Store(str(stray)).flush()
    with store.writer() as w:
        w.add_graph(ox.NamedNode("urn:g"), t)
        second = w.commit()
    # The served version and the one before it stay; the stray goes.
    assert sorted(p.name for p in versions.iterdir()) == [first, second]


def test_default_graph_is_the_merge_each_triple_once(tmp_path):
    """A triple in several graphs (an organisation named by many records) is one triple
    of the default graph: Oxigraph's union would give it once per graph, inflating
    counts and multiplying joins. A version stored without its merge is still read."""
    import pyoxigraph as ox

    store = open_store(str(tmp_path / "s"))
    org, name = ox.NamedNode("urn:org"), ox.NamedNode("urn:name")
    with store.writer() as w:
        for i in range(3):
            rec = ox.NamedNode(f"urn:rec{i}")
            w.add_graph(ox.NamedNode(f"urn:g{i}"), [
                ox.Triple(rec, ox.NamedNode("urn:ownedBy"), org),
                ox.Triple(org, name, ox.Literal("UNICEF"))])
        w.commit()
    join = "SELECT (COUNT(*) AS ?n) { ?r <urn:ownedBy> ?o . ?o <urn:name> ?name }"
    count = lambda q: int(store.select(q)[0]["n"].value)
    assert count("SELECT (COUNT(*) AS ?n) { <urn:org> <urn:name> ?name }") == 1
    assert count(join) == 3
    assert count("SELECT (COUNT(*) AS ?n) { GRAPH ?g { <urn:org> <urn:name> ?name } }") == 3
    assert {r["g"].value for r in store.select("SELECT DISTINCT ?g { GRAPH ?g { } }")} \
        == {"urn:g0", "urn:g1", "urn:g2"}

    # A version written before the merge was stored: queried as the union, as then.
    version = tmp_path / "s" / "versions" / store.version()
    store.close()
    old = ox.Store(str(version))
    old.clear_graph(ox.DefaultGraph())
    old.flush()
    del old
    assert count(join) == 9
    assert count("SELECT (COUNT(*) AS ?n) { <urn:org> <urn:name> ?name }") == 3
