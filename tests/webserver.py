"""The real server (`dpgkg serve`, Granian) in a subprocess, for tests over HTTP.

    with live_server(settings, query_timeout=1) as base_url: ...

or the session fixture `live_server_url` (import it into a test module or conftest).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dpgkg.config import Settings

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `Settings.from_env()` in the server equal `settings`."""
    env = {"DPGKG_STORE": str(settings.store), "DPGKG_BASE_IRI": settings.base_iri,
           "DPGKG_QUERY_TIMEOUT": repr(settings.query_timeout),
           "DPGKG_MAX_BODY_BYTES": str(settings.max_body_bytes),
           "DPGKG_SERVICE_ALLOW_LIST": " ".join(settings.service_allow_list)}
    if settings.sources:
        env["DPGKG_SOURCES"] = settings.sources
    if settings.store_user:
        env["DPGKG_STORE_USER"] = settings.store_user
    if settings.store_password:
        env["DPGKG_STORE_PASSWORD"] = settings.store_password
    return env


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    end = time.monotonic() + START_TIMEOUT
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not become healthy:\n"
                       + log.read_text(errors="replace")[-3000:])


@contextlib.contextmanager
def live_server(settings: Settings, *, workers: int = 1, query_workers: int = 2,
                in_memory: bool = False, env: dict[str, str] | None = None,
                **overrides) -> Iterator[str]:
    """Run `dpgkg serve` on a free 127.0.0.1 port; yields the base URL (no trailing slash).

    `overrides` change settings fields (e.g. ``query_timeout=1``); `env` adds
    environment variables (e.g. ``DPGKG_HOLD_BYTES``).
    """
    settings = settings.with_(**overrides)
    port = free_port()
    full_env = {**os.environ, **settings_env(settings),
                "DPGKG_QUERY_WORKERS": str(query_workers),
                "DPGKG_QUERY_IN_MEMORY": "1" if in_memory else "0",
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                **(env or {})}
    log = Path(tempfile.mkstemp(prefix="dpgkg-server-", suffix=".log")[1])
    cmd = [sys.executable, "-c", "from dpgkg.cli import main; main()", "serve",
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    live_server.proc = proc  # for tests that signal the server themselves
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        live_server.last_log = log.read_text(errors="replace")
        log.unlink(missing_ok=True)


live_server.last_log = ""


@pytest.fixture(scope="session")
def live_server_url(mini_settings) -> Iterator[str]:
    """The real server over tests/fixtures/mini.trig (session-wide)."""
    with live_server(mini_settings) as url:
        yield url
