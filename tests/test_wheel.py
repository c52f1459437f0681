"""The wheel: built from the checkout, installed into a fresh virtual environment outside
it, and run there. ontology/, shapes/ and data/ must ship inside it and be found there
(not beside a checkout), or the build and validation cannot work."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ASSET_DIRS = ("ontology", "shapes", "data")
# What a source distribution holds: the package, its assets and the packaging files.
SOURCE_PARTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "dpgkg",
                *ASSET_DIRS)


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH (it would put the checkout first) and no DPGKG_* settings."""
    return {k: v for k, v in os.environ.items()
            if k != "PYTHONPATH" and not k.startswith("DPGKG_")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy, so building leaves no build/ or egg-info in the checkout
    src.mkdir()
    for part in SOURCE_PARTS:
        path = ROOT / part
        if path.is_dir():
            shutil.copytree(path, src / part,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / part)
    dist = tmp / "dist"
    # No build isolation and no dependencies: nothing is downloaded (setuptools>=77 is
    # in the test extra).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(dist), str(src)],
                   check=True, env=_clean_env(), cwd=tmp)
    (wheel,) = dist.glob("dpgkg-*.whl")
    venv = tmp / "venv"
    # The runtime dependencies come from this interpreter's site-packages.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    str(wheel)], check=True, env=_clean_env(), cwd=tmp)
    return {"wheel": wheel, "venv": venv, "tmp": tmp}


def run(installed: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(installed["venv"] / "bin" / "dpgkg"), *args],
                          check=False, capture_output=True, text=True, env=_clean_env(),
                          cwd=installed["tmp"], timeout=600)


def test_the_wheel_holds_every_asset_file(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for folder in ASSET_DIRS:
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert files, folder
        for p in files:
            assert f"dpgkg/_assets/{p.relative_to(ROOT).as_posix()}" in names, p


def test_the_installed_package_reads_its_assets_from_itself(installed):
    out = subprocess.run(
        [str(installed["venv"] / "bin" / "python"), "-c",
         "import dpgkg, dpgkg.config as c; print(dpgkg.__file__); print(c.ASSETS_ROOT)"],
        capture_output=True, text=True, check=True, env=_clean_env(), cwd=installed["tmp"])
    module, assets = out.stdout.split()
    site = installed["venv"] / "lib"
    assert Path(module).is_relative_to(site), module   # not the checkout's
    assert Path(assets).is_relative_to(site) and Path(assets).name == "_assets"


def test_the_installed_cli_builds_from_the_sources(installed, shared):
    store = installed["tmp"] / "store"
    r = run(installed, "build", "--sources", str(shared), "--store", str(store), "-q",
            "--no-validate", "--no-dumps")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    nominees = len(list((shared / "registry" / "nominees").glob("*.json")))
    assert summary["records"] >= nominees and summary["skipped"] == 0
    # the alliance tables (from data/ inside the wheel) are in the graph
    q = run(installed, "query", "--store", str(store), "--format", "csv",
            "SELECT (COUNT(*) AS ?n) { ?m a <http://www.w3.org/ns/org#Membership> }")
    assert q.returncode == 0, q.stderr
    members = (ROOT / "data" / "members.csv").read_text(encoding="utf-8").splitlines()
    assert q.stdout.split()[-1] == str(len(members) - 1)


def test_the_installed_cli_validates_against_the_shipped_shapes(installed, shared):
    """acceda was excluded by the alliance for its licence: it fails indicator 2 (with no
    shapes, or no licence list, it would have 'conformed')."""
    record = shared / "registry" / "excluded-nominees" / "acceda.json"
    r = run(installed, "validate", "--sources", str(shared), "--format", "json", str(record))
    assert r.returncode == 1, r.stderr
    outcome = json.loads(r.stdout)
    assert outcome["conforms"] is False
    assert outcome["indicators"]["2"]["status"] == "fail"
    assert any("EUPL-1.1" in m["message"] for m in outcome["indicators"]["2"]["messages"])
