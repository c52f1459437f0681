"""SPDX normalisation, the approved list and the licence graph."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from dpgkg.harvest import HarvestContext
from dpgkg.harvest.licences import LicenceIndex, licence_graph, parse_approved
from dpgkg.iris import IRIs
from dpgkg.rdf import sparql_prefixes
from tests.conftest import NO_SHARED, REGISTRY_REPO, SHARED

FIX = Path(__file__).resolve().parent / "fixtures" / "registry"


@pytest.mark.parametrize("written, current", [
    ("GPL-3.0", "GPL-3.0-only"), ("gpl-3.0", "GPL-3.0-only"), ("AGPL-3.0", "AGPL-3.0-only"),
    ("LGPL-2.1", "LGPL-2.1-only"), ("GPL-2.0", "GPL-2.0-only"), ("LGPL-3.0", "LGPL-3.0-only"),
    ("GPL-2.0+", "GPL-2.0-or-later"), (" MIT ", "MIT"), ("apache-2.0", "Apache-2.0"),
    ("GPL-3.0-or-later", "GPL-3.0-or-later"), ("CC-BY-SA-4.0", "CC-BY-SA-4.0"),
    ("wxWindows", "wxWindows"),   # deprecated without a successor: kept
])
def test_normalise(written, current):
    index = LicenceIndex()
    assert index.normalise(written) == (current, None)
    assert current in index.used


def test_unknown_id_is_a_warning():
    index = LicenceIndex()
    current, problem = index.normalise("Made-Up-1.0", source="nominees/x.json",
                                       field="license[0].spdx")
    assert current is None
    assert problem.severity == "warning" and problem.field == "license[0].spdx"
    assert problem.message == "licence id 'Made-Up-1.0' is not on the SPDX licence list"
    assert not index.used


def test_parse_approved_with_swapped_columns():
    text = (REGISTRY_REPO / "help-center" / "licenses.md").read_text()
    assert parse_approved(text) == {"Content": {"CC-BY-4.0"}, "Data": {"ODbL-1.0"},
                                    "Software": {"GPL-3.0", "MIT"}}
    index = LicenceIndex.from_markdown(text)
    assert index.approved["Software"] == {"GPL-3.0-only", "MIT"}
    assert not index.used       # the approved list is not "use"


def _store(graph) -> ox.Store:
    s = ox.Store()
    s.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, graph.graph)
                   for t in graph.triples])
    return s


def test_licence_graph_small_and_typed():
    index = LicenceIndex.from_registry(str(REGISTRY_REPO))
    index.normalise("Apache-2.0")
    index.normalise("GPL-3.0")
    hg = index.licence_graph(HarvestContext(IRIs()))
    assert hg.graph.value == "https://w3id.org/dpgkg/id/graph/licences"
    s = _store(hg)
    q = sparql_prefixes()
    ids = {r["id"].value for r in s.query(q + "SELECT ?id { ?l a dpg:License, "
                                              "dct:LicenseDocument ; dpg:spdxId ?id }",
                                          use_default_graph_as_union=True)}
    assert ids == {"Apache-2.0", "GPL-3.0-only", "MIT", "CC-BY-4.0", "ODbL-1.0"}
    assert s.query(q + """ASK { spdx:GPL-3.0-only rdfs:label "GNU General Public License v3.0 only" ;
        dpg:osiApproved true ; dpg:fsfLibre true ; dpg:deprecatedSpdxId false ;
        dpg:approvedFor dpg:Software .
        spdx:ODbL-1.0 dpg:approvedFor dpg:Data ; dpg:osiApproved false .
        spdx:CC-BY-4.0 dpg:approvedFor dpg:Content .
        FILTER NOT EXISTS { spdx:Apache-2.0 dpg:approvedFor ?x } }""",
                   use_default_graph_as_union=True)
    assert licence_graph(HarvestContext(IRIs())).triples   # provenance even when empty


def test_real_approved_list():
    if not (SHARED / "registry").is_dir():
        pytest.skip(NO_SHARED)
    index = LicenceIndex.from_registry(str(SHARED / "registry"))
    assert {"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-BY-3.0-IGO"} <= index.approved["Content"]
    assert index.approved["Data"] == {"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "ODbL-1.0",
                                      "ODC-By-1.0", "PDDL-1.0", "CC-BY-3.0-IGO",
                                      "CC-BY-SA-3.0-IGO"}
    assert {"GPL-3.0-only", "AGPL-3.0-only", "MIT", "Apache-2.0", "Zlib"} <= \
        index.approved["Software"]
    assert len(index.approved["Software"]) == 102
    # The page lists three ids SPDX does not have (the -US variants of CC-BY-NC,
    # CC-BY-NC-SA and CC-BY-SA 3.0): reported, not invented.
    assert sorted(p.message.split("'")[1] for p in index.problems) == [
        "CC-BY-NC-3.0-US", "CC-BY-NC-SA-3.0-US", "CC-BY-SA-3.0-US"]
    hg = index.licence_graph(HarvestContext(IRIs()))
    n = sum(1 for t in hg.triples if t.predicate.value.endswith("#spdxId"))
    assert 100 < n < 200


def test_what_validation_approves_the_licence_graph_approves(full_settings):
    """Every licence validation takes as approved (the approved page plus what only the
    nominee schema accepts, e.g. OGL-UK-3.0) is dpg:approvedFor that type in the graph."""
    import json

    from dpgkg.store import open_store
    from dpgkg.validation import schema_only_licences

    index = LicenceIndex.from_registry(str(SHARED / "registry"))
    schema = json.loads((SHARED / "registry" / "nominee-schema.json").read_text())
    expected = {(lid, section) for section, ids in index.approved.items() for lid in ids}
    expected |= {(lid, section) for lid, sections in schema_only_licences(schema, index).items()
                 for section in sections}
    rows = open_store(full_settings.store).select(
        "SELECT DISTINCT ?l ?t { ?l <https://w3id.org/dpgkg/ontology#approvedFor> ?t }")
    got = {(r["l"].value.rsplit("/", 1)[1], r["t"].value.rsplit("#", 1)[1]) for r in rows}
    assert expected == got
    assert ("OGL-UK-3.0", "Data") in got
