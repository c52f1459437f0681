"""CKAN harvests /catalog: ckanext-dcat's RDFParser (DCAT-AP 3 profile) over the running server.

Runs in its own environment (`.ci/ckan.sh`: ckan + ckanext-dcat + the project); elsewhere it
is skipped. No CKAN site is needed: the parser only reads CKAN's licence register, which
falls back to CKAN's built-in licences without a config.
"""

from __future__ import annotations

import pytest
import requests

pytest.importorskip("ckanext.dcat", reason="needs ckan + ckanext-dcat (run .ci/ckan.sh)")

from ckanext.dcat.processors import RDFParser

from dpgkg.config import Settings
from dpgkg.publish import catalogue as cat
from dpgkg.publish.dumps import after_build
from dpgkg.store import open_store
from tests.conftest import NO_SHARED, SHARED
from tests.webserver import live_server

PAGE_SIZE = 40

@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """The full graph built from ../shared, with its dumps, as a deployment has it."""
    if not (SHARED / "registry").is_dir():
        pytest.skip(NO_SHARED)
    from dpgkg.build import build

    settings = Settings(store=str(tmp_path_factory.mktemp("ckan-store")), sources=str(SHARED))
    report = build(settings)
    after_build(settings, report)
    return settings


@pytest.fixture(scope="module")
def server(settings):
    """`dpgkg serve` over real HTTP, its catalogue's page links pointing back at it."""
    with live_server(settings, public_here=True) as url:
        yield url


def harvest(url: str) -> tuple[list[dict], list[str]]:
    """What ckanext-dcat's RDF harvester does: parse each page, follow hydra:next."""
    datasets, pages = [], []
    next_url = f"{url}/catalog?page_size={PAGE_SIZE}"
    while next_url:
        assert len(pages) < 100, "paging does not end"
        resp = requests.get(next_url, headers={"Accept": "text/turtle"}, timeout=60)
        assert resp.status_code == 200, resp.text[:300]
        pages.append(next_url)
        parser = RDFParser(profiles=["euro_dcat_ap_3"])
        parser.parse(resp.text, _format="turtle")
        datasets += list(parser.datasets())
        next_url = parser.next_page()
    return datasets, pages


@pytest.fixture(scope="module")
def harvested(server):
    return harvest(server)


def test_every_dpg_becomes_a_ckan_dataset(harvested, settings):
    datasets, pages = harvested
    dpgs = cat.dpg_iris(open_store(settings.store))
    assert len(pages) == -(-len(dpgs) // PAGE_SIZE)
    by_uri = {}
    for d in datasets:
        uri = next(e["value"] for e in d["extras"] if e["key"] == "uri")
        assert uri not in by_uri, f"{uri} on two pages"
        by_uri[uri] = d
    assert set(dpgs) <= set(by_uri)
    assert set(by_uri) - set(dpgs) == {"https://w3id.org/dpgkg/.well-known/void#dataset"}
    for uri in dpgs:
        d = by_uri[uri]
        assert d["title"] and d["notes"], uri
        tags = {t["name"] for t in d["tags"]}
        assert "digital public good" in tags, uri
        assert d["resources"], uri
        assert all(r["url"] for r in d["resources"]), uri
        assert any(r.get("format") or r.get("mimetype") for r in d["resources"]), uri


def test_licence_ids_where_ckan_knows_the_licence(harvested, settings):
    datasets, _ = harvested
    store = open_store(settings.store)
    rows = store.select("""SELECT DISTINCT ?s ?l { ?s a <https://w3id.org/dpgkg/ontology#DigitalPublicGood> ;
                           <http://purl.org/dc/terms/license> ?l }""")
    known = {r["s"].value for r in rows if r["l"].value.rsplit("/", 1)[-1] in cat.CKAN_LICENCES}
    filled = {next(e["value"] for e in d["extras"] if e["key"] == "uri"): d["license_id"]
              for d in datasets if d.get("license_id")}
    dpg_filled = {u: lic for u, lic in filled.items() if u in set(cat.dpg_iris(store))}
    assert set(dpg_filled) == known
    assert len(known) >= 20
    assert set(dpg_filled.values()) <= {"cc-by", "cc-by-sa", "cc-zero", "odc-odbl", "odc-pddl",
                                        "odc-by", "gfdl", "uk-ogl", "cc-nc"}
    print(f"\nCKAN: {len(dpg_filled)} of {len(cat.dpg_iris(store))} DPGs got a license_id: "
          f"{sorted(set(dpg_filled.values()))}")


def test_publisher_and_themes_reach_ckan(harvested):
    datasets, _ = harvested
    with_publisher = [d for d in datasets
                      if any(e["key"] == "publisher_name" for e in d["extras"])]
    with_theme = [d for d in datasets if any(e["key"] == "theme" for e in d["extras"])]
    assert len(with_publisher) == len(datasets)
    assert len(with_theme) >= len(datasets) - 1

