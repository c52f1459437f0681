"""The fork server: one process opens the served version (copied into memory with
`--in-memory`) and forks the query processes from it.

A process killed at the time limit is replaced by a fork (milliseconds) rather than a new
interpreter opening (or copying) the store again, while the runaway that got it killed is
sent again. A forked process shares the server's pages until it writes to them; reading
pyoxigraph's in-memory store writes to its pages, so with `--in-memory` each process that
has answered holds most of a copy of its own (measured with smaps_rollup: ~75-90 MB PSS
each at 1x, against ~25 MB reading the store on disk; see Settings.query_in_memory).

Run as ``python -m dpgkg.publish.querypool STORE --fork-server --control FD [--in-memory]
[--no-network] [--parent PID]``. FD is a SOCK_SEQPACKET socket to the pool: the server
says ``{"network": ...}`` once ready; then each message from the pool asks for one query
process, answered with ``{"pid": N}`` and the pool's ends of its two pipes (SCM_RIGHTS).
When a new version is served the server copies it before the next fork; processes forked
from the old copy say so (frame S) at their next query and end.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

from dpgkg.publish.querypool.worker import die_with_parent, open_worker_store, serve, setup
from dpgkg.store import StoreUnavailable

REFRESH_EVERY = 1.0  # seconds between looks at which version is served, when idle


def _refresh(store) -> None:
    """Copy the served version if it is new; release the store when there is none or it is
    too large to copy (the query processes then open it themselves: nothing opened here
    may hold threads or locks when it forks)."""
    try:
        if store.preload():
            return
    except StoreUnavailable:
        pass
    store.close()


def _fork(store, network: str, control: socket.socket) -> None:
    to_child, from_pool = os.pipe()
    to_pool, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:  # the query process
        try:
            control.close()
            os.dup2(to_child, 0)
            os.dup2(from_child, 1)
            for fd in (to_child, from_pool, to_pool, from_child):
                os.close(fd)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            die_with_parent(os.getppid())
            serve(store, 0, 1, network, forked=True)
        finally:
            os._exit(0)
    os.close(to_child)
    os.close(from_child)
    try:
        socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [from_pool, to_pool])
    finally:
        os.close(from_pool)
        os.close(to_pool)


def fork_server_main(argv: list[str]) -> None:
    network = setup(argv)
    control = socket.socket(fileno=int(argv[argv.index("--control") + 1]))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the query processes
    store = open_worker_store(argv[0], "--in-memory" in argv, open_now=False)
    _refresh(store)
    control.send(json.dumps({"network": network}).encode())
    while True:
        ready, _, _ = select.select([control], [], [], REFRESH_EVERY)
        if not ready:
            _refresh(store)
            continue
        if not control.recv(64):  # the pool closed its end
            return
        _refresh(store)
        _fork(store, network, control)



# The pool's side.
class Forked:
    """A query process forked by the fork server (not our child): what the pool uses of a
    Popen. The fork server's kernel reaps it."""

    def __init__(self, pid: int, to_worker: int, from_worker: int):
        self.pid = pid
        self.stdin = os.fdopen(to_worker, "wb", buffering=0)
        self.stdout = os.fdopen(from_worker, "rb", buffering=0)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while True:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.002)



class ForkServer:
    """The pool's handle on its fork server: started on first use (and again if it
    died), asked for one query process at a time."""

    def __init__(self, store_spec: str, flags: list[str], env: dict[str, str],
                 start_timeout: float):
        self.store_spec, self.flags, self.env = store_spec, flags, env
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None

    def _started(self) -> socket.socket:
        if self._proc is not None and self._proc.poll() is None:
            return self._control
        self.stop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, "-m", "dpgkg.publish.querypool", self.store_spec,
               "--fork-server", "--control", str(theirs.fileno()),
               "--parent", str(os.getpid()), *self.flags]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, close_fds=True,
                                      pass_fds=(theirs.fileno(),), env=self.env)
        self._control = ours
        theirs.close()
        ours.settimeout(self.start_timeout)
        try:
            ready = ours.recv(4096)
        except OSError:
            ready = b""
        if not ready:
            self.stop()
            raise RuntimeError("the query fork server did not start")
        return ours

    def fork(self) -> Forked:
        """A new query process (it still has to say it is ready)."""
        control = self._started()
        try:
            control.send(b"F")
            msg, fds, _, _ = socket.recv_fds(control, 4096, 2)
        except OSError:
            msg, fds = b"", []
        if not msg or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            self.stop()
            raise RuntimeError("the query fork server stopped")
        return Forked(json.loads(msg)["pid"], *fds)

    def stop(self) -> None:
        proc, control = self._proc, self._control
        self._proc = self._control = None
        if control is not None:
            control.close()  # the server ends when its control socket closes
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
