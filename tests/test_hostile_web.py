"""Every bad request a 4xx (issue 16, item 6), through the real app and `dpgkg serve`.

Paths that make no IRI, hostile query parameters and bodies get 400/404/413, never a
500 with a traceback in the log; 503 bodies name no path on the server; absolute URLs
come from the configured public root, not the Host header; HTML carries a CSP that the
query editor runs under; embedded JSON-LD survives ``<!--<script>`` in its text.

The store is tests/fixtures/mini.trig plus one DPG (below) whose name and description
hold the strings that end a <script> block early.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import html5lib
import pytest
import requests

from dpgkg.config import Settings
from dpgkg.publish.dumps import after_build
from dpgkg.store import open_store
from tests.conftest import FIXTURES, load_fixture_store
from tests.test_browser import browser  # noqa: F401 (the headless Chromium fixture)
from tests.webserver import live_server

PUBLIC = "https://kg.example.org/"  # the public root the server is configured with
FORGED = "evil.example"
TRAP_NAME = "Trap <!--<script> app"
TRAP_DESC = "Ends early: </script><!--<script>alert(1)</script>"
TRAP_TRIG = f"""
@prefix dpg: <https://w3id.org/dpgkg/ontology#> .
@prefix schema: <http://schema.org/> .
<https://w3id.org/dpgkg/id/graph/nominees/trap> {{
  <https://w3id.org/dpgkg/id/dpg/trap> a dpg:Solution, dpg:DigitalPublicGood ;
      schema:name {json.dumps(TRAP_NAME)} ;
      schema:description {json.dumps(TRAP_DESC)} ;
      dpg:stage dpg:DPGStage .
}}
"""

# Path segments that are no IRI once decoded (or are a bad percent-encoding): the
# characters RFC 3987 excludes, controls, NUL, invalid UTF-8, a lone "%".
ODD_SEGMENTS = ["a%3Cb", "a%3Eb", "a%22b", "a%20b", "a%7Bb", "a%7Db", "a%7Cb", "a%5Cb",
                "a%5Eb", "a%60b", "a%0Ab", "a%0Db", "a%09b", "a%01b", "a%00b", "a%7Fb",
                "%FF", "a%C3b", "%C0%AF", "%ED%A0%80", "a%25b", "%25zz", "x" * 4000]
HOSTILE_QUERIES = ["page=-1", "page=99999999999999999999", "page_size=0",
                   "page_size=99999999999999999999", "q=" + "a" * 100_000,
                   "format=%3Cscript%3E", "q=%00", "q=%FF", "q=%3C!--%3Cscript%3E",
                   "query=%FF", "sdg=%00", "country=%3Cx%3E", "stage=a%0Ab"]
ACCEPTS = ["text/html", "application/json", "*/*"]


@pytest.fixture(scope="module")
def settings(tmp_path_factory, shared) -> Settings:
    tmp = tmp_path_factory.mktemp("hostile-web")
    trig = tmp / "hostile.trig"
    trig.write_text((FIXTURES / "mini.trig").read_text() + TRAP_TRIG)
    settings = load_fixture_store(tmp / "store", trig).with_(
        sources=str(shared), public_url=PUBLIC)
    # dumps and the change feed of the version served, as a build leaves them
    after_build(settings, SimpleNamespace(version=open_store(settings.store).version(),
                                          extra={}))
    return settings


@pytest.fixture(scope="module")
def app(settings):
    from dpgkg.web import create_app
    from dpgkg.web import validate as validate_view

    # Not TESTING: errors go through the handlers production uses (500 + logged traceback).
    yield create_app(settings, {"TESTING": False})
    validate_view.shutdown()


@pytest.fixture(scope="module")
def server(settings):
    with live_server(settings) as url:
        yield url


def server_log() -> str:
    """What the running server has written so far (its stdout and stderr are one file)."""
    return Path(f"/proc/{live_server.proc.pid}/fd/1").read_text(errors="replace")


def tracebacks(records) -> list[str]:
    return [r.getMessage() for r in records if r.exc_info or "Traceback" in r.getMessage()]


# Odd IRIs and hostile parameters, on every route --------------------------------------

def _filled(rule: str, segment: str) -> str:
    return re.sub(r"<[^>]+>", segment, rule)


def test_every_route_with_an_odd_segment_is_4xx(app, caplog):
    rules = sorted({r.rule for r in app.url_map.iter_rules()})
    assert "/id/<path:path>" in rules and "/sdg/<path:notation>" in rules
    client = app.test_client()
    bad = []
    with caplog.at_level(logging.INFO):
        for rule in rules:
            for seg in ODD_SEGMENTS:
                paths = [_filled(rule, seg)] if "<" in rule else [rule.rstrip("/") + "/" + seg]
                for path in paths:
                    for accept in ACCEPTS:
                        resp = client.get(path, headers={"Accept": accept})
                        if not 400 <= resp.status_code < 500:
                            bad.append((path[:60], accept, resp.status_code))
    assert bad == []
    assert tracebacks(caplog.records) == []


def test_hostile_query_parameters_are_never_5xx(app, caplog):
    rules = sorted({r.rule for r in app.url_map.iter_rules() if "<" not in r.rule})
    client = app.test_client()
    bad = []
    with caplog.at_level(logging.INFO):
        for rule in rules:
            for q in HOSTILE_QUERIES:
                for accept in ACCEPTS:
                    resp = client.get(f"{rule}?{q}", headers={"Accept": accept})
                    if resp.status_code >= 500:
                        bad.append((rule, q[:40], accept, resp.status_code))
    assert bad == []
    assert tracebacks(caplog.records) == []
    # the browse list past its last page is a 404 that says how many pages there are
    resp = client.get("/dpgs?page=99999999999999999999", headers={"Accept": "application/json"})
    assert resp.status_code == 404 and "pages" in resp.get_json()["error"]["detail"]


def test_every_route_over_http_is_4xx_without_traceback(app, server):
    """The same through `dpgkg serve`: odd segments on every route, hostile parameters
    on every route without one."""
    session = requests.Session()
    bad = {}
    for rule in sorted({r.rule for r in app.url_map.iter_rules()}):
        for seg in ODD_SEGMENTS:
            path = _filled(rule, seg) if "<" in rule else rule.rstrip("/") + "/" + seg
            for accept in ("text/html", "application/ld+json"):
                status = session.get(server + path, headers={"Accept": accept},
                                     timeout=30).status_code
                if not 400 <= status < 500:
                    bad[(path[:50], accept)] = status
        if "<" not in rule:
            for q in HOSTILE_QUERIES:
                status = session.get(f"{server}{rule}?{q}", timeout=30).status_code
                if status >= 500:
                    bad[(rule, q[:40])] = status
    assert bad == {}
    # e.g. the odd IRIs of the issue: /id/dpg/a%3Cb and its kin are 404
    assert session.get(server + "/id/dpg/a%3Cb", timeout=30).status_code == 404
    assert "Traceback" not in server_log()


# /validate ------------------------------------------------------------------------------

def _validate(server: str, body: bytes, content_type: str = "application/json"):
    return requests.post(server + "/validate", data=body, timeout=120,
                         headers={"Content-Type": content_type, "Accept": "application/json"})


@pytest.mark.parametrize("content_type", ["application/json", "application/ld+json"])
def test_validate_deep_huge_and_long_number_inputs_are_4xx(server, settings, content_type):
    deep = _validate(server, b"[" * 100_000 + b"]" * 100_000, content_type)
    assert deep.status_code == 400, deep.text
    assert "nested too deeply" in deep.json()["error"]["detail"]
    deep_obj = _validate(server, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, content_type)
    assert deep_obj.status_code == 400, deep_obj.text
    number = _validate(server, b'{"name": ' + b"9" * 100_000 + b"}", content_type)
    assert number.status_code == 400, number.text
    assert "digits" in number.json()["error"]["detail"]
    huge = _validate(server, b'{"name": "' + b"a" * settings.max_body_bytes + b'"}',
                     content_type)
    assert huge.status_code == 413
    assert "Traceback" not in server_log()


def test_validate_runs_ended_together_are_never_500(app, shared, monkeypatch, caplog):
    """Several runs past the deadline at once: each ends with 422 (or 503 when another
    run's end cancelled it), none with a 500."""
    from dpgkg.web import validate as view

    reg = shared / "registry"
    kobo = {**json.loads((reg / "digitalpublicgoods" / "kobotoolbox.json").read_text()),
            **json.loads((reg / "nominees" / "kobotoolbox.json").read_text())}
    body = json.dumps([kobo] * 20)
    client = app.test_client()
    monkeypatch.setattr(view, "TIMEOUT", 0.3)
    statuses: list[int] = []

    def post():
        resp = client.post("/validate", data=body, content_type="application/json")
        statuses.append(resp.status_code)

    with caplog.at_level(logging.INFO):
        threads = [threading.Thread(target=post) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(statuses) == 3 and set(statuses) <= {422, 503}, statuses
    assert tracebacks(caplog.records) == []
    monkeypatch.setattr(view, "TIMEOUT", 60.0)  # and the next run gets a fresh process
    resp = client.post("/validate", data=json.dumps(kobo), content_type="application/json")
    assert resp.status_code == 200, resp.get_data(as_text=True)


# Error bodies -------------------------------------------------------------------------

def test_503_bodies_name_no_path_on_the_server(tmp_path, caplog):
    from dpgkg.web import create_app

    store = tmp_path / "never-built"
    app = create_app(Settings(store=str(store)), {"TESTING": False})
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        for path in ("/health", "/sparql?query=ASK%7B%7D", "/id/dpg/healthapp", "/catalog.ttl",
                     "/", "/sitemap.xml", "/dumps/"):
            for accept in ("application/json", "text/html"):
                resp = client.get(path, headers={"Accept": accept})
                text = resp.get_data(as_text=True)
                assert resp.status_code == 503, (path, text[:300])
                assert str(tmp_path) not in text and "never-built" not in text, (path, text)
                assert "no graph built yet" in text  # still says what is wrong
    # the operator's log has the full text, on one line without a traceback
    assert any(str(store) in r.getMessage() for r in caplog.records)
    assert tracebacks(caplog.records) == []


# Absolute URLs ------------------------------------------------------------------------

def test_a_forged_host_header_is_never_reflected(server):
    forged = {"Host": FORGED, "X-Forwarded-Host": FORGED}
    checks = {
        "/catalog.ttl": "text/turtle", "/catalog.jsonld?page=1&page_size=1": "*/*",
        "/.well-known/void.ttl": "*/*", "/sitemap.xml": "*/*", "/dumps/": "*/*",
        "/changes": "application/json", "/changes?format=as2": "*/*",
        "/sparql": "text/turtle", "/id/dpg/healthapp.jsonld": "*/*", "/": "text/html",
    }
    for path, accept in checks.items():
        resp = requests.get(server + path, headers={**forged, "Accept": accept}, timeout=30)
        assert resp.status_code == 200, (path, resp.text[:300])
        everything = resp.text + json.dumps(dict(resp.headers))
        assert FORGED not in everything, path
        assert PUBLIC in everything, path  # the URLs it has are the configured ones
    sd = requests.get(server + "/sparql", headers={**forged, "Accept": "text/turtle"},
                      timeout=30)
    assert f"<{PUBLIC}sparql>" in sd.text
    changes = requests.get(server + "/changes", headers=forged, timeout=30)
    assert changes.headers["Link"].startswith(f"<{PUBLIC}changes?page=1>")


# Security headers ---------------------------------------------------------------------

def test_security_headers(server):
    html = ["/", "/query", "/dpgs", "/search?q=health", "/id/dpg/healthapp", "/validate",
            "/id/nothing-here"]
    other = ["/sparql?query=" + quote("SELECT * { ?s ?p ?o } LIMIT 1"),  # the fast path
             "/catalog.ttl", "/assets/site.css", "/health", "/context.jsonld",
             "/id/dpg/healthapp.ttl", "/no-such-route"]
    for path in html + other:
        accept = "text/html" if path in html else "*/*"
        resp = requests.get(server + path, headers={"Accept": accept}, timeout=30)
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path
        assert resp.headers.get("Referrer-Policy"), path
        if path in html:
            assert resp.headers["Content-Type"].startswith("text/html"), path
            csp = resp.headers.get("Content-Security-Policy", "")
            directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";"))
            assert directives.get("frame-ancestors") == "'none'", (path, csp)
            assert directives.get("script-src") == "'self'", (path, csp)
            assert directives.get("object-src") == "'none'", (path, csp)


# Embedded JSON-LD ---------------------------------------------------------------------

def _page_survives(text: str, heading: str) -> list:
    """The JSON-LD blocks of a page parsed as the HTML standard says (html5lib), after
    checking that the page's heading is still there (a block that swallowed the rest of
    the page leaves no <h1>)."""
    doc = html5lib.parse(text, namespaceHTMLElements=False)
    assert [h.text for h in doc.iter("h1")] == [heading]
    assert list(doc.iter("footer"))
    blocks = [s.text for s in doc.iter("script") if s.get("type") == "application/ld+json"]
    assert blocks
    return [json.loads(b) for b in blocks]


def test_comment_open_in_a_search_does_not_swallow_the_page(server):
    q = "<!--<script>"
    resp = requests.get(server + "/search", params={"q": q},
                        headers={"Accept": "text/html"}, timeout=30)
    assert resp.status_code == 200
    (doc,) = _page_survives(resp.text, "Search")
    assert doc["name"] == f"Search results for {q}"


def test_comment_open_in_registry_text_does_not_swallow_the_page(server):
    resp = requests.get(server + "/id/dpg/trap", headers={"Accept": "text/html"}, timeout=30)
    assert resp.status_code == 200
    (doc,) = _page_survives(resp.text, TRAP_NAME)
    assert doc["name"] == TRAP_NAME and doc["description"] == TRAP_DESC


# In a browser ---------------------------------------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
needs_browser = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver")


def _csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"]]


@needs_browser
@pytest.mark.browser
def test_the_query_editor_runs_under_the_csp(browser, server):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    resp = requests.get(server + "/query", headers={"Accept": "text/html"}, timeout=30)
    assert "frame-ancestors 'none'" in resp.headers.get("Content-Security-Policy", "")
    browser.get(server + "/query")
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return !!window.dpgkgYasgui"))
    browser.find_element(By.XPATH, "//button[contains(., 'OSI-approved')]").click()

    def cells(d):
        found = d.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr td")
        return [c.text for c in found] if found else None

    assert "HealthApp" in " ".join(WebDriverWait(browser, 20).until(cells))
    assert _csp_violations(browser) == []
    # the other pages with script or style: the validation form, a resource, a search
    for path, heading in (("/validate", None), ("/id/dpg/trap", TRAP_NAME),
                          ("/search?q=" + quote("<!--<script>"), "Search")):
        browser.get(server + path)
        h1 = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
        if heading:
            assert h1[0].text == heading, path
        time.sleep(0.2)  # console messages of the page's last resources
        assert _csp_violations(browser) == [], path
