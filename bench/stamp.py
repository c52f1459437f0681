"""The stamp every benchmark result file carries: what was measured, when, where, how.

House rule: every figure in the README comes from a result file that records the
commit, date, machine and command. ``stamp()`` gives that record; ``missing()`` says
what a stamp lacks (``bench/report.py --check`` refuses a result file without one).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What a stamp must hold, and inside it what the machine must hold.
FIELDS = ("commit", "dirty", "date", "machine", "load_average", "command")
MACHINE_FIELDS = ("hostname", "uname", "cpus", "memory_mb")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                             text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _memory_mb() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (OSError, ValueError):
        return None


def machine() -> dict:
    u = platform.uname()
    return {
        "hostname": u.node,
        "uname": f"{u.system} {u.release} {u.version} {u.machine}",
        "cpus": os.cpu_count(),
        "memory_mb": _memory_mb(),
        "python": platform.python_version(),
    }


def stamp(argv: list[str] | None = None) -> dict:
    """Commit (and whether the checkout had uncommitted changes), UTC date, machine,
    load average, the command line and its DPGKG_* environment, as of now."""
    # Result files written earlier in the same run (bench_scale's, after each scale) do
    # not make the checkout dirty: they are what is being measured into.
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)bench/results")
    argv = list(sys.argv if argv is None else argv)
    if argv and argv[0].endswith(".py"):
        try:  # the script relative to the checkout, so the command can be run again
            argv[0] = str(Path(argv[0]).resolve().relative_to(ROOT))
        except ValueError:
            pass
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": argv,
        "environment": environment(),
    }


def environment() -> dict[str, str]:
    """The DPGKG_* settings the command ran with (they change what is measured), never
    credentials."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("DPGKG_")
            and not any(w in k for w in ("PASSWORD", "USER", "TOKEN", "SECRET", "KEY"))}


def missing(result: dict) -> list[str]:
    """The stamp fields a result lacks (all of them when it has no ``stamp``)."""
    st = result.get("stamp") if isinstance(result, dict) else None
    if not isinstance(st, dict):
        return ["stamp"]
    out = [k for k in FIELDS if st.get(k) is None or st.get(k) in ("", [])]
    m = st.get("machine")
    if isinstance(m, dict):
        out += [f"machine.{k}" for k in MACHINE_FIELDS if m.get(k) in (None, "")]
    # A file that keeps rows of earlier runs (bench_scale's scales) stamps each row.
    rows = result.get("scales")
    if isinstance(rows, dict):
        out += [f"scales.{k}.stamp" for k, row in rows.items()
                if not isinstance(row, dict) or missing(row)]
    return out


def command_line(st: dict) -> str:
    """The stamp's command as one shell line."""
    import shlex

    cmd = st.get("command") or []
    if cmd and cmd[0].endswith(".py"):
        cmd = ["python", *cmd]
    env = [f"{k}={shlex.quote(v)}" for k, v in (st.get("environment") or {}).items()]
    return " ".join(env + [shlex.quote(c) for c in cmd])
