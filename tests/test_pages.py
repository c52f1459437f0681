"""The pages people read, over real HTTP on the small fixture graph (tests/web_fixtures.py):
the DPG page's facts, checklist, history and map; organisation and member lists and
pages; SDG pages; search paging; the HTML views of the machine documents; error pages.
Expected answers are computed from the graph with plain queries, not copied."""

from __future__ import annotations

import pytest
import requests
from lxml import html as lxml_html

from dpgkg.store import open_store
from dpgkg.validation.status import INDICATORS
from tests.web_fixtures import *

HTML = {"Accept": "text/html"}


def get(live_url: str, path: str, status: int = 200):
    resp = requests.get(live_url + path, headers=HTML, timeout=10, allow_redirects=False)
    assert resp.status_code == status, (path, resp.status_code)
    return resp


def page(live_url: str, path: str):
    resp = get(live_url, path)
    assert resp.headers["Content-Type"].startswith("text/html")
    return lxml_html.fromstring(resp.text)


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def test_dpg_page_above_the_fold(live_url):
    doc = page(live_url, "/id/dpg/healthapp")
    assert texts(doc, "//h1") == ["HealthApp"]
    # the fixture's ontology has no labels for these concepts: their names then
    assert texts(doc, '//p[@class="kind"]/a') == ["Software", "DPGStage"]
    assert doc.xpath('//p[@class="kind"]/a/@href') == [
        "/dpgs?type=Software&stage=all",
        "/dpgs?stage=DPGStage",
    ]
    facts = {texts(dt, ".")[0]: dt.getnext() for dt in doc.xpath('//dl[@id="facts"]/dt')}
    assert texts(facts["Sustainable Development Goals"], ".//li") == [
        "3 Ensure healthy lives and promote well-being for all at all ages"
    ]
    licence = texts(facts["Licence"], ".")[0]
    assert licence.startswith("MIT MIT License") and "approved for software" in licence
    assert texts(facts["Owner"], ".//a") == ["Open Health Org"]
    assert facts["Owner"].xpath(".//a/@href") == ["/id/org/open-health-org"]
    assert facts["Website"].xpath(".//a/@href") == ["https://healthapp.example.org/"]
    assert facts["Repository"].xpath(".//a/@href") == ["https://github.com/example/healthapp"]
    assert doc.xpath('//a[@id="registry-record"]/@href') == [
        "https://github.com/DPGAlliance/publicgoods-candidates/blob/main/nominees/healthapp.json"
    ]


def test_a_nominees_licence_not_approved_for_its_type_says_so(live_url):
    doc = page(live_url, "/id/dpg/learnkit")
    licence = texts(doc, '//dl[@id="facts"]/dt[.="Licence"]/following-sibling::dd[1]')[0]
    assert "approved for content" in licence  # CC-BY-4.0 is approved for content and data


def test_the_standard_at_a_glance(live_url, web_settings):
    store = open_store(web_settings.store)
    expected = {
        r["i"].value.rsplit("#Indicator", 1)[1]: r["s"].value
        for r in store.select(
            "PREFIX dpg: <https://w3id.org/dpgkg/ontology#> SELECT ?i ?s { ?r dpg:validatedRecord "
            "<https://w3id.org/dpgkg/id/dpg/healthapp> ; dpg:indicator ?i ; dpg:status ?s }"
        )
    }
    doc = page(live_url, "/id/dpg/healthapp")
    rows = doc.xpath('//section[@id="standard"]//li[@class="indicator"]')
    assert [r.get("data-indicator") for r in rows] == list(INDICATORS)
    shown = {r.get("data-indicator"): r.get("data-status") for r in rows}
    assert {k: v for k, v in shown.items() if v != "unknown"} == expected
    three = rows[INDICATORS.index("3")]
    assert texts(three, './/ul[@class="messages"]/li') == ["Violation: Say who owns the copyright."]
    assert texts(three, ".//table//th") == ["is ownership explicit"]
    one = rows[0]
    assert "Clinics in Kenya keep patient records with it." in texts(one, ".//td")[0]


def test_history_timeline_only_when_the_graph_has_one(live_url):
    doc = page(live_url, "/id/dpg/healthapp")
    items = texts(doc, '//section[@id="history"]//li')
    assert items[0].startswith("2020-05-04") and items[-1].startswith("2024-03-15")
    assert any(i.startswith("2021-06-01 Stage Nominee → DPG") for i in items)
    assert doc.xpath('//section[@id="history"]//a/@href') == [
        "https://github.com/DPGAlliance/publicgoods-candidates/commit/"
        + "0123456789abcdef" * 2 + "01234567"
    ]
    assert not page(live_url, "/id/dpg/learnkit").xpath('//section[@id="history"]')


def test_countries_on_a_map_with_the_list_collapsed(live_url):
    doc = page(live_url, "/id/dpg/healthapp")
    section = doc.xpath('//section[@id="countries"]')[0]
    coloured = section.xpath(".//*[local-name()='svg']/*[@class]")
    assert [texts(p, "*[local-name()='title']") for p in coloured] == [["Kenya"]]
    assert coloured[0].get("class") == "deployment"
    assert len(section.xpath(".//*[local-name()='path']")) > 150  # the whole world drawn
    assert section.xpath(".//details/summary") and texts(section, ".//details//li") == ["Kenya"]


def test_organisation_page_lists_each_solution_once_with_roles(live_url):
    doc = page(live_url, "/id/org/open-health-org")
    rows = [texts(r, "td") for r in doc.xpath('//section[@id="solutions"]//tbody/tr')]
    assert rows == [["HealthApp", "owner", "DPG"], ["LearnKit", "owner", "Nominee"]]
    unicef = page(live_url, "/id/org/unicef")
    assert texts(unicef, '//section[@id="solutions"]//tbody/tr/td[1]') == ["LearnKit"]
    timeline = texts(unicef, '//section[@id="membership-history"]//li')
    assert timeline[0].startswith("2019 Joined the Digital Public Goods Alliance (co-founder)")
    assert timeline[-1] == "Member today"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/organisations", ["Open Health Org", "UNICEF"]),
        ("/organisations?member=current", ["UNICEF"]),
        ("/organisations?member=never", ["Open Health Org"]),
        ("/organisations?role=funder", ["UNICEF"]),
        ("/organisations?role=owner", ["Open Health Org"]),
        ("/organisations?type=Multilateral", ["UNICEF"]),
        ("/members", ["UNICEF"]),
        ("/members?member=former", []),
    ],
)
def test_organisation_lists_filter(live_url, path, expected):
    doc = page(live_url, path)
    assert texts(doc, '//tr[@class="org"]/td[1]/a') == expected
    assert texts(doc, '//*[@id="total"]') == [str(len(expected))]


def test_home_counts_link_to_the_lists(live_url):
    doc = page(live_url, "/")
    assert doc.xpath('//*[@id="count-organisations"]/ancestor::a/@href') == ["/organisations"]
    assert doc.xpath('//*[@id="count-members"]/ancestor::a/@href') == ["/members"]


def test_sdg_page_targets_in_order_and_dpgs_by_stage(live_url):
    doc = page(live_url, "/sdg/3")
    assert texts(doc, '//section[@id="targets"]/ol/li/a') == ["3.1"]
    assert texts(doc, '//ul[contains(@class, "solutions")]/li') == ["HealthApp"]
    assert texts(doc, '//span[@data-stage="DPGStage"]') == ["1"]
    four = page(live_url, "/sdg/4")
    assert texts(four, '//ul[contains(@class, "solutions")]/li') == []
    assert texts(
        page(live_url, "/sdg/4?stage=NomineeStage"), '//ul[contains(@class, "solutions")]/li'
    ) == ["LearnKit"]
    get(live_url, "/sdg/4?stage=Bogus", 404)


def test_empty_filter_parameters_redirect_to_the_clean_url(live_url):
    resp = get(live_url, "/dpgs?sdg=&type=Software&licence=", 302)
    assert resp.headers["Location"].endswith("/dpgs?type=Software")
    resp = get(live_url, "/organisations?type=&country=", 302)
    assert resp.headers["Location"].endswith("/organisations")


@pytest.mark.parametrize(
    "path",
    [
        "/dpgs?page=999",
        "/dpgs?page=0",
        "/dpgs?page=x",
        "/search?q=health&page=2",
        "/organisations?page=3",
    ],
)
def test_out_of_range_pages_are_404_with_navigation(live_url, path):
    doc = lxml_html.fromstring(get(live_url, path, 404).text)
    assert doc.xpath('//header//nav//a[@href="/dpgs"]') and doc.xpath("//footer")


def test_search_total_and_paging(client):
    first = lxml_html.fromstring(client.get("/search?q=open&per_page=1", headers=HTML).data)
    total = int(texts(first, '//*[@id="total"]')[0])
    assert total >= 2
    names = texts(first, '//ol[contains(@class, "results")]/li/a')
    (nxt,) = first.xpath('//a[@rel="next"]/@href')
    second = lxml_html.fromstring(client.get(nxt, headers=HTML).data)
    names += texts(second, '//ol[contains(@class, "results")]/li/a')
    assert len(set(names)) == 2
    js = client.get("/search?q=open&per_page=1&format=json").get_json()
    assert js["total"] == total and js["pages"] == total


@pytest.mark.parametrize(
    ("path", "marker"),
    [("/catalog", '//*[@id="total"]'), ("/dumps/", "//h1"), ("/changes", "//h1")],
)
def test_machine_documents_have_an_html_view_for_browsers(live_url, path, marker):
    doc = page(live_url, path)
    assert doc.xpath(marker) and doc.xpath("//footer")
    machine = requests.get(live_url + path, timeout=10)
    assert not machine.headers["Content-Type"].startswith("text/html")


def test_footer_links_the_machine_interfaces(live_url):
    hrefs = page(live_url, "/").xpath("//footer//a/@href")
    assert {"/sparql", "/catalog", "/dumps/", "/sitemap.xml", "/changes"} <= set(hrefs)


def test_favicon(live_url):
    resp = requests.get(live_url + "/assets/favicon.svg", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("image/svg")


def test_full_graph_sdg_pages_agree_with_the_home_page(full_settings):
    """On the real graph: each goal's DPG count on its page is the home chart's, and the
    DPG page's checklist shows the build's own validation result for every indicator."""
    from dpgkg.publish.stats import graph_stats
    from tests.web_fixtures import make_app

    client = make_app(full_settings).test_client()
    store = open_store(full_settings.store)
    for row in graph_stats(store)["dpgs_by_sdg"]:
        doc = lxml_html.fromstring(client.get(f"/sdg/{row['label']}", headers=HTML).data)
        assert texts(doc, '//span[@data-stage="DPGStage"]') == [str(row["count"])], row
        assert len(texts(doc, '//ul[contains(@class, "solutions")]/li')) == row["count"]
    expected = {
        r["i"].value.rsplit("#Indicator", 1)[1]: r["s"].value
        for r in store.select(
            "PREFIX dpg: <https://w3id.org/dpgkg/ontology#> SELECT ?i ?s { ?r dpg:validatedRecord "
            "<https://w3id.org/dpgkg/id/dpg/kobotoolbox> ; dpg:indicator ?i ; dpg:status ?s ; "
            'dpg:sourceFile "nominees/kobotoolbox.json" FILTER(CONTAINS(STR(?i), "#Indicator")) }'
        )
    }
    doc = lxml_html.fromstring(client.get("/id/dpg/kobotoolbox", headers=HTML).data)
    shown = {
        li.get("data-indicator"): li.get("data-status")
        for li in doc.xpath('//li[@class="indicator"]')
    }
    assert shown == expected and len(shown) == len(INDICATORS)


# Each page query is a round trip to a query process: what a page shows is read in few
# queries, and what only changes with a build is kept per store version.
@pytest.mark.parametrize(("path", "most"), [
    ("/id/dpg/healthapp", 2),  # the description; validation, record files and history
    ("/id/dpg/healthapp?view=all", 2),  # the description; what links to it
    ("/id/org/open-health-org", 2),  # the description; solutions, memberships, relatives
    ("/sdg/3", 2),  # the concept; the IRIs of its solutions (then kept, so at most)
    ("/dpgs", 0),  # the browse list and this filter's matches are kept
    ("/dpgs?stage=all&page=1", 0),
])
def test_a_page_asks_few_queries_once_the_tables_are_built(app, client, monkeypatch,
                                                             path, most):
    from dpgkg.web.sparql import pool

    assert client.get(path, headers=HTML).status_code == 200  # builds the tables
    qp = pool(app)
    asked, run = [], qp.run
    monkeypatch.setattr(qp, "run",
                        lambda sparql, **kw: asked.append(sparql) or run(sparql, **kw))
    assert client.get(path, headers=HTML).status_code == 200
    # at least one where any (the spy sees the page queries: they go through the pool)
    assert (0 < len(asked) <= most) if most else asked == [], asked
