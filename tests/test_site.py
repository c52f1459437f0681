"""The human site over HTTP: pages hold what the graph holds, links go both ways,
schema.org JSON-LD is embedded, and every asset comes from the app itself."""

from __future__ import annotations

import json
import re

import pytest
import requests
from lxml import html as lxml_html

from dpgkg.publish.examples import EXAMPLES
from dpgkg.publish.stats import graph_stats
from dpgkg.store import open_store
from tests.web_fixtures import *
from tests.web_fixtures import RESOURCES

HTML = {"Accept": "text/html"}


def page(live_url: str, path: str):
    resp = requests.get(live_url + path, headers=HTML, timeout=10)
    assert resp.status_code == 200, (path, resp.status_code)
    assert resp.headers["Content-Type"].startswith("text/html")
    return lxml_html.fromstring(resp.text)


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def schema_objects(doc) -> list[dict]:
    return [json.loads(s.text) for s in doc.xpath('//script[@type="application/ld+json"]')]


def test_home_shows_the_counts_and_charts(live_url, web_settings):
    s = graph_stats(open_store(web_settings.store))
    doc = page(live_url, "/")
    assert texts(doc, '//*[@id="count-dpgs"]') == [str(s["dpgs"])]
    assert texts(doc, '//*[@id="count-solutions"]') == [str(s["solutions"])]
    assert texts(doc, '//*[@id="count-organisations"]') == [str(s["organisations"])]
    charts = {texts(f, "figcaption")[0]: f for f in doc.xpath('//figure[@class="chart"]')}
    assert set(charts) >= {"DPGs per SDG goal", "DPGs per type", "DPGs per licence"}
    sdg_links = [a.get("href") for a in charts["DPGs per SDG goal"].xpath(".//*[local-name()='a']")]
    assert sdg_links == ["/dpgs?sdg=3"]  # only HealthApp is a DPG; it serves SDG 3
    licence = charts["DPGs per licence"].xpath(".//*[local-name()='text']/text()")
    assert "MIT" in licence and "1" in licence
    (obj,) = schema_objects(doc)
    assert obj["@type"] == "Dataset"


def test_stats_counts(web_settings):
    s = graph_stats(open_store(web_settings.store), web_settings)
    assert (s["solutions"], s["dpgs"], s["organisations"]) == (2, 1, 2)
    assert {r["label"]: r["count"] for r in s["by_stage"]} == {"DPGStage": 1, "NomineeStage": 1}
    assert [(r["label"], r["count"]) for r in s["dpgs_by_sdg"]] == [("3", 1)]
    assert [(r["label"], r["count"]) for r in s["dpgs_by_licence"]] == [("MIT", 1)]
    assert [(r["label"], r["count"]) for r in s["dpgs_by_type"]] == [("Software", 1)]
    assert s["current_members"] == 1 and s["triples"] > 100


def names(doc) -> list[str]:
    return texts(doc, '//li[@class="item"]/a[@class="name"]')


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["HealthApp"]),
    ("?stage=all", ["HealthApp", "LearnKit"]),
    ("?stage=NomineeStage", ["LearnKit"]),
    ("?sdg=4&stage=all", ["LearnKit"]),
    ("?sdg=4", []),
    ("?type=Content&stage=all", ["LearnKit"]),
    ("?licence=MIT", ["HealthApp"]),
    ("?licence=CC-BY-4.0&stage=all", ["LearnKit"]),
    ("?country=KE&stage=all", ["HealthApp"]),
    ("?country=ke", ["HealthApp"]),
    ("?sdg=3%3E%20.%20%3Fs%20%3Fp", ["HealthApp"]),  # not a safe value: ignored
])
def test_browse_filters(live_url, query, expected):
    doc = page(live_url, "/dpgs" + query)
    assert names(doc) == expected
    assert texts(doc, '//*[@id="total"]') == [str(len(expected))]


def test_browse_paginates(client, monkeypatch):
    from dpgkg.web import lists

    monkeypatch.setattr(lists, "PAGE_SIZE", 1)
    first = lxml_html.fromstring(client.get("/dpgs?stage=all").data)
    assert names(first) == ["HealthApp"]
    (nxt,) = first.xpath('//a[@rel="next"]/@href')
    second = lxml_html.fromstring(client.get(nxt).data)
    assert names(second) == ["LearnKit"] and not second.xpath('//a[@rel="next"]')
    assert second.xpath('//a[@rel="prev"]')


@pytest.mark.parametrize(("q", "first", "kind"), [
    ("healthapp", "HealthApp", "DPG"),
    ("lessons", "LearnKit", "Nominee"),
    ("unicef", "UNICEF", "Organisation"),
    ("primary education", "By 2030, ensure that all girls and boys complete primary education",
     "SDG target"),
    ("kenya", "Kenya", "Country"),
])
def test_search(live_url, q, first, kind):
    doc = page(live_url, "/search?q=" + q)
    results = doc.xpath('//ol[contains(@class, "results")]/li')
    assert results, q
    assert texts(results[0], 'a[@class="name"]') == [first]
    assert kind in texts(results[0], 'span[@class="badge"]')
    js = requests.get(live_url + "/search", params={"q": q},
                      headers={"Accept": "application/json"}, timeout=10).json()
    assert js["results"][0]["name"] == first


def test_search_without_matches(live_url):
    doc = page(live_url, "/search?q=zzzqqq")
    assert texts(doc, '//*[@id="total"]') == ["0"]


def props(doc) -> dict[str, list[str]]:
    out = {}
    for row in doc.xpath('//section/table[@class="props"][1]/tr'):
        out[texts(row, "th")[0]] = texts(row, "td//li") or texts(row, "td")
    return out


def test_dpg_page_schema_org(live_url):
    doc = page(live_url, "/id/dpg/healthapp")
    (obj,) = schema_objects(doc)
    assert obj["@type"] == ["SoftwareApplication", "SoftwareSourceCode"]
    assert obj["name"] == "HealthApp"
    assert obj["license"] == "http://spdx.org/licenses/MIT"
    assert obj["codeRepository"] == "https://github.com/example/healthapp"
    assert obj["author"][0]["name"] == "Open Health Org"


def test_every_statement_is_one_click_away(live_url):
    doc = page(live_url, "/id/dpg/healthapp")
    (raw,) = doc.xpath('//a[@id="raw-link"]/@href')
    full = page(live_url, raw)
    p = props(full)
    assert p["relevant to SDG"] == [
        "Ensure healthy lives and promote well-being for all at all ages"]
    assert p["owned by"] == ["Open Health Org"]
    assert full.xpath('//section[@id="sdg-3"]') and full.xpath('//section[@id="license-MIT"]')
    assert {"/id/dpg/healthapp.ttl", "/id/dpg/healthapp.jsonld"} <= set(
        doc.xpath('//p[@id="formats"]/a/@href'))


def test_nominee_page_schema_org_is_creative_work_with_funder(live_url):
    doc = page(live_url, "/id/dpg/learnkit")
    (obj,) = schema_objects(doc)
    assert obj["@type"] == "CreativeWork" and obj["license"].endswith("CC-BY-4.0")
    assert obj["funder"][0]["name"] == "UNICEF"


def incoming(doc) -> dict[str, list[str]]:
    return {texts(s, "h2")[0].rsplit(" (", 1)[0]: texts(s, ".//li")
            for s in doc.xpath('//section[@class="incoming"]')}


def test_alliance_and_member_pages(live_url):
    alliance = page(live_url, "/id/org/digital-public-goods-alliance")
    members = alliance.xpath('//section[@id="members"]//tr[td]')
    assert [texts(r, "td")[0] for r in members] == ["UNICEF"]
    membership = page(live_url, "/id/membership/unicef")
    p = props(membership)
    assert p["member"] == ["UNICEF"] and p["joined"][0].startswith("2019")
    assert "/id/org/unicef" in membership.xpath("//a/@href")


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_every_resource_page_embeds_schema_org(live_url, kind):
    iri, path = RESOURCES[kind]
    (obj,) = schema_objects(page(live_url, path))
    assert obj["@context"] == "https://schema.org" and obj["@id"] == iri and obj["name"]


def test_query_page_offers_the_examples_and_downloads(live_url):
    doc = page(live_url, "/query")
    assert texts(doc, '//div[@id="examples"]/button') == [t for t, _ in EXAMPLES]
    embedded = json.loads(doc.xpath('//script[@id="example-queries"]')[0].text)
    assert [e["query"] for e in embedded] == [q for _, q in EXAMPLES]
    formats = doc.xpath('//p[@id="downloads"]/a/@data-format')
    assert set(formats) >= {"json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld"}


def test_examples_run(web_settings):
    store = open_store(web_settings.store)
    for _, query in EXAMPLES:
        list(store.query(query))  # parses and runs; tests/test_graph_questions checks answers


PAGES = ["/", "/dpgs", "/search?q=health", "/query", "/id/dpg/healthapp", "/sdg/3",
         "/ontology", "/shapes", "/id/org/unicef", "/organisations", "/members"]


@pytest.mark.parametrize("path", PAGES)
def test_assets_are_served_by_the_app(live_url, path):
    doc = page(live_url, path)
    assets = doc.xpath("//script/@src | //link[@rel='stylesheet']/@href | //img/@src")
    assert assets or path not in ("/", "/query")
    assert doc.xpath("//link[@rel='icon']/@href")
    for url in assets:
        assert not re.match(r"^(https?:)?//", url), f"{url} is not served by the app"
        resp = requests.get(live_url + url, timeout=10)
        assert resp.status_code == 200 and resp.content, url


def test_vendored_editor_is_small_and_licensed():
    from pathlib import Path

    from dpgkg.web import site

    vendor = Path(site.__file__).parent / "static" / "vendor" / "yasgui"
    assert (vendor / "LICENSE").read_text().count("MIT License") == 1
    assert sum(f.stat().st_size for f in vendor.iterdir()) < 2_000_000
