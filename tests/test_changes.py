"""The change feed: pure comparison, hashes that ignore timestamps, and a real rebuild."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pyoxigraph as ox
import pytest

from dpgkg.publish.changes import activity_stream, compute_changes, read_feed, record_hashes
from dpgkg.publish.dumps import after_build, dumps_root
from dpgkg.store import open_store
from tests.conftest import FIXTURES, load_fixture_store
from tests.test_catalogue import make_catalogue_app


@pytest.mark.parametrize("previous,current,expected", [
    ({}, {}, ([], [], [])),
    ({}, {"a": "1"}, (["a"], [], [])),
    ({"a": "1"}, {}, ([], [], ["a"])),
    ({"a": "1"}, {"a": "1"}, ([], [], [])),
    ({"a": "1"}, {"a": "2"}, ([], ["a"], [])),
    ({"a": "1", "b": "1", "c": "1"}, {"b": "2", "c": "1", "d": "1"}, (["d"], ["b"], ["a"])),
    ({"z": "1", "y": "1"}, {"a": "1", "b": "1"}, (["a", "b"], [], ["y", "z"])),
])
def test_compute_changes(previous, current, expected):
    assert compute_changes(previous, current) == dict(zip(("added", "changed", "removed"),
                                                          expected))


def store_of(trig: str) -> ox.Store:
    store = ox.Store()
    store.load(trig.encode(), format=ox.RdfFormat.TRIG)
    return store


MINI = (FIXTURES / "mini.trig").read_text()
HEALTHAPP_GRAPH = "https://w3id.org/dpgkg/id/graph/nominees/healthapp"
LEARNKIT_GRAPH = "https://w3id.org/dpgkg/id/graph/nominees/learnkit"
NEW_GRAPH = "https://w3id.org/dpgkg/id/graph/nominees/mapkit"
NEW_RECORD = """
<https://w3id.org/dpgkg/id/graph/nominees/mapkit> {
  <https://w3id.org/dpgkg/id/graph/nominees/mapkit> a prov:Entity, dpg:RecordGraph ;
      prov:generatedAtTime "2026-12-01T00:00:00Z"^^xsd:dateTime ;
      dpg:describes <https://w3id.org/dpgkg/id/dpg/mapkit> .
  <https://w3id.org/dpgkg/id/dpg/mapkit> a dpg:Solution, dpg:Nominee ; schema:name "MapKit" .
}
"""


def test_hashes_ignore_provenance_timestamps():
    before = record_hashes(store_of(MINI))
    after = record_hashes(store_of(MINI.replace("2026-11-27T00:00:00Z", "2027-01-01T12:00:00Z")))
    assert before == after
    assert set(before["hashes"]) == {HEALTHAPP_GRAPH, LEARNKIT_GRAPH}
    assert before["resources"][HEALTHAPP_GRAPH] == "https://w3id.org/dpgkg/id/dpg/healthapp"


def test_hashes_see_content_changes():
    before = record_hashes(store_of(MINI))["hashes"]
    after = record_hashes(store_of(MINI.replace("used by clinics", "used by hospitals")))["hashes"]
    assert compute_changes(before, after) == {"added": [], "changed": [HEALTHAPP_GRAPH],
                                              "removed": []}


def edited(trig: str) -> str:
    """One record edited, one added, one removed; every timestamp new."""
    start = trig.index(f"<{LEARNKIT_GRAPH}> {{")
    end = trig.index("}", trig.index("org/unicef> a dpg:Organisation", start)) + 1
    trig = trig[:start] + trig[end:]
    trig = trig.replace("used by clinics", "used by hospitals")
    trig = trig.replace("2026-11-27T00:00:00Z", "2026-12-01T00:00:00Z")
    return trig + NEW_RECORD


def test_feed_after_a_rebuild(tmp_path):
    """Two real store versions, published as the build does: the feed says exactly that."""
    settings = load_fixture_store(tmp_path / "store")
    first = open_store(settings.store).version()
    after_build(settings, SimpleNamespace(version=first, extra={}))
    trig = tmp_path / "edited.trig"
    trig.write_text(edited(MINI))
    load_fixture_store(tmp_path / "store", trig)
    second = open_store(settings.store).version()
    assert second != first
    report = SimpleNamespace(version=second, extra={})
    after_build(settings, report)
    assert report.extra["changes"] == {"added": 1, "changed": 1, "removed": 1}

    feed = read_feed(dumps_root(settings.store))
    assert [e["version"] for e in feed] == [second, first]
    latest = feed[0]
    assert latest["previous"] == first
    assert latest["added"] == [{"graph": NEW_GRAPH,
                                "resource": "https://w3id.org/dpgkg/id/dpg/mapkit"}]
    assert latest["changed"] == [{"graph": HEALTHAPP_GRAPH,
                                  "resource": "https://w3id.org/dpgkg/id/dpg/healthapp"}]
    assert latest["removed"] == [{"graph": LEARNKIT_GRAPH,
                                  "resource": "https://w3id.org/dpgkg/id/dpg/learnkit"}]

    client = make_catalogue_app(settings).test_client()
    body = client.get("/changes").get_json()
    assert body["builds"][0] == latest
    resp = client.get("/changes", headers={"Accept": "application/activity+json"})
    assert resp.mimetype == "application/activity+json"
    stream = json.loads(resp.get_data())
    assert stream["type"] == "OrderedCollection"
    newest = [a for a in stream["orderedItems"] if second in a["summary"]]
    assert {(a["type"], a["object"]) for a in newest} == {
        ("Create", "https://w3id.org/dpgkg/id/dpg/mapkit"),
        ("Update", "https://w3id.org/dpgkg/id/dpg/healthapp"),
        ("Delete", "https://w3id.org/dpgkg/id/dpg/learnkit")}
    assert client.get("/changes?format=as2").get_json()["totalItems"] == stream["totalItems"]


def test_activity_stream_of_an_empty_feed():
    assert activity_stream([], "http://x/changes")["totalItems"] == 0
