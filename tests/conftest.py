"""Shared fixtures: the real sources, a tiny hand-written store, and the full build."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from dpgkg.config import Settings
from dpgkg.store import open_store

ROOT = Path(__file__).resolve().parents[1]
# The real sources: ../shared on every development machine and in CI. DPGKG_TEST_SHARED
# points elsewhere (a path that does not exist: run the suite as a machine without them).
SHARED = Path(os.environ.get("DPGKG_TEST_SHARED") or ROOT.parent / "shared")
NO_SHARED = f"the real sources ({SHARED}, laid out like ../shared) are not here"
HAVE_SHARED = (SHARED / "registry").is_dir()
# For a test or module that reads ../shared directly rather than through `shared`.
needs_shared = pytest.mark.skipif(not HAVE_SHARED, reason=NO_SHARED)
DATA = ROOT / "data"        # this project's own facts (always in the checkout)
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def unpack_tree(spec: Path) -> Path:
    """A directory made from a JSON file {relative path: text} (a hand-written tree kept
    as one file, so no registry-like paths are committed)."""
    root = Path(tempfile.mkdtemp(prefix=f"dpgkg-{spec.stem}-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for rel, text in json.loads(spec.read_text()).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# A tiny registry repository (what each file exercises: fixtures/registry/README.md).
REGISTRY_REPO = unpack_tree(FIXTURES / "registry" / "repo.json")


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared, the real sources; tests that need it skip without it (and say so)."""
    if not HAVE_SHARED:
        pytest.skip(NO_SHARED)
    return SHARED


@pytest.fixture
def small_sources(shared, tmp_path) -> Path:
    """A writable sources directory: ../shared's SDG and country files, the tiny registry
    of tests/fixtures/registry (its README says what it holds) with the registry's nominee
    schema (the licences it accepts are part of the build)."""
    dst = tmp_path / "sources"
    for name in ("sdg", "countries"):
        shutil.copytree(shared / name, dst / name)
    shutil.copytree(REGISTRY_REPO, dst / "registry")
    shutil.copy(shared / "registry" / "nominee-schema.json", dst / "registry")
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


def load_fixture_store(path: Path, trig: Path = FIXTURES / "mini.trig") -> Settings:
    """A real on-disk store holding a hand-written TriG file, swapped in like a build."""
    store = open_store(str(path))
    with store.writer() as w:
        w.add_quads(ox.parse(path=str(trig), format=ox.RdfFormat.TRIG))
        w.commit()
    return Settings(store=str(path))


@pytest.fixture(scope="session")
def mini_settings(tmp_path_factory) -> Settings:
    """Settings pointing at a store with tests/fixtures/mini.trig."""
    return load_fixture_store(tmp_path_factory.mktemp("mini-store"))


@pytest.fixture(scope="session")
def full_settings(shared, tmp_path_factory) -> Settings:
    """The full graph built once per session from ../shared by the real pipeline, with the
    registry's git history (../shared/registry-history) when it is there."""
    from dpgkg.build import build

    history = shared / "registry-history" / "publicgoods-candidates.bundle"
    settings = Settings(store=str(tmp_path_factory.mktemp("full-store")), sources=str(shared),
                        history=str(history) if history.is_file() else None,
                        cache_dir=str(tmp_path_factory.mktemp("full-cache")))
    report = build(settings)
    assert report.records > 700, report.summary()
    return settings


@pytest.fixture(scope="session")
def history_clone(shared, tmp_path_factory) -> Path:
    """A clone of the registry's history bundle, for computing answers with `git log`."""
    import subprocess

    bundle = shared / "registry-history" / "publicgoods-candidates.bundle"
    if not bundle.is_file():
        pytest.skip(f"the registry's history bundle ({bundle}) is not here")
    target = tmp_path_factory.mktemp("history") / "registry"
    subprocess.run(["git", "clone", "--quiet", str(bundle), str(target)], check=True)
    return target


def pytest_collection_modifyitems(items):
    """Whatever needs the full build is slow: `-m "not slow"` leaves it out."""
    for item in items:
        if "full_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
