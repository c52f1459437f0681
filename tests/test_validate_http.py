"""Validation over HTTP (`POST /validate`, the form at `GET /validate`) against the real
server: the same statuses as `dpgkg validate`, the SHACL report by Accept, the HTML
report, and 400/413/415 for what cannot be validated."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from lxml import html as lxml_html

from dpgkg.cli import main
from dpgkg.validation import INDICATORS, KEYS
from tests.webserver import live_server

FIX = Path(__file__).resolve().parent / "fixtures" / "validation"
SH = "http://www.w3.org/ns/shacl#"
HTML = {"Accept": "text/html"}
TYPES = {".json": "application/json", ".jsonld": "application/ld+json", ".ttl": "text/turtle"}


@pytest.fixture(scope="module")
def url(mini_settings, shared):
    """The real server; the validator's reference data (schemas, licences, SDGs) from
    ../shared."""
    with live_server(mini_settings, sources=str(shared)) as base:
        yield base


@pytest.fixture(scope="module")
def kobo(shared) -> dict:
    """KoboToolbox as the legacy API gives it: nominee and screening fields side by side
    (read from ../shared at test time)."""
    reg = shared / "registry"
    nominee = json.loads((reg / "nominees" / "kobotoolbox.json").read_text())
    screening = json.loads((reg / "digitalpublicgoods" / "kobotoolbox.json").read_text())
    return {**screening, **nominee}


def post(url: str, body: bytes, content_type: str, accept: str = "application/json",
         **kw) -> requests.Response:
    return requests.post(url + "/validate", data=body, timeout=60,
                         headers={"Content-Type": content_type, "Accept": accept}, **kw)


def cli_summary(shared: Path, path: Path) -> dict:
    r = CliRunner().invoke(main, ["validate", "--sources", str(shared), "--format", "json",
                                  str(path)])
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.output)


def statuses(summary: dict) -> dict[str, str]:
    return {k: v["status"] for k, v in summary["indicators"].items()}


def error_detail(resp: requests.Response) -> str:
    body = resp.json()
    assert body["error"]["status"] == resp.status_code
    return body["error"]["detail"]


# --------------------------------------------------------------------------- the summary

def test_screened_dpg_statuses_equal_the_cli(url, kobo, shared, tmp_path):
    path = tmp_path / "kobotoolbox.json"
    path.write_text(json.dumps(kobo))
    resp = post(url, path.read_bytes(), "application/json")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    got = resp.json()
    assert list(got["indicators"]) == list(KEYS)
    want = cli_summary(shared, path)
    assert statuses(got) == statuses(want)
    assert got["conforms"] == want["conforms"]
    # screened: every indicator is answered, and 1 and 2 pass for this DPG
    assert "not-answered" not in statuses(got).values()
    assert got["indicators"]["1"]["status"] == got["indicators"]["2"]["status"] == "pass"


def test_non_approved_licence_fails_indicator_2(url, kobo):
    record = {**kobo, "license": [{"spdx": "BSD-4-Clause",
                                   "licenseURL": "https://example.org/LICENSE"}]}
    resp = post(url, json.dumps(record).encode(), "application/json; charset=utf-8")
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["conforms"] is False
    two = got["indicators"]["2"]
    assert two["status"] == "fail"
    assert any("BSD-4-Clause" in m["message"] for m in two["messages"])
    assert all(m["severity"] and m["message"] for m in two["messages"])


@pytest.mark.parametrize("name", ["good.ttl", "good.jsonld", "fail-structure-email.ttl",
                                  "fail-2-not-approved.json", "na-9c.json"])
def test_every_input_kind_as_the_cli(url, shared, name):
    path = FIX / name
    resp = post(url, path.read_bytes(), TYPES[path.suffix])
    assert resp.status_code == 200, resp.text
    got, want = resp.json(), cli_summary(shared, path)
    assert statuses(got) == statuses(want)
    assert got["conforms"] == want["conforms"]


def test_turtle_and_jsonld_inputs(url):
    ttl = post(url, (FIX / "good.ttl").read_bytes(), "text/turtle").json()
    assert ttl["conforms"] is True
    assert {ttl["indicators"][k]["status"] for k in INDICATORS[2:]} == {"not-answered"}
    jsonld = post(url, (FIX / "good.jsonld").read_bytes(), "application/ld+json").json()
    assert jsonld["conforms"] is True
    bad = post(url, (FIX / "fail-structure-email.ttl").read_bytes(), "text/turtle").json()
    assert bad["conforms"] is False and bad["indicators"]["structure"]["status"] == "fail"


# --------------------------------------------------------------------------- the SHACL report

@pytest.mark.parametrize("accept, fmt", [("text/turtle", ox.RdfFormat.TURTLE),
                                         ("application/ld+json", ox.RdfFormat.JSON_LD)])
def test_shacl_report_by_accept(url, accept, fmt):
    resp = post(url, (FIX / "fail-7.json").read_bytes(), "application/json", accept=accept)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].split(";")[0] == accept
    assert "Accept" in resp.headers["Vary"]
    triples = [q.triple for q in ox.parse(resp.content, format=fmt)]
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    reports = [t.subject for t in triples
               if t.predicate == rdf_type and t.object == ox.NamedNode(SH + "ValidationReport")]
    assert len(reports) == 1
    conforms = [t.object for t in triples
                if t.subject == reports[0] and t.predicate == ox.NamedNode(SH + "conforms")]
    assert [c.value for c in conforms] == ["false"]
    results = [t for t in triples if t.predicate == ox.NamedNode(SH + "result")]
    assert results


# --------------------------------------------------------------------------- refusals

MALFORMED = {  # file -> (Content-Type, what the message must say)
    "not-json.json": ("application/json", "line 3"),
    "string.json": ("application/json", "JSON object"),
    "name-not-string.json": ("application/json", "name"),
    "syntax-error.ttl": ("text/turtle", "line 4"),
    "remote-context.jsonld": ("application/ld+json", "remote @context"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_unreadable_input_is_400_with_a_message(url, name):
    content_type, says = MALFORMED[name]
    resp = post(url, (FIX / "malformed" / name).read_bytes(), content_type)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/json")
    assert says in error_detail(resp)


def test_remote_context_is_never_fetched(url):
    # a context on a port nothing listens on: fetching it would fail differently
    doc = {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "https://example.org/x",
           "name": "X"}
    resp = post(url, json.dumps(doc).encode(), "application/ld+json")
    assert resp.status_code == 400
    detail = error_detail(resp)
    assert "remote @context" in detail and "127.0.0.1:9" in detail


def test_too_large_body_is_413(url):
    body = b'{"name": "Big", "description": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    resp = post(url, body, "application/json")
    assert resp.status_code == 413
    assert "limit" in error_detail(resp)
    page = post(url, body, "application/json", accept="text/html")
    assert page.status_code == 413
    assert page.headers["Content-Type"].startswith("text/html")


def test_too_large_chunked_body_is_413(url):
    def chunks():
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    resp = requests.post(url + "/validate", data=chunks(), timeout=60,
                         headers={"Content-Type": "text/turtle", "Accept": "application/json"})
    assert resp.status_code == 413
    assert "limit" in error_detail(resp)


def test_unsupported_content_type_is_415(url):
    resp = post(url, b"name: KoboToolbox", "text/plain")
    assert resp.status_code == 415
    assert "text/turtle" in error_detail(resp)


def test_unacceptable_answer_type_is_406(url):
    resp = post(url, (FIX / "good.ttl").read_bytes(), "text/turtle", accept="image/png")
    assert resp.status_code == 406


# --------------------------------------------------------------------------- the form

def page(resp: requests.Response):
    assert resp.headers["Content-Type"].startswith("text/html")
    return lxml_html.fromstring(resp.text)


def report_rows(doc) -> dict[str, str]:
    return {tr.get("data-indicator"): tr.get("data-status")
            for tr in doc.xpath('//section[@class="report"]//tr[@class="indicator"]')}


def test_form_page(url):
    resp = requests.get(url + "/validate", headers=HTML, timeout=10)
    assert resp.status_code == 200
    doc = page(resp)
    (form,) = doc.xpath('//form[@id="validate-form"]')
    assert form.get("method") == "post" and form.get("enctype") == "multipart/form-data"
    assert form.xpath('.//textarea[@name="text"]')
    assert form.xpath('.//input[@type="file"][@name="file"]')
    options = form.xpath('.//select[@name="format"]/option/@value')
    assert set(options) >= {"json", "jsonld", "turtle"}
    links = doc.xpath('//ul[@id="indicators"]//a/@href')
    assert links == [f"/ontology#Indicator{k}" for k in INDICATORS]
    assert "/validate" in doc.xpath("//header//nav//a/@href")
    # every asset from the app itself
    assets = doc.xpath("//script/@src | //link[@rel='stylesheet']/@href | //img/@src")
    assert assets and all(not urlsplit(a).netloc for a in assets)
    assert not doc.xpath('//section[@class="report"]')


def test_multipart_upload_gives_the_html_report(url, kobo):
    body = json.dumps(kobo).encode()
    summary = post(url, body, "application/json").json()
    resp = requests.post(url + "/validate", headers=HTML, timeout=60,
                         files={"file": ("kobotoolbox.json", body, "application/json")},
                         data={"format": "auto", "text": ""})
    assert resp.status_code == 200, resp.text
    doc = page(resp)
    rows = report_rows(doc)
    assert list(rows) == list(KEYS)                      # the Standard's order
    assert rows == statuses(summary)
    shown = {tr.get("data-indicator"): tr.xpath('.//span[contains(@class, "status")]')[0]
             .text_content().strip()
             for tr in doc.xpath('//tr[@class="indicator"]')}
    assert set(shown.values()) <= {"pass", "fail", "not applicable", "not answered"}
    (section,) = doc.xpath('//section[@class="report"]')
    assert section.get("data-conforms") == ("true" if summary["conforms"] else "false")
    links = doc.xpath('//tr[@class="indicator"]/th/a/@href')
    assert links == [f"/ontology#Indicator{k}" for k in INDICATORS]


def test_pasted_text_fails_with_messages_in_the_html_report(url):
    text = (FIX / "fail-9b.json").read_text()
    resp = requests.post(url + "/validate", headers=HTML, timeout=60,
                         files={"text": (None, text), "format": (None, "json")})
    assert resp.status_code == 200, resp.text
    doc = page(resp)
    rows = report_rows(doc)
    assert rows["9b"] == "fail"
    assert [k for k, s in rows.items() if s == "fail"] == ["9b"]
    (tr,) = doc.xpath('//tr[@data-indicator="9b"]')
    messages = [li.text_content() for li in tr.xpath('.//ul[@class="messages"]/li')]
    assert messages and all(m.startswith("Violation") for m in messages)
    # the pasted text is kept in the form
    assert json.loads(doc.xpath('//textarea[@name="text"]')[0].text) == json.loads(text)


def test_pasted_turtle_with_a_syntax_error_reshows_the_form(url):
    text = (FIX / "malformed" / "syntax-error.ttl").read_text()
    resp = requests.post(url + "/validate", headers=HTML, timeout=60,
                         files={"text": (None, text), "format": (None, "auto")})
    assert resp.status_code == 400
    doc = page(resp)
    (error,) = doc.xpath('//*[@id="error"]')
    assert "line 4" in error.text_content()
    assert doc.xpath('//textarea[@name="text"]')[0].text == text
    empty = requests.post(url + "/validate", headers={"Accept": "application/json"},
                          timeout=60, files={"text": (None, " "), "format": (None, "auto")})
    assert empty.status_code == 400 and "nothing to validate" in error_detail(empty)


def test_pasted_text_may_be_larger_than_flasks_form_default(url, kobo):
    # Flask keeps form fields under 500 kB by default; a pasted record may be as large
    # as a file upload
    text = json.dumps(kobo, indent=2) + " " * 700_000
    resp = requests.post(url + "/validate", headers={"Accept": "application/json"},
                         timeout=60, files={"text": (None, text), "format": (None, "json")})
    assert resp.status_code == 200, resp.text
    assert set(resp.json()["indicators"]) == set(KEYS)


def test_a_run_past_the_deadline_is_ended(mini_settings, shared, kobo, monkeypatch):
    # a run past the deadline (here one far shorter than any validation takes) is ended,
    # its process killed, and the next request gets a fresh one
    from dpgkg.web import create_app
    from dpgkg.web import validate as view

    client = create_app(mini_settings.with_(sources=str(shared)), {"TESTING": True}).test_client()
    monkeypatch.setattr(view, "TIMEOUT", 0.001)
    resp = client.post("/validate", data=json.dumps(kobo), content_type="application/json")
    assert resp.status_code == 422
    assert "did not finish" in resp.get_json()["error"]["detail"]
    monkeypatch.setattr(view, "TIMEOUT", 60.0)
    resp = client.post("/validate", data=json.dumps(kobo), content_type="application/json")
    assert resp.status_code == 200
    assert set(resp.get_json()["indicators"]) == set(KEYS)


def test_unanswered_indicators_make_the_verdict_incomplete_never_conforms(url, shared):
    """A nominee record without its screening answers: indicators 3 to 9c are not
    answered, so the page says incomplete with their count; each message shows once."""
    text = (shared / "registry" / "nominees" / "kobotoolbox.json").read_text()
    summary = post(url, text.encode(), "application/json").json()
    unanswered = [k for k, v in summary["indicators"].items() if v["status"] == "not-answered"
                  and k in INDICATORS]
    resp = requests.post(url + "/validate", headers=HTML, timeout=60,
                         files={"text": (None, text), "format": (None, "json")})
    doc = page(resp)
    (verdict,) = doc.xpath('//p[@class="verdict"]')
    assert summary["conforms"] and unanswered  # no indicator fails; ten unanswered
    assert verdict.get("data-verdict") == "incomplete"
    assert f"{len(unanswered)} of {len(INDICATORS)} indicators not answered" in \
        verdict.text_content()
    assert "Conforms" not in verdict.text_content()
    for ul in doc.xpath('//ul[@class="messages"]'):
        items = [li.text_content() for li in ul.xpath("li")]
        assert len(items) == len(set(items))
