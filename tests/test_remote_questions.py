"""The same build and the same answers on the embedded store, the Oxigraph server and Virtuoso."""

from __future__ import annotations

from collections import Counter

import pytest

from dpgkg.build import build
from dpgkg.config import Settings
from dpgkg.publish.examples import EXAMPLES
from dpgkg.store import open_store
from tests.stores import SERVERS, VIRTUOSO_PASSWORD, VIRTUOSO_USER

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=sorted(SERVERS))
def remote_settings(request, shared, tmp_path_factory):
    """A real server started for this module, holding the full build from ../shared."""
    cls = SERVERS[request.param]
    if not cls.available():
        pytest.skip(f"{cls.binary} is not installed (run .ci/stores.sh)")
    srv = cls(tmp_path_factory.mktemp(request.param)).start()
    creds = {"store_user": VIRTUOSO_USER, "store_password": VIRTUOSO_PASSWORD} \
        if srv.kind == "virtuoso" else {}
    settings = Settings(store=srv.spec, sources=str(shared), **creds)
    report = build(settings, validate=False)
    assert report.records > 700
    yield settings
    srv.stop()


def answers(store, sparql: str) -> Counter:
    """Rows as value tuples; GROUP_CONCAT lists compared as sets (their order is free)."""
    out = Counter()
    for row in store.query(sparql):
        values = []
        for v in row:
            text = "" if v is None else v.value
            values.append(", ".join(sorted(text.split(", "))) if ", " in text else text)
        out[tuple(values)] += 1
    return out


@pytest.mark.parametrize("title,sparql", EXAMPLES, ids=[t[:40] for t, _ in EXAMPLES])
def test_examples_answer_the_same_on_every_store(remote_settings, full_settings, title, sparql):
    embedded = answers(open_store(full_settings.store), sparql)
    remote = answers(open_store(remote_settings.store, settings=remote_settings), sparql)
    assert embedded, f"{title}: no answer on the embedded store"
    assert remote == embedded
