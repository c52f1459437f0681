"""The pipe protocol between the web process and a query process: frames, and a reader
whose every read is bounded by a deadline (and can run a check while it waits)."""

from __future__ import annotations

import os
import select
import struct
import time

HEADER = struct.Struct(">cI")
CHUNK = 64 * 1024
CHECK_EVERY = 0.05  # how often a waiting read looks at the worker's memory


class Deadline(Exception):
    pass


class OverMemory(Exception):
    pass


class WorkerDied(Exception):
    pass


def _write_frame(fd: int, kind: bytes, payload: bytes = b"") -> None:
    data = HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class FrameReader:
    """Reads frames from a pipe, each read bounded by a deadline (time.monotonic()).

    `check`, if given, is called every `CHECK_EVERY` seconds while the read waits (the
    pool's memory watch); it stops the read by raising."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def _fill(self, need: int, deadline: float | None, check=None) -> None:
        while len(self.buf) < need:
            if deadline is not None:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Deadline()
                    wait = min(remaining, CHECK_EVERY) if check else remaining
                    ready, _, _ = select.select([self.fd], [], [], wait)
                    if ready:
                        break
                    if check:
                        check()
            data = os.read(self.fd, max(need - len(self.buf), 1 << 16))
            if not data:
                raise WorkerDied()
            self.buf += data

    def read(self, deadline: float | None, check=None) -> tuple[bytes, bytes]:
        self._fill(HEADER.size, deadline, check)
        kind, size = HEADER.unpack_from(self.buf)
        self._fill(HEADER.size + size, deadline, check)
        payload = bytes(self.buf[HEADER.size:HEADER.size + size])
        del self.buf[:HEADER.size + size]
        return kind, payload


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
