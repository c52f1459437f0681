"""The pool, in the web process: warm query processes handed to requests first come,
first served within each client's share, killed at the deadline or the memory limit."""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterator

from dpgkg.publish import formats
from dpgkg.publish.querypool.answer import Answer, Held
from dpgkg.publish.querypool.framing import (
    Deadline,
    FrameReader,
    OverMemory,
    WorkerDied,
    _write_frame,
)
from dpgkg.publish.querypool.zygote import Forked, ForkServer
from dpgkg.publish.sparql import QueryBusy, QueryError, QueryTimeout

log = logging.getLogger(__name__)

START_TIMEOUT = 300.0  # an in-memory copy of a large store takes a while
PAGE = os.sysconf("SC_PAGE_SIZE")
# A query still running after this many seconds runs at the lowest CPU priority, so the
# short queries beside it (most of them) keep their speed on a small machine.
YIELD_AFTER = 0.5
LOWEST = 19


class _Worker:
    def __init__(self, proc: Forked):
        self.proc = proc
        self.niced = False  # running at the lowest priority (a long query)
        self.version: str | None = None  # of the store's copy it holds, if it holds one
        self.fd_in = proc.stdin.fileno()
        self.reader = FrameReader(proc.stdout.fileno())
        self.queries = 0
        self.network = "open"
        self.baseline = 0  # resident bytes when idle, after the store is open
        self.client: str | None = None  # who it is working for

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def send(self, payload: bytes) -> None:
        _write_frame(self.fd_in, b"Q", payload)

    def nice(self, level: int) -> bool:
        """Set the process's CPU priority; False where it may not (raising it back needs
        privileges an unprivileged server lacks)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.proc.pid, level)
        except OSError:
            return False
        self.niced = level > 0
        return True

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
    def __init__(self, client: str | None):
        self.event = threading.Event()
        self.worker: _Worker | None = None
        self.client = client


class QueryPool:
    """`size` warm worker processes over one store; `run` gives an Answer or raises QueryError."""

    def __init__(self, store_spec: str, *, size: int = 2, in_memory: bool = False,
                 hold_bytes: int = 64 * 1024 * 1024, spool_memory: int = 4 * 1024 * 1024,
                 env: dict[str, str] | None = None, spares: int = 1,
                 no_network: bool = False, memory_limit: int | None = None,
                 share: int | None = None):
        """`env`: extra environment of the workers (remote store credentials stay off
        the command line). `spares`: workers started ahead and kept on standby, so a
        worker killed at the time limit is replaced at once; without one, a runaway
        query sent again and again holds one worker while its replacement starts and
        leaves the other queries none (503 after waiting out the time limit).
        `no_network`: workers run in a network namespace of their own, with no way out.
        `memory_limit`: bytes a query may add to its worker's resident memory before
        the worker is killed and the query answered 503. `share`: workers one client
        may hold at once (default half the pool, at least one), so a client sending
        runaway queries cannot take every worker from the others."""
        self.store_spec = store_spec
        self.env = {**os.environ, **(env or {})}
        self.size = size
        self.in_memory = in_memory
        self.hold_bytes = hold_bytes
        self.spool_memory = spool_memory
        self.no_network = no_network
        self.memory_limit = memory_limit
        self.share = share or max(1, size // 2)
        self._holding: dict[str | None, int] = {}
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._spare: queue.Queue[_Worker] = queue.Queue()
        self._spawns: queue.Queue[None] = queue.Queue()
        self._closed = False
        self._all: set[_Worker] = set()
        flags = (["--in-memory"] if in_memory else []) + (["--no-network"] if no_network else [])
        self._server = ForkServer(store_spec, flags, self.env, START_TIMEOUT)
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
                if self._closed:
                    return
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
        worker = _Worker(self._server.fork())
        try:
            kind, payload = worker.reader.read(time.monotonic() + START_TIMEOUT)
        except (Deadline, WorkerDied):
            worker.kill()
            raise RuntimeError("query worker did not start") from None
        if kind != b"R":
            worker.kill()
            raise RuntimeError("query worker sent an unexpected first frame")
        ready = json.loads(payload or b"{}")
        worker.network = ready.get("network", "open")
        worker.version = ready.get("version")
        if self.no_network and worker.network != "isolated" and not self._warned_network:
            self._warned_network = True
            log.warning("query processes keep network access: %s; SERVICE is still refused "
                        "by the query check", worker.network)
        worker.baseline = worker.rss()
        return worker

    _warned_network = False

    def _assign(self, worker: _Worker, client: str | None) -> _Worker:
        worker.client = client
        self._holding[client] = self._holding.get(client, 0) + 1
        return worker

    def _unassign(self, worker: _Worker) -> None:
        left = self._holding.get(worker.client, 0) - 1
        if left > 0:
            self._holding[worker.client] = left
        else:
            self._holding.pop(worker.client, None)
        worker.client = None

    def _offer(self, worker: _Worker) -> None:
        """A worker is free: to the oldest waiting request whose client holds less than its
        share, else to the idle ones."""
        with self._lock:
            for waiter in self._waiters:
                if self._holding.get(waiter.client, 0) < self.share:
                    self._waiters.remove(waiter)
                    waiter.worker = self._assign(worker, waiter.client)
                    waiter.event.set()
                    return
            self._idle.put(worker)

    def _take(self, timeout: float, client: str | None = None) -> _Worker | None:
        """A free worker within `timeout` seconds (after those waiting before, and only
        while `client` holds less than its share), or None."""
        with self._lock:
            # A waiter can be passed over only for its share, so an idle worker beside
            # waiters means they are all at theirs.
            if self._holding.get(client, 0) < self.share:
                try:
                    return self._assign(self._idle.get_nowait(), client)
                except queue.Empty:
                    pass
            waiter = _Waiter(client)
            self._waiters.append(waiter)
            self._lend_spare()
        waiter.event.wait(timeout)
        with self._lock:
            if waiter.worker is None:
                self._waiters.remove(waiter)
            return waiter.worker

    def _release(self, worker: _Worker) -> None:
        if worker.niced and not worker.nice(0):
            self._discard(worker)  # a fresh fork takes its place at the normal priority
            return
        with self._lock:
            self._unassign(worker)
            if not self._closed and self._lent():
                self._spare.put(worker)  # back to standby: no long query runs any more
                return
        if self._closed:
            worker.kill()
        else:
            self._offer(worker)

    def _long_running(self) -> bool:
        # Idle and standby workers are never at the lowest priority: a niced one is busy.
        return any(w.niced for w in self._all)

    def _lent(self) -> bool:
        """The standby is serving (lent by `_lend_spare`) and no long query runs any more."""
        return (len(self._all) - self._spare.qsize() > self.size
                and not self._long_running())

    def _lend_spare(self) -> None:
        """Requests wait while a long query (past YIELD_AFTER) holds a worker: the standby
        serves them meanwhile, so long queries from two clients cannot leave every other
        client without a process until they end (the standby is already running: no process
        is started for it). It goes back to standby when a worker is released with no long query
        running; a worker killed meanwhile is replaced by a fresh fork."""
        with self._lock:
            if not self._waiters or not self._long_running():
                return
            try:
                spare = self._spare.get_nowait()
            except queue.Empty:
                return
            self._offer(spare)

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._unassign(worker)
            self._all.discard(worker)
            if not self._closed:
                try:
                    self._offer(self._spare.get_nowait())  # the standby takes over at once
                except queue.Empty:
                    pass
        worker.kill()
        if not self._closed:
            self._spawns.put(None)

    def _retire(self, version: str | None) -> None:
        """End the idle and standby workers holding a copy of `version`, no longer served,
        so that copy's memory is freed now rather than at their next query."""
        retired = []
        with self._lock:
            for waiting in (self._idle, self._spare):
                keep = []
                while True:
                    try:
                        w = waiting.get_nowait()
                    except queue.Empty:
                        break
                    (retired if version and w.version == version else keep).append(w)
                for w in keep:
                    waiting.put(w)
            self._all.difference_update(retired)
        for w in retired:
            w.kill()
            self._spawns.put(None)

    def ready(self) -> bool:
        """Every worker of the pool has started (spares aside)."""
        with self._lock:
            return len(self._all) >= self.size

    def processes(self) -> tuple[int, int]:
        """Worker processes serving and on standby."""
        with self._lock:
            return len(self._all) - self._spare.qsize(), self._spare.qsize()

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
        self._server.stop()

    # Queries
    def _watch(self, worker: _Worker):
        """The check a read runs while it waits: the query's process moved to the lowest
        CPU priority once it has run YIELD_AFTER s; OverMemory once the query has grown
        its process past the memory limit."""
        ceiling = worker.baseline + self.memory_limit if self.memory_limit else None
        lower_at = time.monotonic() + YIELD_AFTER

        def check() -> None:
            if ceiling is not None and worker.rss() > ceiling:
                raise OverMemory()
            if not worker.niced and time.monotonic() >= lower_at and worker.nice(LOWEST):
                self._lend_spare()

        return check

    def run(self, sparql: str, *, timeout: float, default_graph_uris: list[str] | None = None,
            named_graph_uris: list[str] | None = None, result_format: str | None = None,
            graph_format: str | None = None, client: str | None = None,
            services: list[str] | None = None) -> Answer:
        """Run a (checked) query for `client`; the answer in the format for its kind.

        The query waits at most `timeout` s for a query process (its client's share of
        them, first come, first served) and then runs for at most `timeout` s."""
        request = json.dumps({"query": sparql, "default": default_graph_uris or [],
                              "named": named_graph_uris or [], "result_format": result_format,
                              "graph_format": graph_format, "services": services or []}
                             ).encode()
        queued_until = time.monotonic() + timeout
        while True:
            worker = self._take(max(queued_until - time.monotonic(), 0.001), client)
            if worker is None:
                raise QueryBusy(f"every query worker you may use stayed busy for {timeout:g} "
                                "s; try again shortly") from None
            answer = self._attempt(worker, request, timeout)
            if answer is not None:
                return answer

    def _attempt(self, worker: _Worker, request: bytes, timeout: float) -> Answer | None:
        """The query on `worker`, within `timeout` s; None if the worker holds a copy of a
        version no longer served (it has ended; a fresh one is to take the query)."""
        deadline = time.monotonic() + timeout
        check = self._watch(worker)
        held = Held(self.spool_memory)
        try:
            worker.send(request)
            worker.queries += 1
            kind, payload = worker.reader.read(deadline, check)
            if kind == b"S":
                self._discard(worker)
                self._retire(worker.version)
                return None
            if kind == b"E":
                self._release(worker)
                raise _query_error(payload)
            info = json.loads(payload)
            name = info["format"]
            fmt = formats.RDF_FORMATS.get(name) or formats.RESULT_FORMATS[name]
            while held.size < self.hold_bytes:
                kind, payload = worker.reader.read(deadline, check)
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
        except OverMemory:
            self._discard(worker)
            held.close()
            raise QueryTimeout(f"the query needed more than {self.memory_limit >> 20} MB of "
                               "memory and was stopped; narrow it down or add a LIMIT") from None
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
        return Answer(fmt, self._stream(worker, held, deadline, timeout, check), None)

    def _stream(self, worker: _Worker, held: Held, deadline: float, timeout: float,
                check=None) -> Iterator[bytes]:
        done = False
        try:
            yield from held.body()
            while True:
                kind, payload = worker.reader.read(deadline, check)
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
        except OverMemory:
            raise QueryTimeout("the query passed its memory limit while its results were being "
                               "sent; the response was cut short") from None
        finally:
            held.close()
            if done:
                self._release(worker)
            else:  # timed out, failed, or the client went away mid-answer
                self._discard(worker)


def _query_error(payload: bytes) -> QueryError:
    data = json.loads(payload)
    exc = QueryError(data.get("message", "query failed"))
    exc.status = int(data.get("status", 400))
    return exc
