"""The site in a real browser: headless Chromium follows a DPG and runs an example query."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.web_fixtures import *

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver"),
]


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dpgkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    owned = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "section.incoming li a")]
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
