"""Dumps: every file reads back to exactly the store's content, is served, and holds no e-mail."""

from __future__ import annotations

import gzip
import hashlib
import json
from types import SimpleNamespace

import pyoxigraph as ox
import pytest

from dpgkg.config import Settings
from dpgkg.publish.catalogue import count_void_statistics
from dpgkg.publish.dumps import (
    DUMP_FORMATS,
    VOID_STATISTICS,
    after_build,
    dumps_root,
    read_dumps,
    write_dumps,
)
from dpgkg.store import open_store
from dpgkg.store.embedded import named_quads
from tests.conftest import load_fixture_store
from tests.test_catalogue import EMAIL, make_catalogue_app


def quads_of(store: ox.Store) -> set[ox.Quad]:
    """The named graphs' quads (a built store also holds their merge as its default graph)."""
    return set(named_quads(store))


def triples_of(store: ox.Store) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in quads_of(store)}


def read_back(path) -> list[ox.Quad]:
    fmt = DUMP_FORMATS[path.name]
    data = gzip.decompress(path.read_bytes()) if fmt.gzipped else path.read_bytes()
    return list(ox.parse(data, format=fmt.rdf))


def canonical(quads) -> set[ox.Quad]:
    """The quads with blank nodes renamed canonically (the SHACL shapes graph has some)."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def check_round_trip(store: ox.Store, infos) -> None:
    assert {i.path.name for i in infos} == set(DUMP_FORMATS)
    quads = canonical(quads_of(store))
    triples = canonical({ox.Quad(s, p, o) for s, p, o in triples_of(store)})
    for info in infos:
        back = read_back(info.path)
        if DUMP_FORMATS[info.path.name].quads:
            assert canonical(back) == quads, info.path.name
        else:
            assert all(q.graph_name == ox.DefaultGraph() for q in back)
            assert canonical(back) == triples, info.path.name
        assert info.bytes == info.path.stat().st_size
        assert info.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return load_fixture_store(tmp_path_factory.mktemp("dumps-store"))


def test_mini_dumps_round_trip(mini, tmp_path):
    store = open_store(mini.store).oxigraph()
    check_round_trip(store, write_dumps(store, tmp_path))


def test_dumps_are_reproducible(mini, tmp_path):
    store = open_store(mini.store).oxigraph()
    first = {i.path.name: i.sha256 for i in write_dumps(store, tmp_path / "a")}
    second = {i.path.name: i.sha256 for i in write_dumps(store, tmp_path / "b")}
    assert first == second


def test_after_build_writes_beside_the_store_and_serves(mini):
    version = open_store(mini.store).version()
    report = SimpleNamespace(version=version, extra={})
    infos = after_build(mini, report)
    assert {i.path.parent for i in infos} == {dumps_root(mini.store) / version}
    assert report.extra["changes"]["added"] > 0
    assert read_dumps(dumps_root(mini.store), version) == infos
    saved = json.loads((dumps_root(mini.store) / version / VOID_STATISTICS).read_text())
    assert saved == json.loads(json.dumps(count_void_statistics(open_store(mini.store).query)))
    client = make_catalogue_app(mini).test_client()
    for info in infos:
        resp = client.get(f"/dumps/{info.path.name}")
        assert resp.status_code == 200
        assert resp.mimetype == info.media_type
        assert hashlib.sha256(resp.get_data()).hexdigest() == info.sha256
        resp.close()
    assert client.get("/dumps/other.txt").status_code == 404


def test_full_dumps_round_trip_without_contact_data(full_settings, tmp_path):
    store = open_store(full_settings.store).oxigraph()
    infos = write_dumps(store, tmp_path)
    check_round_trip(store, infos)
    for info in infos:
        data = info.path.read_bytes()
        if info.path.name.endswith(".gz"):
            data = gzip.decompress(data)
        found = EMAIL.findall(data)
        assert not found, (info.path.name, found[:5])


@pytest.mark.parametrize("spec", ["oxigraph+http://127.0.0.1:7878", "virtuoso+http://h:8890",
                                  "sparql+https://example.org/sparql?update=u", "http://h/s"])
def test_no_local_dumps_for_a_remote_store(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dumps_root(spec) is None
    staged = ox.Store()
    assert after_build(Settings(store=spec), SimpleNamespace(version="v1", extra={}),
                       staged) == []
    assert list(tmp_path.iterdir()) == []


def test_void_counts_from_the_merge_are_the_sparql_counts(mini):
    """What a build writes (counted over its merge as N-Triples) is what the SPARQL
    aggregates give, on the fixture and on terms that are hard to split: a literal with
    spaces and " ." inside, a typed literal, blank nodes, a class given twice."""
    from dpgkg.publish.catalogue.void import count_void_statistics_nt
    from dpgkg.store.embedded import MERGE_QUERY

    store = ox.Store()
    store.bulk_extend(named_quads(open_store(mini.store).oxigraph()))
    g, ex = ox.NamedNode("https://example.org/g"), "https://example.org/"
    b = ox.BlankNode()
    store.extend([
        ox.Quad(b, ox.NamedNode(ex + "says"), ox.Literal("two words . <x> \"q\"\nline"), g),
        ox.Quad(b, ox.NamedNode(ex + "n"), ox.Literal("7", datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer")), g),
        ox.Quad(b, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode(ex + "Thing"), g),
        ox.Quad(ox.NamedNode(ex + "a"), ox.NamedNode(
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(ex + "Thing"),
            ox.NamedNode(ex + "other")),
    ])
    merged = ox.serialize(store.query(MERGE_QUERY), format=ox.RdfFormat.N_TRIPLES)
    expected = count_void_statistics(
        lambda q: store.query(q, use_default_graph_as_union=True))
    assert count_void_statistics_nt(merged) == expected
    assert (ex + "Thing", 2) in expected["class_partitions"]
