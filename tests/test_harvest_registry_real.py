"""Registry harvest over the real registry in ../shared: counts, no errors, licences and
countries normalised, organisations merged, no contact data, the GitHub tarball."""

from __future__ import annotations

import json
import re
import shutil
import tarfile

import pyoxigraph as ox
import pytest

from dpgkg.harvest.countries import CountryMatcher
from dpgkg.harvest.licences import LicenceIndex
from dpgkg.harvest.registry import harvest_registry
from dpgkg.sources.countries import read_countries
from dpgkg.sources.registry import read_registry
from tests.conftest import NO_SHARED, SHARED
from tests.test_harvest_registry import (
    COMMIT,
    EMAIL,
    ask,
    count,
    ctx,
    literals,
    select,
    store_of,
)


@pytest.fixture(scope="module")
def real():
    if not (SHARED / "registry").is_dir():
        pytest.skip(NO_SHARED)
    matcher = CountryMatcher(read_countries(str(SHARED / "countries" / "country-codes.csv")))
    licences = LicenceIndex.from_registry(str(SHARED / "registry"))
    result = harvest_registry(str(SHARED / "registry"), ctx(), countries=matcher,
                              licences=licences)
    return result, matcher, licences, None, store_of(result.graphs)


def test_real_counts(real):
    _, _, _, _, s = real
    files, _ = read_registry(str(SHARED / "registry"))
    main = [f for f in files if f.folder in ("nominees", "archive")]
    assert len(main) == 714
    assert len({f.record_id for f in main}) == 709
    excluded = [f for f in files if f.folder == "excluded-nominees"]
    assert len(excluded) == 41
    assert all(f.exclusion_date and f.exclusion_reason for f in excluded)
    assert count(s, "?s a dpg:Solution") == 709 + 41
    assert count(s, "?s a dpg:DigitalPublicGood") == 165
    assert count(s, "?s a dpg:ExcludedSolution ; dpg:stageHistory/dpg:exclusionReason ?r") == 41
    # 166 screening files (5 are git symlinks): 160 of the 165 DPGs have answers, plus
    # 4 nominees and 2 archived records.
    assert count(s, "?s dpg:indicatorAnswer ?a") == 166
    assert count(s, "?s a dpg:DigitalPublicGood ; dpg:indicatorAnswer ?a") == 160
    assert count(s, "?s dpg:stageHistory ?h1, ?h2 FILTER(?h1 != ?h2)") == 5


def test_real_no_errors_only_known_warnings(real):
    result, matcher, licences, _, _ = real
    assert [str(p) for p in result.problems if p.severity == "error"] == []
    kinds = sorted({re.sub(r"'.*", "", p.message) for p in result.problems})
    # Real data faults, all warnings: 14 SDGs written as [number, "title"] pairs in old
    # excluded records, Kosovo (no ISO 3166 code in the country table) twice, and two
    # organisation names that contain the contact person's name.
    assert kinds == ["an SDG given as a [number, title] pair: read as its number",
                     "country name not matched: ",
                     "the organisation"]
    assert len([p for p in result.problems if p.message.startswith("the organisation")]) == 2
    assert dict(matcher.unmatched) == {"Kosovo": 2}
    assert licences.problems and all(p.severity == "warning" for p in licences.problems)


def test_real_gpl_normalised_original_kept(real):
    s = real[4]
    n = count(s, '?s dpg:licenseDeclaration ?d . ?d dpg:spdxIdAsWritten "GPL-3.0" ; '
                 'dct:license spdx:GPL-3.0-only')
    # 122 records (not counting archive copies of records in nominees/) say "GPL-3.0";
    # a record that names it twice has one declaration.
    assert n == 122
    assert not ask(s, "ASK { ?s dct:license spdx:GPL-3.0 }")
    assert not ask(s, "ASK { ?s dct:license spdx:AGPL-3.0 }")
    assert count(s, "?s a dpg:Solution ; dct:license spdx:AGPL-3.0-only") == 83


def test_real_every_country_name_matched_or_reported(real):
    _, matcher, _, _, s = real
    names = set()
    for path in (SHARED / "registry" / "digitalpublicgoods").glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue   # git symlinks checked out as text
        for values in data.get("locations", {}).values():
            names |= {" ".join(v.split()) for v in values if v.strip()}
    assert len(names) > 200
    for name in names:
        assert matcher.lookup(name) or name in matcher.unmatched, name
    assert ask(s, "ASK { ?s dpg:deploymentCountry id:country/PS }")   # "Palestine State"
    assert ask(s, "ASK { ?s dpg:deploymentCountry id:country/CG }")   # "Congo (Congo-Brazzaville)"
    assert ask(s, 'ASK { ?s dpg:countryAsWritten "Kosovo" }')


def test_real_organisations_merged(real):
    s = real[4]
    # "Dymaxion Labs" / "Dymaxion labs" and "Etalab" / "etalab" are one resource each
    assert count(s, "?s dpg:hasOrganisation|dpg:ownedBy|dpg:maintainedBy|dpg:fundedBy"
                    "|dpg:implementedBy id:org/dymaxion-labs") >= 2
    assert [r["n"] for r in select(s, "SELECT DISTINCT ?n { id:org/dymaxion-labs schema:name ?n }")
            ] == ["Dymaxion Labs"]
    assert len(select(s, "SELECT DISTINCT ?n { id:org/etalab schema:name ?n }")) == 1
    assert count(s, "?s dpg:ownedBy|dpg:fundedBy|dpg:maintainedBy id:org/unicef-ventures-fund") \
        >= 30
    # one name and at most one website per organisation, whatever graph it is in
    assert not select(s, "SELECT ?o { ?o a dpg:Organisation ; schema:name ?a, ?b "
                         "FILTER(?a != ?b) } LIMIT 1")
    assert not select(s, "SELECT ?o { ?o a dpg:Organisation ; schema:url ?a, ?b "
                         "FILTER(?a != ?b) } LIMIT 1")


def test_real_no_contact_data_anywhere(real):
    result = real[0]
    contact_names: set[str] = set()
    org_names: set[str] = set()
    for path in (SHARED / "registry").glob("*/*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        org_names.add(data.get("name", "").lower())
        for org in data.get("organizations", []):
            if isinstance(org, dict):
                org_names.add(org.get("name", "").strip().lower())
                if org.get("contact_name", "").strip():
                    contact_names.add(org["contact_name"].strip())
    assert len(contact_names) > 200
    lits = literals(result.graphs)
    assert not [v for v in lits if EMAIL.search(v)]
    iris = {t.object.value for g in result.graphs for t in g.triples
            if isinstance(t.object, ox.NamedNode)}
    assert not [v for v in iris if v.lower().startswith("mailto:") or EMAIL.search(v)]
    # A contact name that is also the name of an organisation or solution in the
    # registry ("Statistics Sweden", "Signal") names that organisation, not a person.
    # Organisation names are published as the registry gives them (a warning says
    # when one contains a contact person's name); every other literal is clean.
    personal = {n for n in contact_names if n.lower() not in org_names}
    org_name_lits = {t.object.value for g in result.graphs for t in g.triples
                     if t.predicate.value == "http://schema.org/name"
                     and "/org/" in t.subject.value}
    hits = [(n, v) for v in lits if v not in org_name_lits for n in personal if n in v]
    assert hits == []
    flagged = [p for p in result.problems if "contact person" in p.message]
    for n in personal:
        if any(n in v for v in org_name_lits):
            assert flagged
    for key in ("contact_name", "contact_email"):
        assert not any(key in t.predicate.value for g in result.graphs for t in g.triples)


def test_real_archive_tarball_same_as_directory(real, tmp_path):
    """The real registry packed as GitHub does gives the same graphs."""
    src = SHARED / "registry"
    top = f"publicgoods-candidates-{COMMIT[:8]}"
    out = tmp_path / "real.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src, arcname=top)
    result = harvest_registry(str(out), ctx(), countries=real[1])
    assert {g.key for g in result.graphs} == {g.key for g in real[0].graphs}
    assert sum(len(g.triples) for g in result.graphs) > 40000
    assert all(t.object.value == COMMIT[:8] for g in result.graphs[:5] for t in g.triples
               if t.predicate.value.endswith("#sourceCommit"))
    shutil.rmtree(tmp_path, ignore_errors=True)
