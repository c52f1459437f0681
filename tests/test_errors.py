"""The one error handler: HTML from templates/error.html or JSON by Accept, and the 500
handler (registered when the app is not in testing mode) for a view that fails."""

from __future__ import annotations

import logging

import pytest

from dpgkg.web import create_app
from tests.web_fixtures import *  # the web_settings fixture

SECRET = "internal detail that must not reach the client"


@pytest.fixture(scope="module")
def failing_client(web_settings):
    """The real app, as deployed (not TESTING), plus one view that raises."""
    app = create_app(web_settings)
    assert not app.testing

    def boom():
        raise RuntimeError(SECRET)

    app.add_url_rule("/boom", "boom", boom)
    return app.test_client()


def test_an_unexpected_error_is_a_500_page_from_the_template(failing_client, caplog):
    with caplog.at_level(logging.ERROR, logger="dpgkg.web.errors"):
        resp = failing_client.get("/boom", headers={"Accept": "text/html"})
    assert resp.status_code == 500
    assert resp.mimetype == "text/html" and resp.mimetype_params["charset"] == "utf-8"
    body = resp.get_data(as_text=True)
    assert "<title>500 Internal Server Error · dpgkg</title>" in body  # error.html
    assert "the server failed to answer this request" in body
    assert SECRET not in body
    # the traceback goes to the log, with the method and path
    logged = [r for r in caplog.records if r.name == "dpgkg.web.errors"]
    assert logged and "unhandled RuntimeError on GET /boom" in logged[0].getMessage()
    assert logged[0].exc_info is not None


def test_an_unexpected_error_is_json_for_api_clients(failing_client):
    resp = failing_client.get("/boom", headers={"Accept": "application/json"})
    assert resp.status_code == 500 and resp.mimetype == "application/json"
    assert resp.get_json() == {"error": {
        "status": 500, "title": "Internal Server Error",
        "detail": "the server failed to answer this request; it has been logged"}}
    assert SECRET not in resp.get_data(as_text=True)


def test_a_404_page_comes_from_the_template(failing_client):
    resp = failing_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "<title>404 Not Found · dpgkg</title>" in resp.get_data(as_text=True)
