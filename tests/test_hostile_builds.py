"""Hostile sources and killed builds, through the real CLI and real builds on small registries.

Each test builds from a sources directory made in a tmp dir: the SDG and country files of
../shared beside the tiny registry of tests/fixtures/registry (a build takes ~2 s). The
hostile files are made at test time: records of every bad shape, a FIFO, links to
/dev/zero and out of the tree, a registry whose folders were emptied, a build killed with
SIGKILL while it publishes; and for `dpgkg validate` the same, plus a file whose first
token looks like a secret.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dpgkg.build import build
from dpgkg.cli import main
from dpgkg.config import Settings
from dpgkg.publish.dumps import dumps_root, read_dumps
from dpgkg.rdf import sparql_prefixes
from dpgkg.sources.registry import FOLDERS
from dpgkg.store import open_store
from tests.conftest import REGISTRY_REPO
from tests.test_catalogue import make_catalogue_app
from tests.test_faults import BuildProcess
from tests.webserver import ROOT, settings_env

SECRET = "hunter2-SECRET-TOKEN"
SOLUTIONS = sparql_prefixes() + "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a dpg:Solution }"
TRIPLES = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture
def sources(small_sources) -> Path:
    return small_sources


def run(*args, env: dict | None = None):
    return CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=False)


def good_records(registry: Path) -> int:
    """Record files that are JSON objects with a name, counted in plain Python (an
    archive/ file of an id also in nominees/ adds only a stage to that record)."""
    ids = set()
    for folder in FOLDERS:
        for p in (registry / folder).glob("*.json"):
            try:
                obj = json.loads(p.read_bytes())
            except (ValueError, OSError):
                continue
            if isinstance(obj, dict) and isinstance(obj.get("name"), str):
                ids.add((folder if folder == "excluded-nominees" else "", p.stem))
    return len(ids)


def counts(store_dir: Path) -> tuple[str, int, int]:
    store = open_store(str(store_dir))
    try:
        return (
            store.version(),
            int(store.select(SOLUTIONS)[0]["n"].value),
            int(store.select(TRIPLES)[0]["n"].value),
        )
    finally:
        store.close()


def leftovers(store_dir: Path) -> list[str]:
    """What a finished build must never leave: temporary files, partial folders, locks."""
    return sorted(
        str(p.relative_to(store_dir))
        for p in store_dir.rglob("*")
        if p.name.endswith((".tmp", ".partial", ".lock", ".old"))
    )


# Shrinking sources --------------------------------------------------------------------


def test_emptied_registry_is_refused_and_the_served_graph_stays(sources, tmp_path):
    store_dir = tmp_path / "store"
    registry = sources / "registry"
    records = good_records(registry)
    assert (
        run("build", "-q", "--no-validate", "--sources", sources, "--store", store_dir).exit_code
        == 0
    )
    version, solutions, triples = counts(store_dir)
    assert solutions > 0

    for folder in (*FOLDERS, "digitalpublicgoods"):
        for p in (registry / folder).iterdir():
            p.unlink()
    result = run("build", "-q", "--no-validate", "--sources", sources, "--store", store_dir)
    assert result.exit_code == 2, result.output
    assert "build refused" in result.stderr
    assert f"solutions {solutions} -> 0 (-100%)" in result.stderr
    assert f"records {records} -> 0 (-100%)" in result.stderr
    assert "--allow-shrink" in result.stderr and "previous graph" in result.stderr
    assert "no registry records found" in result.stderr  # why, as well as what
    assert result.stdout == ""
    # The served graph answers as before; nothing of the refused build is left.
    assert counts(store_dir) == (version, solutions, triples)
    assert [p.name for p in (store_dir / "versions").iterdir()] == [version]
    assert [p.name for p in dumps_root(str(store_dir)).iterdir()] == [version]

    # Losing one record in len(records) is more than 10%: refused, unless the share allows it.
    shutil.copytree(REGISTRY_REPO / "nominees", registry / "nominees", dirs_exist_ok=True)
    shutil.copytree(REGISTRY_REPO / "archive", registry / "archive", dirs_exist_ok=True)
    shutil.copytree(
        REGISTRY_REPO / "excluded-nominees", registry / "excluded-nominees", dirs_exist_ok=True
    )
    (registry / "nominees" / "good-dpg.json").unlink()
    loss = 1 / records
    assert loss > Settings().max_shrink
    result = run("build", "-q", "--no-validate", "--sources", sources, "--store", store_dir)
    assert result.exit_code == 2 and f"records {records} -> {records - 1}" in result.stderr
    assert counts(store_dir)[0] == version
    result = run(
        "build",
        "-q",
        "--no-validate",
        "--sources",
        sources,
        "--store",
        store_dir,
        env={"DPGKG_MAX_SHRINK": str(round(loss + 0.05, 2))},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] == records - 1

    # --allow-shrink swaps in what the sources hold, however little.
    for p in (registry / "nominees").iterdir():
        p.unlink()
    result = run(
        "build", "-q", "--no-validate", "--allow-shrink", "--sources", sources, "--store", store_dir
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert counts(store_dir)[0] == summary["version"]
    assert summary["records"] == good_records(registry)


# Bad records of every shape --------------------------------------------------------------


def test_bad_records_of_any_shape_are_skipped_in_bounded_time(sources, tmp_path):
    registry = sources / "registry"
    nominees = registry / "nominees"
    expected = good_records(registry)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.json").write_text(json.dumps({"name": "Leaked", "description": SECRET}))
    bad = {
        "deep.json": "[" * 100_000 + "]" * 100_000,
        "deep-field.json": '{"name": "Deep", "aliases": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "an-array.json": "[1, 2]",
        "a-number.json": "42",
        "a-string.json": '"a record"',
        "null.json": "null",
        "long-number.json": '{"name": "Long", "x": ' + "9" * 100_000 + "}",
    }
    for name, text in bad.items():
        (nominees / name).write_text(text)
    (nominees / "not-utf8.json").write_bytes(b'{"name": "\xff\xfe"}')
    os.mkfifo(nominees / "fifo.json")
    (nominees / "zero.json").symlink_to("/dev/zero")
    (nominees / "leak.json").symlink_to(outside / "leak.json")
    (registry / "digitalpublicgoods" / "leak.json").symlink_to(outside / "leak.json")

    store_dir = tmp_path / "store"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dpgkg",
            "build",
            "--no-validate",
            "--sources",
            str(sources),
            "--store",
            str(store_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        preexec_fn=_memory_limit,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["records"] == expected
    lines = proc.stderr.splitlines()
    for name in [*bad, "not-utf8.json", "fifo.json"]:
        assert any(line.startswith("skipped: error: nominees/" + name) for line in lines), name
    for rel in ("nominees/zero.json", "nominees/leak.json", "digitalpublicgoods/leak.json"):
        assert any(f"warning: {rel}: a symbolic link leading out of" in line for line in lines), rel
    assert "Traceback" not in proc.stderr
    # Nothing read through the link out of the tree is served or dumped.
    store = open_store(str(store_dir))
    assert not store.ask(f'ASK {{ ?s ?p ?o FILTER(CONTAINS(STR(?o), "{SECRET}")) }}')
    for info in read_dumps(dumps_root(str(store_dir)), store.version()):
        data = info.path.read_bytes()
        data = gzip.decompress(data) if info.path.name.endswith(".gz") else data
        assert SECRET.encode() not in data, info.path.name


def _memory_limit() -> None:
    """A child that would read /dev/zero without bound fails at 2 GB instead of the host."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


# A build killed while it publishes ---------------------------------------------------------


def _kill_while(b: BuildProcess, marker: str, dumps: Path, seconds: float = 60) -> bool:
    """SIGKILL the build once it prints `marker` and has a dump half-written (a *.tmp file
    in a partial folder); returns whether it was caught there (else killed at the marker)."""
    b.wait_for(marker)
    deadline = time.monotonic() + seconds
    caught = False
    while time.monotonic() < deadline and b.proc.poll() is None:
        if any(dumps.glob(".*.partial/*.tmp")):
            caught = True
            break
        time.sleep(0.002)
    b.proc.send_signal(signal.SIGKILL)
    b.finish()
    return caught


def _served_dumps_match(settings: Settings, version: str) -> None:
    """/dumps/ of the real app over the store lists the served version's dumps, and each
    downloads with its checksum."""
    client = make_catalogue_app(settings).test_client()
    index = client.get("/dumps/").get_json()
    assert index["version"] == version
    names = sorted(d["path"] for d in index["dumps"])
    assert names and names == sorted(
        i.path.name for i in read_dumps(dumps_root(settings.store), version)
    )
    for d in index["dumps"]:
        resp = client.get(f"/dumps/{d['path']}")
        assert resp.status_code == 200
        assert hashlib.sha256(resp.get_data()).hexdigest() == d["sha256"]
        resp.close()


def test_build_killed_while_publishing_leaves_nothing_behind(sources, tmp_path):
    settings = Settings(store=str(tmp_path / "store"), sources=str(sources))
    store_dir, dumps = tmp_path / "store", tmp_path / "store" / "dumps"
    first = build(settings, validate=False).version
    _served_dumps_match(settings, first)

    # Killed with a dump half-written: the previous version is served with its dumps.
    caught = _kill_while(BuildProcess(settings), "... publish", dumps)
    assert caught, "the build finished its dumps before it could be killed"
    assert open_store(settings.store).version() == first
    _served_dumps_match(settings, first)
    assert sorted(p.name for p in dumps.iterdir() if not p.name.startswith(".")) == [first]

    # Killed while its version is written to the store (after its dumps): the same.
    b = BuildProcess(settings)
    b.wait_for("... swap")
    time.sleep(0.05)
    b.proc.send_signal(signal.SIGKILL)
    b.finish()
    assert open_store(settings.store).version() == first
    _served_dumps_match(settings, first)

    # The next build removes all of it, and /dumps/ lists its own dumps.
    second = build(settings, validate=False).version
    assert leftovers(store_dir) == []
    assert sorted(p.name for p in dumps.iterdir()) == [first, second]
    assert sorted(p.name for p in (store_dir / "versions").iterdir()) == [first, second]
    _served_dumps_match(settings, second)


def test_a_build_stopped_with_its_process_group_ends_within_seconds(shared, tmp_path):
    """TERM to a build's whole process group (Ctrl-C, a stopped job), at moments spread over
    an incremental build, ends the build and its validation processes within seconds and
    leaves the served version in place (a multiprocessing Pool whose idle worker was killed
    holding its queue lock once kept the build waiting forever)."""
    settings = Settings(store=str(tmp_path / "store"), sources=str(shared))
    build(settings)
    env = {**os.environ, **settings_env(settings),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for delay in (0.7, 1.0, 1.3, 2.0):
        served = open_store(settings.store).version()
        proc = subprocess.Popen([sys.executable, "-m", "dpgkg", "build", "-q"], cwd=ROOT,
                                env=env, start_new_session=True, text=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"the build was still running 30 s after TERM at {delay} s")
        if proc.returncode != 0:  # stopped (not finished before the signal)
            assert "interrupted" in err and open_store(settings.store).version() == served, err


# dpgkg validate ---------------------------------------------------------------------------


def test_validate_refuses_what_it_cannot_read_and_echoes_none_of_it(shared, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.ttl").write_text(f"{SECRET}:x:0:0:root:/root:/bin/bash\n")
    given = tmp_path / "given"
    given.mkdir()
    (given / "secret.ttl").write_text(f"{SECRET}:x:0:0:root:/root:/bin/bash\n")
    (given / "secret.json").write_text(f"{SECRET} {{\n")
    (given / "secret.jsonld").write_text(
        json.dumps({"@id": "urn:x", "urn:p": {"@value": "v", "@type": f"{SECRET} not an IRI"}})
    )
    (given / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (given / "long-number.json").write_text('{"name": "x", "n": ' + "9" * 100_000 + "}")
    os.mkfifo(given / "fifo.json")
    (given / "zero.json").symlink_to("/dev/zero")
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "validation" / "good.ttl", tree / "good.ttl")
    (tree / "link.ttl").symlink_to(outside / "passwd.ttl")
    (tree / "sub").symlink_to(outside)  # a link to a directory: not walked
    inputs = [
        given / n
        for n in (
            "secret.ttl",
            "secret.json",
            "secret.jsonld",
            "deep.json",
            "long-number.json",
            "fifo.json",
            "zero.json",
        )
    ]

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dpgkg",
            "validate",
            "--format",
            "json",
            "--sources",
            str(shared),
            *map(str, inputs),
            str(tree),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        preexec_fn=_memory_limit,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert SECRET not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = {
        line.split(": ", 2)[1].split(":")[0]: line
        for line in proc.stderr.splitlines()
        if line.startswith("error: ")
    }
    expect = {
        "secret.ttl": "not valid Turtle at line 1, column 1",
        "secret.json": "not valid JSON: Expecting value (line 1, column 1)",
        "secret.jsonld": "not valid JSON-LD",
        "deep.json": "nested too deeply",
        "long-number.json": "digits",
        "fifo.json": "a FIFO, not a regular file",
        "zero.json": "a character device, not a regular file",
        "link.ttl": "a symbolic link leading out of",
    }
    for name, message in expect.items():
        line = next((v for k, v in errors.items() if k.endswith("/" + name)), "")
        assert message in line, (name, errors)
    outcomes = [json.loads(line) for line in proc.stdout.splitlines()]
    good = [o for o in outcomes if o["source"].endswith("/good.ttl")]
    assert len(good) == 1 and good[0]["conforms"] is True
    assert not any("sub/" in o["source"] for o in outcomes)

    # Deep JSON alone: an input that is not read, so exit 2 (1 means "does not conform").
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dpgkg",
            "validate",
            "--sources",
            str(shared),
            str(given / "deep.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
