"""Without --sources and without the network: one line naming the source, its URL and the
fix, exit 2, no traceback (--debug shows it). Missing shipped assets are errors too."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dpgkg.config import AssetMissing, Settings, asset_files
from tests.conftest import FIXTURES, ROOT

# Nothing listens on port 9 (discard) of the loopback: a connection is refused at once.
NOWHERE = "http://127.0.0.1:9/"
URL_FIELDS = ("registry_url", "registry_raw_url", "sdg_url", "sdg_ontology_url",
              "countries_url")


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPGKG_")}
    env.update({Settings.env_name(f): NOWHERE + f for f in URL_FIELDS})
    env["PYTHONPATH"] = str(ROOT)
    return env


def dpgkg(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dpgkg", *args], capture_output=True,
                          text=True, env=offline_env(), cwd=tmp_path, timeout=120,
                          check=False)


def test_the_public_addresses_are_settings(monkeypatch):
    assert all(getattr(Settings(), f).startswith("https://") for f in URL_FIELDS)
    monkeypatch.setenv("DPGKG_COUNTRIES_URL", NOWHERE)
    assert Settings.from_env().countries_url == NOWHERE


def test_build_without_sources_or_network_fails_in_one_line(tmp_path):
    r = dpgkg("build", "-q", "--store", str(tmp_path / "store"), tmp_path=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: cannot read source 'countries' at " + NOWHERE)
    assert "--sources DIR" in line and "DPGKG_SOURCES" in line
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_serve_without_sources_or_network_fails_in_one_line(tmp_path):
    """The README's first command on a machine with no ../shared and no network."""
    r = dpgkg("serve", "--store", str(tmp_path / "store"), "--port", "1", tmp_path=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "cannot read source" in errors[0], r.stderr
    assert "--sources DIR" in errors[0] and "Traceback" not in r.stderr


def test_debug_shows_the_traceback(tmp_path):
    r = dpgkg("--debug", "build", "-q", "--store", str(tmp_path / "store"),
              tmp_path=tmp_path)
    assert r.returncode != 0
    assert "Traceback" in r.stderr and "SourceError" in r.stderr


def test_validate_without_sources_or_network_fails_in_one_line(tmp_path):
    """No silent validation without the licence list (a valid record would fail 2)."""
    record = FIXTURES / "validation" / "good-screened.json"
    assert record.is_file()
    r = dpgkg("validate", str(record), tmp_path=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: cannot read source 'registry ")
    assert NOWHERE + "registry_raw_url/" in lines[0] and "--sources DIR" in lines[0]
    assert r.stdout == ""


def test_no_shapes_is_an_error_not_an_empty_list(tmp_path):
    with pytest.raises(AssetMissing, match="no \\*.ttl in"):
        asset_files(tmp_path, "*.ttl")


def test_validation_without_shapes_refuses(tmp_path, monkeypatch):
    """With no shapes every record would conform: the engine refuses to start."""
    from dpgkg import validation
    from dpgkg.validation import engine

    monkeypatch.setattr(engine, "SHAPES_DIR", tmp_path)
    with pytest.raises(AssetMissing):
        validation.Engine(Settings(), reference=[])
