"""The change feed: hashes of every named graph, content apart from provenance, the paged
ActivityStreams collection, and a harvester that polls it over HTTP between two real
builds and ends with exactly the second build's dump."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest
import requests

from dpgkg.build import build
from dpgkg.config import Settings
from dpgkg.publish.activities import AS2, BadSince, parse_since
from dpgkg.publish.changes import compute_changes, graph_hashes
from dpgkg.publish.dumps import after_build, dumps_root
from dpgkg.sources.feed import HASHES, read_entry, read_summaries
from dpgkg.store import open_store
from tests.conftest import FIXTURES, load_fixture_store
from tests.test_catalogue import make_catalogue_app
from tests.webserver import live_server

ID = "https://w3id.org/dpgkg/id/"
HEALTHAPP_GRAPH = ID + "graph/nominees/healthapp"
LEARNKIT_GRAPH = ID + "graph/nominees/learnkit"
NEW_GRAPH = ID + "graph/nominees/mapkit"
MINI = (FIXTURES / "mini.trig").read_text()
NEW_RECORD = """
<https://w3id.org/dpgkg/id/graph/nominees/mapkit> {
  <https://w3id.org/dpgkg/id/graph/nominees/mapkit> a prov:Entity, dpg:RecordGraph ;
      prov:generatedAtTime "2026-12-01T00:00:00Z"^^xsd:dateTime ;
      dpg:describes <https://w3id.org/dpgkg/id/dpg/mapkit> .
  <https://w3id.org/dpgkg/id/dpg/mapkit> a dpg:Solution, dpg:Nominee ; schema:name "MapKit" .
}
"""
# A graph with blank nodes, written twice with other labels and in another order.
BNODES = """@prefix ex: <http://example.org/> .
<http://example.org/g> {{ ex:s ex:p _:{a} . _:{a} ex:q _:{b} . _:{b} ex:r "x" . }}
"""


def store_of(trig: str) -> ox.Store:
    store = ox.Store()
    store.load(trig.encode(), format=ox.RdfFormat.TRIG)
    return store


# Hashes and their comparison ------------------------------------------------------------

def test_every_named_graph_is_hashed():
    hashes = graph_hashes(store_of(MINI))
    graphs = {q.graph_name.value for q in store_of(MINI)}
    assert set(hashes["content"]) == set(hashes["provenance"]) == graphs
    assert len(graphs) == 6  # record graphs and reference graphs alike
    assert hashes["resources"][HEALTHAPP_GRAPH] == ID + "dpg/healthapp"


def test_timestamps_change_the_provenance_hash_only():
    before = graph_hashes(store_of(MINI))
    after = graph_hashes(store_of(MINI.replace("2026-11-27T00:00:00Z", "2027-01-01T12:00:00Z")))
    assert before["content"] == after["content"]
    assert before["provenance"] != after["provenance"]
    assert compute_changes(before, after) == {
        "added": [], "changed": [(HEALTHAPP_GRAPH, "provenance")], "removed": []}


def test_content_changes_are_content():
    before = graph_hashes(store_of(MINI))
    after = graph_hashes(store_of(MINI.replace("used by clinics", "used by hospitals")
                                  .replace("2026-11-27T00:00:00Z", "2027-01-01T12:00:00Z")))
    assert compute_changes(before, after)["changed"] == [(HEALTHAPP_GRAPH, "content")]


def test_blank_node_graphs_hash_canonically():
    one = graph_hashes(store_of(BNODES.format(a="x1", b="x2")))
    other = graph_hashes(store_of(BNODES.format(a="zz", b="aa")))
    assert one == other
    changed = graph_hashes(store_of(BNODES.format(a="x1", b="x2").replace('"x"', '"y"')))
    assert changed["content"] != one["content"]


@pytest.mark.parametrize("previous,current,expected", [
    ({}, {}, ([], [], [])),
    ({}, {"a": "1"}, (["a"], [], [])),
    ({"a": "1"}, {}, ([], [], ["a"])),
    ({"a": "1"}, {"a": "1"}, ([], [], [])),
    ({"a": "1"}, {"a": "2"}, ([], [("a", "content")], [])),
    ({"a": "1", "b": "1", "c": "1"}, {"b": "2", "c": "1", "d": "1"},
     (["d"], [("b", "content")], ["a"])),
])
def test_compute_changes(previous, current, expected):
    got = compute_changes({"content": previous, "provenance": {}},
                          {"content": current, "provenance": {}})
    assert got == dict(zip(("added", "changed", "removed"), expected))


def test_hashes_of_builds_before_every_graph_was_hashed_still_compare():
    legacy = {"hashes": {HEALTHAPP_GRAPH: "old"}}
    current = graph_hashes(store_of(MINI))
    got = compute_changes(legacy, current)
    assert got["changed"] == [(HEALTHAPP_GRAPH, "content")]
    assert len(got["added"]) == 5 and got["removed"] == []


@pytest.mark.parametrize("text,version,instant", [
    ("20261207T193921300605Z", "20261207T193921300605Z", None),
    ("2026-12-01", None, "2026-12-01T00:00:00+00:00"),
    ("2026-12-01T12:30:00Z", None, "2026-12-01T12:30:00+00:00"),
    ("2026-12-01T12:30:00+02:00", None, "2026-12-01T12:30:00+02:00"),
    ("2026-12-01T12:30:00", None, "2026-12-01T12:30:00+00:00"),
])
def test_since_values(text, version, instant):
    since = parse_since(text)
    assert since.version == version
    assert (since.instant.isoformat() if since.instant else None) == instant


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-12", "2026-12-01T25:00",
                                  "latest", "12/01/2026"])
def test_bad_since_values(text):
    with pytest.raises(BadSince):
        parse_since(text)


# The feed over three versions of the small fixture graph ---------------------------------

def edited(trig: str) -> str:
    """One record edited, one added, one removed; every timestamp new."""
    start = trig.index(f"<{LEARNKIT_GRAPH}> {{")
    end = trig.index("}", trig.index("org/unicef> a dpg:Organisation", start)) + 1
    trig = trig[:start] + trig[end:]
    trig = trig.replace("used by clinics", "used by hospitals")
    trig = trig.replace("2026-11-27T00:00:00Z", "2026-12-01T00:00:00Z")
    return trig + NEW_RECORD


def publish_version(settings: Settings, trig: str, tmp: Path) -> str:
    path = tmp / f"v{len(list(tmp.glob('v*.trig')))}.trig"
    path.write_text(trig)
    load_fixture_store(Path(settings.store), path)
    version = open_store(settings.store).version()
    after_build(settings, SimpleNamespace(version=version, extra={}))
    return version


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three versions: the fixture; one record edited, one added, one removed; then only
    the timestamps of those two new. Returns (settings, versions)."""
    tmp = tmp_path_factory.mktemp("feed")
    settings = Settings(store=str(tmp / "store"))
    second = edited(MINI)
    versions = [publish_version(settings, MINI, tmp), publish_version(settings, second, tmp),
                publish_version(settings, second.replace("2026-12-01T00:00:00Z",
                                                         "2026-12-02T00:00:00Z"), tmp)]
    assert len(set(versions)) == 3
    return settings, versions


@pytest.fixture(scope="module")
def client(three):
    return make_catalogue_app(three[0]).test_client()


def get_json(client, path, **kw):
    resp = client.get(path, **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return json.loads(resp.get_data())


def all_items(client, path="/changes", page_size=3) -> list[dict]:
    """Every activity, following `next` from `first`."""
    sep = "&" if "?" in path else "?"
    coll = get_json(client, f"{path}{sep}page_size={page_size}")
    url, items = coll["first"]["id"], []
    while url:
        page = get_json(client, url.removeprefix("http://localhost"))
        items += page["orderedItems"]
        url = page.get("next", {}).get("id")
    assert len(items) == coll["totalItems"]
    return items


def test_the_feed_says_what_each_build_did(client, three):
    _, (first, second, third) = three
    items = all_items(client)
    by_build = {v: {(a["type"], a["object"]["id"], a.get("changed")) for a in items
                    if a["id"].startswith(f"http://localhost/changes/{v}/")}
                for v in (first, second, third)}
    assert len(by_build[first]) == 6 and {t for t, _, _ in by_build[first]} == {"Create"}
    assert by_build[second] == {("Create", NEW_GRAPH, None),
                                ("Update", HEALTHAPP_GRAPH, "content"),
                                ("Delete", LEARNKIT_GRAPH, None)}
    assert by_build[third] == {("Update", HEALTHAPP_GRAPH, "provenance"),
                               ("Update", NEW_GRAPH, "provenance")}
    assert [a["id"] for a in items] == list(dict.fromkeys(a["id"] for a in items))  # unique
    created = next(a for a in items if a["object"]["id"] == NEW_GRAPH)
    assert created["object"]["describes"] == ID + "dpg/mapkit"
    assert created["object"]["url"]["mediaType"] == "application/n-quads"


def test_paging_links(client):
    coll = get_json(client, "/changes?page_size=3")
    assert coll["type"] == "OrderedCollection" and coll["totalItems"] == 11
    assert coll["first"]["id"] == "http://localhost/changes?page=1&page_size=3"
    assert coll["last"]["id"] == "http://localhost/changes?page=4&page_size=3"
    assert "orderedItems" not in coll
    pages = [get_json(client, f"/changes?page={n}&page_size=3") for n in range(1, 5)]
    for n, page in enumerate(pages, 1):
        assert page["type"] == "OrderedCollectionPage"
        assert page["id"] == f"http://localhost/changes?page={n}&page_size=3"
        assert page["partOf"]["id"] == "http://localhost/changes?page_size=3"
        assert page["startIndex"] == 3 * (n - 1)
        assert ("prev" in page) == (n > 1) and ("next" in page) == (n < 4)
        if n > 1:
            assert page["prev"]["id"] == pages[n - 2]["id"]
        if n < 4:
            assert page["next"]["id"] == pages[n]["id"]
    assert [len(p["orderedItems"]) for p in pages] == [3, 3, 3, 2]
    published = [a["published"] for p in pages for a in p["orderedItems"]]
    assert published == sorted(published)  # oldest first
    resp = client.get("/changes?page=2&page_size=3")
    assert 'rel="next"' in resp.headers["Link"] and 'rel="prev"' in resp.headers["Link"]
    assert client.get("/changes?page=5&page_size=3").status_code == 404
    for bad in ("page=0", "page=x", "page_size=0", "page_size=100000"):
        assert client.get(f"/changes?{bad}").status_code == 400, bad
    default = get_json(client, "/changes?page=1")
    assert len(default["orderedItems"]) == 11 and "next" not in default


def test_since(client, three):
    _, (first, second, third) = three
    after_first = all_items(client, f"/changes?since={first}")
    assert {a["id"].split("/")[-2] for a in after_first} == {second, third}
    assert len(after_first) == 5
    assert all_items(client, f"/changes?since={third}") == []
    coll = get_json(client, f"/changes?since={first}&page_size=3")
    assert coll["first"]["id"] == f"http://localhost/changes?since={first}&page=1&page_size=3"
    built = get_json(client, coll["first"]["id"].removeprefix("http://localhost"))
    since_time = built["orderedItems"][0]["published"]
    assert len(all_items(client, f"/changes?since={since_time}")) == 5  # at or after
    assert len(all_items(client, "/changes?since=2000-01-01")) == 11
    assert all_items(client, "/changes?since=2999-01-01") == []


def test_bad_since_is_400_with_one_line(client):
    for bad in ("yesterday", "2026-02-30", "v1"):
        resp = client.get(f"/changes?since={bad}")
        assert resp.status_code == 400
        detail = resp.get_json()["error"]["detail"]
        assert "since must be a build version" in detail and "\n" not in detail


def test_activity_ids_dereference(client):
    for a in all_items(client):
        resp = client.get(a["id"].removeprefix("http://localhost"))
        assert resp.status_code == 200, a["id"]
        doc = json.loads(resp.get_data())
        assert doc["@context"][0] == AS2
        assert {k: v for k, v in doc.items() if k != "@context"} == a
    assert client.get("/changes/20261207T193921300605Z/0123456789abcdef").status_code == 404
    assert client.get("/changes/nothing/0123456789abcdef").status_code == 404


def test_object_urls_give_the_graph_now(client, three):
    settings, _ = three
    store = open_store(settings.store).oxigraph()
    resp = client.get(f"/changes/graph?iri={HEALTHAPP_GRAPH}")
    assert resp.status_code == 200 and resp.mimetype == "application/n-quads"
    got = set(ox.parse(resp.get_data(), format=ox.RdfFormat.N_QUADS))
    assert got == set(store.quads_for_pattern(None, None, None, ox.NamedNode(HEALTHAPP_GRAPH)))
    assert client.get(f"/changes/graph?iri={LEARNKIT_GRAPH}").status_code == 404  # deleted
    assert client.get("/changes/graph?iri=not an iri").status_code == 400
    etag = resp.headers["ETag"]
    assert client.get(f"/changes/graph?iri={HEALTHAPP_GRAPH}",
                      headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("accept,media_type", [
    (None, "application/activity+json"),
    ("*/*", "application/activity+json"),
    ("application/activity+json", "application/activity+json"),
    (f'application/ld+json; profile="{AS2}"', f'application/ld+json; profile="{AS2}"'),
    ("application/json", "application/json"),
])
def test_media_types(client, accept, media_type):
    resp = client.get("/changes?page=1", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == media_type
    assert "Accept" in resp.headers["Vary"]
    assert client.get("/changes", headers={"Accept": "text/turtle"}).status_code == 406


@pytest.mark.parametrize("path", ["/changes", "/changes?page=2&page_size=3",
                                  "/changes?since=2000-01-01"])
def test_feed_answers_conditional_requests(client, path):
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": "W/" + etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    other = client.get(path, headers={"If-None-Match": etag,
                                      "Accept": "application/json"})
    assert other.status_code == 200  # another representation, another tag


def test_the_whole_history_is_kept(tmp_path):
    """Five builds: every entry stays (only the last three keep their dumps and hashes),
    and the fifth is still compared with the fourth."""
    settings = Settings(store=str(tmp_path / "store"))
    trigs = [MINI.replace("2026-11-27T00:00:00Z", f"2026-11-2{n}T00:00:00Z") for n in range(5)]
    trigs[4] = trigs[4].replace("used by clinics", "used by hospitals")
    versions = [publish_version(settings, t, tmp_path) for t in trigs]
    root = dumps_root(settings.store)
    assert [read_entry(root, v)["version"] for v in versions] == versions
    assert [s["version"] for s in read_summaries(root)] == versions
    assert [(root / v / HASHES).is_file() for v in versions] == [False, False, True, True, True]
    assert read_entry(root, versions[4])["previous"] == versions[3]
    assert read_summaries(root)[4]["changed"] == 1
    client = make_catalogue_app(settings).test_client()
    assert get_json(client, "/changes")["totalItems"] == 6 + 4


# The round trip between two real builds, over HTTP ---------------------------------------

@pytest.fixture
def sources(small_sources) -> Path:
    return small_sources


def canonical(quads) -> set[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


class Harvester:
    """What another catalogue does: a copy of the dump, then the feed applied to it,
    following the links the server writes."""

    def __init__(self, root: str):
        self.root = root
        self.copy = ox.Store()
        self.applied: list[dict] = []

    def get(self, url: str, **kw) -> requests.Response:
        resp = requests.get(url, timeout=30, **kw)
        resp.raise_for_status()
        return resp

    def load_dump(self) -> None:
        self.copy.load(self.get(self.root + "dumps/dpgkg.trig").content,
                       format=ox.RdfFormat.TRIG)

    def poll(self, since: str) -> None:
        coll = self.get(self.root + f"changes?since={since}&page_size=7",
                        headers={"Accept": "application/activity+json"}).json()
        url = coll["first"]["id"]
        while url:
            page = self.get(url).json()
            for activity in page["orderedItems"]:
                self.apply(activity)
            url = page.get("next", {}).get("id")

    def apply(self, activity: dict) -> None:
        graph = ox.NamedNode(activity["object"]["id"])
        if self.copy.contains_named_graph(graph):
            self.copy.remove_graph(graph)
        if activity["type"] in ("Create", "Update"):
            try:
                body = self.get(activity["object"]["url"]["href"]).content
            except requests.HTTPError as exc:  # gone since: a later activity deletes it
                assert exc.response.status_code == 404
                body = b""
            self.copy.extend(ox.parse(body, format=ox.RdfFormat.N_QUADS))
        self.applied.append(activity)


def test_a_harvester_applying_the_feed_ends_with_the_second_dump(sources, tmp_path):
    settings = Settings(store=str(tmp_path / "store"), sources=str(sources))
    first = build(settings).version
    with live_server(settings, public_here=True) as server:
        harvester = Harvester(server + "/")
        root = harvester.root
        harvester.load_dump()
        first_dump = canonical(harvester.copy)
        # the second build: a record edited, one added, one removed
        registry = sources / "registry"
        record = json.loads((registry / "nominees" / "good-dpg.json").read_text())
        record["description"] = "A description edited between the two builds."
        (registry / "nominees" / "good-dpg.json").write_text(json.dumps(record))
        other = json.loads((registry / "nominees" / "other-dpg.json").read_text())
        other["name"] = "Brand New Tool"
        (registry / "nominees" / "brand-new-tool.json").write_text(json.dumps(other))
        (registry / "archive" / "old-tool.json").unlink()
        second = build(settings, allow_shrink=True).version
        assert second != first
        harvester.poll(since=first)
        second_dump = canonical(ox.parse(harvester.get(root + "dumps/dpgkg.trig").content,
                                         format=ox.RdfFormat.TRIG))
    assert first_dump != second_dump
    assert canonical(harvester.copy) == second_dump
    kinds = {(a["type"], a["object"]["id"].removeprefix(ID), a.get("changed"))
             for a in harvester.applied}
    assert ("Update", "graph/nominees/good-dpg", "content") in kinds
    assert ("Create", "graph/nominees/brand-new-tool", None) in kinds
    assert ("Delete", "graph/archive/old-tool", None) in kinds
    # a record no source change touched keeps its graph as it was, time made included:
    # no update for it; the build's own description is the provenance that changed
    assert not any(g == "graph/nominees/wrong-types" for _, g, _ in kinds)
    assert ("Update", "graph/build", "provenance") in kinds
    assert {a["id"].split("/")[-2] for a in harvester.applied} == {second}
