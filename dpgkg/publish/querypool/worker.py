"""The query process: opens the store (optionally copied into memory, optionally with
no network), then answers framed queries with framed answers until its pipe closes.

Run as ``python -m dpgkg.publish.querypool STORE [--in-memory] [--no-network] [--parent PID]``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.publish import formats
from dpgkg.publish.querypool.framing import (
    Deadline,
    FrameReader,
    WorkerDied,
    _Output,
    _write_frame,
)
from dpgkg.publish.sparql import serialize_result, syntax_message
from dpgkg.store import StoreTimeout, StoreUnavailable


def die_with_parent(parent: int, *, at_once: bool = True) -> None:
    """End this process when `parent` ends, even if it is killed and this one is busy
    (a query process mid-query, a server worker mid-request).

    `at_once` asks the kernel for a SIGKILL at the parent's death, which it sends when
    the parent's *thread* that started this process ends: only for processes started
    by a long-lived thread. Otherwise a watcher notices within a second.
    """
    if at_once:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PDEATHSIG
        except OSError:
            pass

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:
        os._exit(0)


# Never what the remote endpoint said or why it could not be reached: that would make
# this endpoint a probe of other hosts and ports.
SERVICE_FAILED = (502, "a SERVICE call of this query failed")


def _answer(store, out: _Output, req: dict) -> None:
    def error(status: int, message: str) -> None:
        out.data.clear()
        out.frame(b"E", json.dumps({"status": status, "message": message}).encode())

    try:
        result = store.query(req["query"], default_graph_uris=req.get("default") or None,
                             named_graph_uris=req.get("named") or None)
    except SyntaxError as exc:
        return error(400, syntax_message(exc))
    except StoreTimeout as exc:
        return error(503, str(exc))
    except StoreUnavailable as exc:
        return error(503, str(exc))
    except (OSError, ValueError, RuntimeError) as exc:
        if req.get("services"):
            return error(*SERVICE_FAILED)
        return error(400, f"query failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - a worker answers every query, whatever it raised
        return error(500, f"query failed ({type(exc).__name__})")
    if isinstance(result, ox.QueryTriples):
        name, registry, what = req.get("graph_format"), formats.RDF_FORMATS, "graph"
    else:
        name, registry, what = req.get("result_format"), formats.RESULT_FORMATS, "results"
    if not name or name not in registry:
        offered = ", ".join(f.media_type for f in registry.values())
        return error(406, f"the query gives {what}, available as: {offered}")
    out.frame(b"H", json.dumps({"format": name}).encode())
    try:
        serialize_result(result, registry[name], out)
    except (OSError, ValueError, RuntimeError, SyntaxError) as exc:
        if req.get("services"):  # evaluation is lazy: SERVICE calls happen here too
            return error(*SERVICE_FAILED)
        return error(500, f"query failed while writing results: {exc}")
    except Exception as exc:  # noqa: BLE001
        return error(500, f"query failed while writing results ({type(exc).__name__})")
    out.frame(b"Z")


def isolate_network() -> str | None:
    """Move this process into a new network namespace with no interface up, so nothing it
    runs can open a connection (a SERVICE call the checks missed included). None when
    done, else why not. Root can; others need unprivileged user namespaces."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    if libc.unshare(clone_newnet) == 0:
        return None
    first = os.strerror(ctypes.get_errno())
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(clone_newuser | clone_newnet) != 0:
        return f"unshare: {first}; with a user namespace: {os.strerror(ctypes.get_errno())}"
    try:  # keep our own ids inside, so the store's files stay ours
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError:
        pass
    return None


def open_worker_store(spec: str, in_memory: bool, *, open_now: bool = True):
    """The store a query process answers from, opened (and copied) now if `open_now`,
    rather than on the first query."""
    from dpgkg.store import open_store

    settings = Settings.from_env()  # the pool passes the server's settings in the environment
    store = open_store(spec, in_memory=in_memory, settings=settings,
                       in_memory_max_bytes=settings.query_in_memory_max_mb << 20)
    if open_now:
        try:
            store.version()
        except StoreUnavailable:
            pass
    return store


def setup(argv: list[str]) -> str:
    """What every query process and the fork server do first: die with the parent, leave
    SIGINT to it, keep stdout for frames, cut the network if asked; the network state."""
    if "--parent" in argv:
        die_with_parent(int(argv[argv.index("--parent") + 1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    if "--no-network" not in argv:
        return "open"
    why_not = isolate_network()
    return "isolated" if why_not is None else f"open ({why_not})"


def worker_main(argv: list[str]) -> None:
    network = setup(argv)
    store = open_worker_store(argv[0], "--in-memory" in argv)
    serve(store, 0, 1, network)


def serve(store, fd_in: int, fd_out: int, network: str, *, forked: bool = False) -> None:
    """Answer framed queries until the pipe closes. `forked`: a copy of the fork server's
    store, which this process must not reload itself: when a new version is served it
    says so (S) and ends, and the pool forks a fresh one from the reloaded server."""
    ready = {"network": network, "version": store.copied_version()}
    _write_frame(fd_out, b"R", json.dumps(ready).encode())
    out = _Output(fd_out)
    reader = FrameReader(fd_in)
    while True:
        try:
            kind, payload = reader.read(time.monotonic() + 2.0)
        except Deadline:
            if not forked:  # idle: pick up a new build now rather than on the next query
                try:
                    store.version()
                except StoreUnavailable:
                    pass
            continue
        except WorkerDied:  # the web process closed the pipe
            return
        if kind != b"Q":
            continue
        if forked and store.stale():
            _write_frame(fd_out, b"S")
            return
        _answer(store, out, json.loads(payload))

