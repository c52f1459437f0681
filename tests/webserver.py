"""The real server (`dpgkg serve`, Granian) in a subprocess, for tests over HTTP.

    with live_server(settings, query_timeout=1) as base_url: ...

or the session fixture `live_server_url` (import it into a test module or conftest).
"""

from __future__ import annotations

import contextlib
import dataclasses
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
import requests

from dpgkg.config import Settings

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `Settings.from_env()` in the server equal `settings`."""
    env = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, tuple):
            text = " ".join(value)
        else:
            text = repr(value) if isinstance(value, float) else str(value)
        env[Settings.env_name(f.name)] = text
    return env


class _SourceAddress(requests.adapters.HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    """A session whose connections come from `address` (127.0.0.2, ...): another client
    to the server's per-client limits, on this machine's loopback."""
    session = requests.Session()
    session.mount("http://", _SourceAddress(address))
    return session


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
                public_here: bool = False, **overrides) -> Iterator[str]:
    """Run `dpgkg serve` on a free 127.0.0.1 port; yields the base URL (no trailing slash).

    `overrides` change settings fields (e.g. ``query_timeout=1``); `env` adds
    environment variables (e.g. ``DPGKG_HOLD_BYTES``); `public_here`: the server's own
    address as its public URL, so the links it writes (catalogue pages) lead back to it.
    """
    port = free_port()
    if public_here:
        overrides["public_url"] = f"http://127.0.0.1:{port}/"
    settings = settings.with_(**overrides)
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
