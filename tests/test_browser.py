"""The site in a real browser: headless Chromium follows a DPG and runs an example query."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.web_fixtures import *

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver"),
]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver  # the test extra
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dpgkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, condition, seconds: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def test_home_to_a_dpg(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url + "/")
    assert browser.find_element(By.ID, "count-dpgs").text == "1"
    browser.find_element(By.LINK_TEXT, "Browse").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "li.item a.name"))
    browser.find_element(By.LINK_TEXT, "HealthApp").click()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "HealthApp")
    assert browser.current_url.endswith("/id/dpg/healthapp")
    browser.find_element(By.LINK_TEXT, "Open Health Org").click()
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Open Health Org")
    owned = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#solutions td a")]
    assert {"HealthApp", "LearnKit"} <= set(owned)


def test_query_page_runs_an_example(browser, live_url):
    from selenium.webdriver.common.by import By

    browser.get(live_url + "/query")
    _wait(browser, lambda d: d.execute_script("return !!window.dpgkgYasgui"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and "favicon" not in e["message"]]
    assert not errors, errors
    button = browser.find_element(By.XPATH, "//button[contains(., 'OSI-approved')]")
    button.click()

    def rows(d):
        cells = d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr td")
        return [c.text for c in cells] if cells else None

    cells = _wait(browser, rows)
    assert "HealthApp" in " ".join(cells), cells
    query = browser.execute_script("return window.dpgkgYasgui.getTab().getQuery()")
    assert "osiApproved" in query
    link = browser.find_element(By.CSS_SELECTOR, "#downloads a[data-format='csv']")
    assert "/sparql?query=" in link.get_attribute("href") and "format=csv" in link.get_attribute(
        "href")


# Every page kind, at a phone's width and a laptop's: no sideways scrolling, no console
# error, no serious or critical axe-core violation. axe-core is the npm package (installed
# by `npm ci` in .ci/setup.sh), injected from disk: nothing is fetched from the network.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = Path(os.environ.get("DPGKG_ARTEFACTS") or ROOT / "tmp" / "artefacts")
PAGE_KINDS = {
    "home": "/", "browse": "/dpgs", "search": "/search?q=health", "query": "/query",
    "validate": "/validate", "dpg": "/id/dpg/healthapp", "nominee": "/id/dpg/learnkit",
    "raw": "/id/dpg/healthapp?view=all", "organisation": "/id/org/unicef",
    "alliance": "/id/org/digital-public-goods-alliance", "organisations": "/organisations",
    "members": "/members", "sdg-goal": "/sdg/3", "sdg-target": "/sdg/3.1",
    "country": "/id/country/KE", "membership": "/id/membership/unicef",
    "ontology": "/ontology", "catalog": "/catalog", "dumps": "/dumps/", "changes": "/changes",
    "not-found": "/no/such/page",
}
WIDTHS = (390, 1366)


def _axe_violations(driver) -> list[dict]:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in the project root (.ci/setup.sh does)")
    driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));")
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", sorted(PAGE_KINDS))
def test_page_kind_fits_is_quiet_and_accessible(browser, live_url, kind, width):
    path = PAGE_KINDS[kind]
    browser.set_window_size(width, 900)
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(live_url + path)
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTEFACTS / f"{kind}-{width}.png"))
    scroll, client = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"{path} scrolls sideways at {width} px ({scroll} > {client})"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
              # the 404 page's own status is logged as an error by Chromium
              and not (kind == "not-found" and path in e["message"] and "404" in e["message"])]
    assert not errors, errors
    assert not _axe_violations(browser), path


def test_crawl_three_levels_from_home(live_url):
    """Every link of this site, three clicks from the home page, answers 200 (or redirects
    to a page that does)."""
    import requests
    from lxml import html as lxml_html

    seen, level, bad = {"/"}, ["/"], []
    for _depth in range(3):
        following = []
        for path in level:
            resp = requests.get(live_url + path, headers={"Accept": "text/html"}, timeout=20)
            if resp.status_code != 200:
                bad.append((path, resp.status_code))
                continue
            if not resp.headers.get("Content-Type", "").startswith("text/html"):
                continue
            for href in lxml_html.fromstring(resp.content).xpath("//a/@href"):
                link = href.split("#", 1)[0]
                link = link.removeprefix(live_url)
                if not link.startswith("/") or link.startswith("//") or link in seen:
                    continue
                seen.add(link)
                following.append(link)
        level = following
    for path in level:  # the third level's links: their status only
        resp = requests.get(live_url + path, headers={"Accept": "text/html"}, timeout=20)
        if resp.status_code != 200:
            bad.append((path, resp.status_code))
    assert not bad, bad
    assert len(seen) > 30
