"""SPARQL queries in a pool of worker processes that can be killed at the time limit.

Oxigraph cannot cancel a query, so each query runs in a warm worker process that
holds the read-only store open (optionally copied into memory). The worker
serialises the answer in the negotiated format and sends it back as framed byte
chunks over a pipe; the web process only forwards bytes. When a query passes
its deadline the web process kills that worker (SIGKILL, instant) and a spare is
started in the background; other requests keep using the other workers.

Frames, both ways: 1 byte type, 4 bytes big-endian length, payload.

    web -> worker   Q  JSON request {query, default, named, result_format, graph_format}
    worker -> web   R  ready (once, after the store is open)
                    H  JSON {"format": name}: the query ran, the answer follows
                    D  bytes of the answer
                    Z  end of the answer
                    E  JSON {"status", "message"}: an error instead of (or during) the answer

The answer is held back (in memory up to `spool_memory`, then in a temporary
file) until it is complete or reaches `hold_bytes`, so every query that fails or
times out before then gets a proper error status. Larger answers are streamed;
a timeout while streaming can only cut the connection, which clients see as an
incomplete response, never as a complete short answer.

Run as ``python -m dpgkg.publish.querypool STORE [--in-memory] [--parent PID]``.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from dpgkg.publish import formats
from dpgkg.publish.sparql import (
    QueryBusy,
    QueryError,
    QueryTimeout,
    serialize_result,
    syntax_message,
)
from dpgkg.store import StoreTimeout, StoreUnavailable

log = logging.getLogger(__name__)

HEADER = struct.Struct(">cI")
CHUNK = 64 * 1024
START_TIMEOUT = 300.0  # an in-memory copy of a large store takes a while


class Deadline(Exception):
    pass


class WorkerDied(Exception):
    pass


# Framing ---------------------------------------------------------------------

def _write_frame(fd: int, kind: bytes, payload: bytes = b"") -> None:
    data = HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class FrameReader:
    """Reads frames from a pipe, each read bounded by a deadline (time.monotonic())."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, need: int, deadline: float | None) -> None:
        while len(self.buf) < need:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Deadline()
                ready, _, _ = select.select([self.fd], [], [], remaining)
                if not ready:
                    raise Deadline()
            data = os.read(self.fd, max(need - len(self.buf), 1 << 16))
            if not data:
                raise WorkerDied()
            self.buf += data

    def read(self, deadline: float | None) -> tuple[bytes, bytes]:
        self._fill(HEADER.size, deadline)
        kind, size = HEADER.unpack_from(self.buf)
        self._fill(HEADER.size + size, deadline)
        payload = bytes(self.buf[HEADER.size:HEADER.size + size])
        del self.buf[:HEADER.size + size]
        return kind, payload


# The worker process ------------------------------------------------------------

class _Output:
    """Frames to the web process, coalesced: a small answer (H, D, Z) is one write."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()
        self.data = bytearray()  # answer bytes not yet framed

    def frame(self, kind: bytes, payload: bytes = b"") -> None:
        self._frame_data()
        self.buf += HEADER.pack(kind, len(payload))
        self.buf += payload
        if kind in (b"Z", b"E") or len(self.buf) >= CHUNK:
            self.send()

    # The file-like side pyoxigraph writes the answer into.
    def write(self, data) -> int:
        self.data += data
        if len(self.data) >= CHUNK:
            self._frame_data()
            self.send()
        return len(data)

    def flush(self) -> None:
        pass  # framing and sending follow the chunk size, not pyoxigraph's flushes

    def _frame_data(self) -> None:
        if self.data:
            self.buf += HEADER.pack(b"D", len(self.data))
            self.buf += self.data
            self.data.clear()

    def send(self) -> None:
        view = memoryview(bytes(self.buf))
        self.buf.clear()
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


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
        return error(500, f"query failed while writing results: {exc}")
    except Exception as exc:  # noqa: BLE001
        return error(500, f"query failed while writing results ({type(exc).__name__})")
    out.frame(b"Z")


def worker_main(argv: list[str]) -> None:
    from dpgkg.store import open_store

    spec = argv[0]
    in_memory = "--in-memory" in argv
    if "--parent" in argv:
        die_with_parent(int(argv[argv.index("--parent") + 1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
    sys.stdout = sys.stderr  # nothing but frames on the pipe
    cap = os.environ.get("DPGKG_QUERY_IN_MEMORY_MAX_MB")
    store = open_store(spec, in_memory=in_memory,
                       in_memory_max_bytes=int(float(cap) * 2**20) if cap else None)
    try:
        store.version()  # open (and copy) now, not on the first query
    except StoreUnavailable:
        pass
    _write_frame(fd_out, b"R")
    out = _Output(fd_out)
    reader = FrameReader(fd_in)
    while True:
        try:
            kind, payload = reader.read(time.monotonic() + 2.0)
        except Deadline:
            # Idle: pick up a new build now rather than on the next (timed) query.
            try:
                store.version()
            except StoreUnavailable:
                pass
            continue
        except WorkerDied:  # the web process closed the pipe
            return
        if kind == b"Q":
            _answer(store, out, json.loads(payload))


# The pool, in the web process --------------------------------------------------

class _Worker:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.fd_in = proc.stdin.fileno()
        self.reader = FrameReader(proc.stdout.fileno())
        self.queries = 0

    def send(self, payload: bytes) -> None:
        _write_frame(self.fd_in, b"Q", payload)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class _Waiter:
    def __init__(self):
        self.event = threading.Event()
        self.worker: _Worker | None = None


@dataclass
class Answer:
    """A query answer: its format and body chunks. `length` is known when it is complete."""

    format: formats.Format
    body: Iterable[bytes]
    length: int | None


class QueryPool:
    """`size` warm worker processes over one store; `run` gives an Answer or raises QueryError."""

    def __init__(self, store_spec: str, *, size: int = 2, in_memory: bool = False,
                 hold_bytes: int = 64 * 1024 * 1024, spool_memory: int = 4 * 1024 * 1024,
                 env: dict[str, str] | None = None, spares: int = 1):
        """`env`: extra environment of the workers (remote store credentials stay off
        the command line). `spares`: workers started ahead and kept on standby, so a
        worker killed at the time limit is replaced at once; without one, a runaway
        query sent again and again holds one worker while its replacement starts and
        leaves the other queries none (503 after waiting out the time limit)."""
        self.store_spec = store_spec
        self.env = {**os.environ, **(env or {})}
        self.size = size
        self.in_memory = in_memory
        self.hold_bytes = hold_bytes
        self.spool_memory = spool_memory
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._spare: queue.Queue[_Worker] = queue.Queue()
        self._spawns: queue.Queue[None] = queue.Queue()
        self._closed = False
        self._all: set[_Worker] = set()
        self._lock = threading.RLock()
        # Requests waiting for a worker, served first come, first served: a released
        # worker goes straight to the oldest, so no request waits out its time limit
        # while others barge past it.
        self._waiters: deque[_Waiter] = deque()
        # One long-lived thread starts every worker: the workers' parent-death
        # signal fires when the thread that started them ends.
        self._spawner = threading.Thread(target=self._spawn_loop, name="querypool-spawner",
                                         daemon=True)
        self._spawner.start()
        for _ in range(size + spares):
            self._spawns.put(None)

    # Workers
    def _spawn_loop(self) -> None:
        while not self._closed:
            self._spawns.get()
            if self._closed:
                return
            try:
                worker = self._start_worker()
            except Exception:  # keep the pool alive; retry after a pause
                log.exception("could not start a query worker")
                time.sleep(1.0)
                self._spawns.put(None)
                continue
            with self._lock:
                active = len(self._all) - self._spare.qsize()
                self._all.add(worker)
                if active >= self.size:
                    self._spare.put(worker)
                    continue
            self._offer(worker)

    def _start_worker(self) -> _Worker:
        cmd = [sys.executable, "-m", "dpgkg.publish.querypool", self.store_spec,
               "--parent", str(os.getpid())]
        if self.in_memory:
            cmd.append("--in-memory")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                bufsize=0, close_fds=True, env=self.env)
        worker = _Worker(proc)
        try:
            kind, _ = worker.reader.read(time.monotonic() + START_TIMEOUT)
        except (Deadline, WorkerDied):
            worker.kill()
            raise RuntimeError("query worker did not start") from None
        if kind != b"R":
            worker.kill()
            raise RuntimeError("query worker sent an unexpected first frame")
        return worker

    def _offer(self, worker: _Worker) -> None:
        """A worker is free: to the oldest waiting request, else to the idle ones."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.worker = worker
                waiter.event.set()
            else:
                self._idle.put(worker)

    def _take(self, timeout: float) -> _Worker | None:
        """A free worker within `timeout` seconds (after those waiting before), or None."""
        with self._lock:
            if not self._waiters:
                try:
                    return self._idle.get_nowait()
                except queue.Empty:
                    pass
            waiter = _Waiter()
            self._waiters.append(waiter)
        waiter.event.wait(timeout)
        with self._lock:
            if waiter.worker is None:
                self._waiters.remove(waiter)
            return waiter.worker

    def _release(self, worker: _Worker) -> None:
        if self._closed:
            worker.kill()
        else:
            self._offer(worker)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
            if not self._closed:
                try:
                    self._offer(self._spare.get_nowait())  # the standby takes over at once
                except queue.Empty:
                    pass
        worker.kill()
        if not self._closed:
            self._spawns.put(None)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """True once every worker has started (for warm-up and tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._idle.qsize() >= self.size:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._closed = True
        self._spawns.put(None)
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.kill()

    # Queries
    def run(self, sparql: str, *, timeout: float, default_graph_uris: list[str] | None = None,
            named_graph_uris: list[str] | None = None, result_format: str | None = None,
            graph_format: str | None = None) -> Answer:
        """Run a (checked) query; the answer in the format for its kind, within `timeout` s."""
        deadline = time.monotonic() + timeout
        worker = self._take(max(timeout, 0.001))
        if worker is None:
            raise QueryBusy(f"every query worker stayed busy for {timeout:g} s; "
                            "try again shortly") from None
        request = json.dumps({"query": sparql, "default": default_graph_uris or [],
                              "named": named_graph_uris or [], "result_format": result_format,
                              "graph_format": graph_format}).encode()
        held = _Held(self.spool_memory)
        try:
            worker.send(request)
            worker.queries += 1
            kind, payload = worker.reader.read(deadline)
            if kind == b"E":
                self._release(worker)
                raise _query_error(payload)
            info = json.loads(payload)
            name = info["format"]
            fmt = formats.RDF_FORMATS.get(name) or formats.RESULT_FORMATS[name]
            while held.size < self.hold_bytes:
                kind, payload = worker.reader.read(deadline)
                if kind == b"D":
                    held.write(payload)
                elif kind == b"Z":
                    self._release(worker)
                    return Answer(fmt, held.body(), held.size)
                elif kind == b"E":
                    self._release(worker)
                    held.close()
                    raise _query_error(payload)
        except Deadline:
            self._discard(worker)
            held.close()
            raise QueryTimeout(f"the query did not finish within the {timeout:g} s limit "
                               "and was stopped; narrow it down or add a LIMIT") from None
        except (WorkerDied, OSError):
            self._discard(worker)
            held.close()
            exc = QueryError("the query worker stopped unexpectedly (out of memory?)")
            exc.status = 500
            raise exc from None
        except QueryError:
            raise
        except BaseException:
            self._discard(worker)
            held.close()
            raise
        return Answer(fmt, self._stream(worker, held, deadline, timeout), None)

    def _stream(self, worker: _Worker, held: _Held, deadline: float, timeout: float
                ) -> Iterator[bytes]:
        done = False
        try:
            yield from held.body()
            while True:
                kind, payload = worker.reader.read(deadline)
                if kind == b"D":
                    yield payload
                elif kind == b"Z":
                    done = True
                    return
                else:
                    raise QueryError("the query failed while its results were being sent")
        except Deadline:
            raise QueryTimeout(f"the query passed the {timeout:g} s limit while its results "
                               "were being sent; the response was cut short") from None
        finally:
            held.close()
            if done:
                self._release(worker)
            else:  # timed out, failed, or the client went away mid-answer
                self._discard(worker)


class _Held:
    """Answer bytes held back: in memory up to `memory` bytes, then in a temporary file."""

    def __init__(self, memory: int):
        self.memory = memory
        self.size = 0
        self.buf = bytearray()
        self.file = None

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.file is None and self.size > self.memory:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            self.file.write(self.buf)
            self.buf = bytearray()
        if self.file is None:
            self.buf += data
        else:
            self.file.write(data)

    def body(self) -> Iterable[bytes]:
        """What was held: one bytes object when in memory (the server sends it in one
        write, where an iterator takes its slower streaming path), else file chunks."""
        if self.file is None:
            return [bytes(self.buf)] if self.buf else []
        return self._replay()

    def _replay(self) -> Iterator[bytes]:
        try:
            self.file.seek(0)
            while chunk := self.file.read(CHUNK):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        self.buf = bytearray()


def _query_error(payload: bytes) -> QueryError:
    data = json.loads(payload)
    exc = QueryError(data.get("message", "query failed"))
    exc.status = int(data.get("status", 400))
    return exc


if __name__ == "__main__":
    worker_main(sys.argv[1:])
