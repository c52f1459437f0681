"""The pages' own queries run in the query pool: same answers, stopped at the time limit."""

from __future__ import annotations

import pytest

from dpgkg.publish.querypool import QueryPool
from dpgkg.publish.querypool.reads import PooledReads
from dpgkg.store import open_store
from dpgkg.store.base import StoreTimeout

RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def reads(mini_settings):
    store = open_store(mini_settings.store)
    pool = QueryPool(mini_settings.store, size=1)
    yield store, PooledReads(store, lambda: pool, timeout=1.0)
    pool.close()


def _rows(results) -> list[tuple]:
    names = [v.value for v in results.variables]
    return sorted(tuple(str(s[n]) for n in names) for s in results)


@pytest.mark.parametrize("sparql", [
    "SELECT ?s ?n { ?s <http://schema.org/name> ?n }",
    "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "SELECT ?s ?o { ?s <http://schema.org/url> ?o OPTIONAL { ?s <urn:x:none> ?z } }",
])
def test_select_answers_as_the_store_does(reads, sparql):
    store, pooled = reads
    expected = _rows(store.query(sparql))
    assert expected
    assert _rows(pooled.query(sparql)) == expected


def test_construct_and_ask_answer_as_the_store_does(reads):
    store, pooled = reads
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }"
    expected = {str(t) for t in store.query(construct)}
    assert expected
    assert {str(t) for t in pooled.query(construct)} == expected
    assert pooled.ask("ASK { ?s ?p ?o }") is True
    assert pooled.ask("ASK { ?s <urn:x:none> ?o }") is False
    assert pooled.version() == store.version()


def test_a_page_query_past_the_limit_is_stopped_and_the_next_answered(reads):
    _, pooled = reads
    with pytest.raises(StoreTimeout, match="1 s limit"):  # the worker was killed
        pooled.select(RUNAWAY)
    assert pooled.ask("ASK { ?s ?p ?o }") is True
