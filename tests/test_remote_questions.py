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
def remote_settings(request, shared, full_settings, tmp_path_factory):
    """A real server started for this module, holding the full build from ../shared."""
    cls = SERVERS[request.param]
    if not cls.available():
        pytest.skip(f"{cls.binary} is not installed (run .ci/stores.sh)")
    srv = cls(tmp_path_factory.mktemp(request.param)).start()
    creds = {"store_user": VIRTUOSO_USER, "store_password": VIRTUOSO_PASSWORD} \
        if srv.kind == "virtuoso" else {}
    # validated and with the registry's history, like the embedded build
    settings = Settings(store=srv.spec, sources=str(shared), history=full_settings.history,
                        cache_dir=full_settings.cache_dir, **creds)
    report = build(settings)
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


# Beside the example questions: which graphs there are and what is in each (the store's
# bookkeeping must not show), and the triples of the default graph by predicate (each
# distinct triple once, as in the embedded store's merge).
DATASET = [
    ("graphs", "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }"),
    ("quads per graph", "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"),
    ("triples per predicate",
     "SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p"),
    ("default graph per predicate", "SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p"),
]


@pytest.mark.parametrize("title,sparql", EXAMPLES + DATASET,
                         ids=[t[:40] for t, _ in EXAMPLES + DATASET])
def test_examples_answer_the_same_on_every_store(remote_settings, full_settings, title, sparql):
    embedded = answers(open_store(full_settings.store), sparql)
    remote = answers(open_store(remote_settings.store, settings=remote_settings), sparql)
    assert embedded, f"{title}: no answer on the embedded store"
    assert remote == embedded
