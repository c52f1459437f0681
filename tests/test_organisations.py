"""Organisation identity: what the matcher proposes, what the curated table decides, and
the full graph's answers checked against the registry and data/ read here in plain
Python (csv and json alone: the table's rows, the records' organisation names)."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter, defaultdict
from itertools import combinations

import pytest
from click.testing import CliRunner

from dpgkg.cli import main
from dpgkg.harvest.organisations import OrganisationTable, reconcile
from dpgkg.harvest.orgmatch import propose
from dpgkg.publish.examples import find
from dpgkg.rdf import sparql_prefixes
from dpgkg.sources.reference import Row
from dpgkg.store import open_store
from tests.conftest import DATA

ROLES = ("owner", "maintainer", "funder")


# --- plain Python over the sources ------------------------------------------------------


def key(name: str) -> str:
    """The fold under which names are one resource: ASCII, lower case, letters and digits."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def table_rows() -> list[dict[str, str]]:
    with open(DATA / "organisations.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def split(cell: str) -> list[str]:
    return [x.strip() for x in cell.split(";") if x.strip()]


def preferred_by_key() -> dict[str, str]:
    """{key of every name and variant of the table: the row's name}."""
    out = {}
    for r in table_rows():
        for n in [r["name"], *split(r["variants"])]:
            out[key(n)] = r["name"]
    return out


def parents() -> dict[str, str]:
    return {r["name"]: r["parent"] for r in table_rows() if r["parent"]}


def solution_records(shared):
    """(record id, record) of every registry file the graph describes a solution by: an
    archive/ copy of a nominees/ record only adds history."""
    reg = shared / "registry"
    nominees = {f.stem for f in (reg / "nominees").glob("*.json")}
    for folder in ("nominees", "archive", "excluded-nominees"):
        for f in sorted((reg / folder).glob("*.json")):
            if folder == "archive" and f.stem in nominees:
                continue
            try:
                rec = json.loads(f.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield f.stem, rec


def organisations_of(rec: dict):
    for o in rec.get("organizations") or []:
        if isinstance(o, dict) and isinstance(o.get("name"), str) and o["name"].strip():
            yield " ".join(o["name"].split()), o.get("org_type")


def solutions_by_organisation(shared, roles=ROLES) -> dict[str, set[str]]:
    """{preferred name (the table's, else the name's key): record ids naming it in `roles`}."""
    pref = preferred_by_key()
    out: dict[str, set[str]] = defaultdict(set)
    for rid, rec in solution_records(shared):
        for name, role in organisations_of(rec):
            if role in roles:
                out[pref.get(key(name), key(name))].add(rid)
    return out


LEGAL = {"inc", "ltd", "limited", "llc", "gmbh", "ggmbh", "sa", "pty", "npc", "ngo", "co"}


def fold(name: str) -> str:
    """Case, spacing, punctuation, a leading "The" and legal suffixes folded away."""
    words = key(name).split("-")
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL:
        words = words[:-1]
    return "".join(words)


def node(name: str) -> str:
    return f"https://w3id.org/dpgkg/id/org/{key(name)}"


@pytest.fixture(scope="module")
def store(full_settings):
    return open_store(full_settings.store)


def select(store, sparql: str) -> list[dict[str, str]]:
    return [{k: v.value for k, v in r.items()} for r in store.select(sparql_prefixes() + sparql)]


# --- the full graph ---------------------------------------------------------------------


def test_members_that_own_maintain_or_fund_solutions_with_their_units(store, shared):
    with open(DATA / "members.csv", encoding="utf-8") as f:
        members = [r["name"] for r in csv.DictReader(f)]
    pref = preferred_by_key()
    by_org = solutions_by_organisation(shared)
    units = defaultdict(set)
    for unit, parent in parents().items():
        units[parent].add(unit)
    expected = {}
    for m in members:
        org = pref.get(key(m), m)
        sols = set(by_org.get(org, set()))
        acting = {u for u in units[org] if by_org.get(u)}
        for u in acting:
            sols |= by_org[u]
        if sols:
            # the query lists unit names separated by ", " (how the stores are compared)
            expected[node(org)] = (len(sols), {x for u in acting for x in u.split(", ")})
    answer = store.select(find("own, maintain or fund"))
    got = {
        r["member"].value: (
            int(r["solutions"].value),
            set(r["units"].value.split(", ")) if r.get("units") else set(),
        )
        for r in answer
    }
    assert got == expected
    # the question the issue asked: far more than the 5 members exact names found
    assert len(got) >= 8


def test_fao_is_one_node_owning_all_its_solutions(store, shared):
    fao = next(r for r in table_rows() if "FAO" in split(r["variants"]))
    owned = solutions_by_organisation(shared, roles=("owner",))[fao["name"]]
    assert len(owned) >= 8  # org/fao's 6 and the long form's 2
    got = {
        r["s"].rsplit("/", 1)[-1]
        for r in select(store, f"SELECT ?s {{ ?s dpg:ownedBy <{node(fao['name'])}> }}")
    }
    assert got == owned
    names = {key(n) for n in [fao["name"], *split(fao["variants"])]}
    holders = {
        r["o"]
        for r in select(
            store,
            """SELECT DISTINCT ?o ?n {
        ?o a dpg:Organisation ; schema:name|skos:altLabel ?n }""",
        )
        if key(r["n"]) in names
    }
    assert holders == {node(fao["name"])}


def test_unicef_is_one_node_with_its_units(store, shared):
    unicef = next(r for r in table_rows() if r["name"] == "UNICEF")
    expected_units = {node(u) for u, p in parents().items() if p == "UNICEF"}
    assert len(expected_units) >= 3
    got = {
        r["u"]
        for r in select(
            store,
            f"""SELECT ?u {{
        ?u org:subOrganizationOf <{node("UNICEF")}> ;
           schema:parentOrganization <{node("UNICEF")}> }}""",
        )
    }
    assert got == expected_units
    # every record naming UNICEF in any spelling links that one node
    spellings = {key(n) for n in ["UNICEF", *split(unicef["variants"])]}
    expected = {
        rid
        for rid, rec in solution_records(shared)
        for name, _ in organisations_of(rec)
        if key(name) in spellings
    }
    got = {
        r["s"].rsplit("/", 1)[-1]
        for r in select(
            store, f"SELECT DISTINCT ?s {{ ?s dpg:hasOrganisation <{node('UNICEF')}> }}"
        )
    }
    assert got == expected
    # the member is that node
    (m,) = select(store, f"SELECT ?m {{ ?m org:member <{node('UNICEF')}> }}")
    assert m["m"].endswith("/membership/unicef")


def acronym_pairs(names: dict[str, set[str]]) -> set[frozenset[str]]:
    """Nodes where one writes an acronym alone and another the same acronym in parentheses."""
    alone, inside = defaultdict(set), defaultdict(set)
    for n, labels in names.items():
        for label in labels:
            if (
                re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{1,9}", label)
                and sum(c.isupper() for c in label) >= 2
            ):
                alone[key(label)].add(n)
            for inner in re.findall(r"\(\s*([^()]+?)\s*\)", label):
                inside[key(inner)].add(n)
    return {
        frozenset((a, b))
        for acr in alone
        for a in alone[acr]
        for b in inside.get(acr, ())
        if a != b
    }


def test_no_two_organisations_fold_to_one_name_unless_kept_apart(store):
    labels = defaultdict(set)
    for r in select(
        store,
        """SELECT DISTINCT ?o ?n { ?o a dpg:Organisation ;
                                schema:name|skos:altLabel ?n }""",
    ):
        labels[r["o"]].add(r["n"])
    apart = set()
    for r in table_rows():
        for other in split(r["distinct_from"]) + ([r["parent"]] if r["parent"] else []):
            apart.add(frozenset((node(r["name"]), node(preferred_by_key().get(key(other), other)))))
    folded = defaultdict(set)
    for o, ls in labels.items():
        for label in ls:
            folded[fold(label)].add(o)
    clashes = {frozenset(p) for nodes in folded.values() for p in combinations(nodes, 2)}
    assert clashes - apart == set()
    # units written with their parent's acronym ("... ( UNDP) India") are kept apart
    assert acronym_pairs(labels) & apart
    assert acronym_pairs(labels) - apart == set()


def test_each_record_graph_keeps_the_name_as_written(store, shared):
    pref = preferred_by_key()
    expected = set()
    for rid, rec in solution_records(shared):
        for name, _ in organisations_of(rec):
            if name in pref.values() or pref.get(key(name)) is None:
                continue
            expected.add((rid, name))
    got = {
        (r["g"].rsplit("/", 1)[-1], r["alt"])
        for r in select(
            store,
            """
        SELECT ?g ?alt { GRAPH ?g { ?s dpg:hasOrganisation|dpg:ownedBy|dpg:maintainedBy|
            dpg:fundedBy|dpg:implementedBy ?o . ?o skos:altLabel ?alt } }""",
        )
    }
    assert len(expected) > 20
    assert expected <= got
    assert (
        "open-foris-collect",
        "Food and Agriculture Organization (FAO) of the United Nations",
    ) in got


def test_organisations_command_settles_every_candidate(shared):
    res = CliRunner().invoke(main, ["organisations", "--sources", str(shared), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["unsettled"] == []
    assert out["units"]["UNICEF Ukraine"] == "UNICEF"
    assert {"FAO", "Food and Agriculture Organization (FAO) of the United Nations"} <= set(
        out["groups"]["Food and Agriculture Organization"]
    )
    assert ["Open Knowledge Foundation", "Open Knowledge Foundation Germany", "short name"] in out[
        "kept_apart"
    ]


# --- the matcher and the table, on small hand-written input ------------------------------


def pairs(*names: str) -> set[tuple[str, str, str]]:
    return {(c.a, c.b, c.reason) for c in propose(names)}


def test_propose_each_kind_of_candidate():
    assert pairs("Open Street Map", "OpenStreetMap") == {
        ("Open Street Map", "OpenStreetMap", "spelling")
    }
    assert pairs("Jembi Health Systems NPC", "Jembi Health Systems") == {
        ("Jembi Health Systems", "Jembi Health Systems NPC", "legal form")
    }
    assert pairs("The World Bank", "World Bank") == {("The World Bank", "World Bank", "legal form")}
    assert (
        "FAO",
        "Food and Agriculture Organization (FAO) of the United Nations",
        "acronym",
    ) in pairs("FAO", "Food and Agriculture Organization (FAO) of the United Nations")
    assert pairs("MIT", "Massachusetts Institute of Technology") == {
        ("MIT", "Massachusetts Institute of Technology", "acronym")
    }
    assert pairs("eGov Foundation", "eGovernments Foundation") == {
        ("eGov Foundation", "eGovernments Foundation", "short name")
    }
    assert pairs("UNICEF", "UNICEF Ukraine") == {("UNICEF", "UNICEF Ukraine", "short name")}
    # names equal by IRI are one resource already; unrelated names are no candidates
    assert pairs("Dymaxion labs", "Dymaxion Labs", "Open", "Open Data Kit") == set()
    assert (
        pairs("Akvo Foundation", "Amref Health Africa", "Code for America", "Code for Boston")
        == set()
    )
    assert pairs("Kobo", "KoboToolbox") == {("Kobo", "KoboToolbox", "short name")}


def rows(*dicts: dict[str, str]) -> list[Row]:
    return [Row(i + 2, d) for i, d in enumerate(dicts)]


def test_the_table_decides_and_reports_what_it_cannot_take():
    table = OrganisationTable(
        rows(
            {
                "name": "UNICEF",
                "variants": "United Nations Children's Fund (UNICEF)",
                "type": "multilateral",
            },
            {"name": "UNICEF Ukraine", "parent": "UNICEF", "type": "multilateral"},
            {
                "name": "Open Knowledge Foundation",
                "distinct_from": "Open Knowledge Foundation Germany",
            },
            {"name": "Twice", "variants": "unicef"},  # a name of another row
            {"name": "Orphan", "parent": "Nobody", "type": "guild"},
            {"name": "Cited", "same_as": "http://www.wikidata.org/entity/Q740308"},
        )
    )
    problems = {(p.field, p.severity) for p in table.problems}
    assert ("row 5, column variants", "error") in problems
    assert {
        ("row 6, column parent", "warning"),
        ("row 6, column type", "warning"),
        ("row 7, column same_as_source", "warning"),
    } <= problems
    assert table.preferred("united nations children's fund (unicef)") == "UNICEF"
    assert table.find("Twice") is None and table.find("Orphan").parent == ""
    assert table.find("Cited").same_as == ""  # never an identifier without its source
    r = reconcile(
        table,
        Counter(
            {
                "UNICEF": 3,
                "United Nations Children's Fund (UNICEF)": 1,
                "UNICEF Ukraine": 1,
                "Open Knowledge Foundation": 1,
                "Open Knowledge Foundation Germany": 1,
                "Open Street Map": 1,
                "OpenStreetMap": 1,
            }
        ),
    )
    assert r.groups == {"UNICEF": ["UNICEF", "United Nations Children's Fund (UNICEF)"]}
    assert r.units == {"UNICEF Ukraine": "UNICEF"}
    assert {(c.a, c.b) for c in r.apart} == {
        ("Open Knowledge Foundation", "Open Knowledge Foundation Germany"),
        ("UNICEF", "UNICEF Ukraine"),
    }
    assert [(c.a, c.b) for c in r.unsettled] == [("Open Street Map", "OpenStreetMap")]
    (warning,) = [p for p in r.problems if "not settled" in p.message]
    assert warning.message.startswith("1 candidate pairs") and warning.severity == "warning"
