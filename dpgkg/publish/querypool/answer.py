"""A query's answer: its format and body, and the bytes held back before it is sent
(so a query that fails or passes its limit early still gets a clean error status)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dpgkg.publish import formats
from dpgkg.publish.querypool.framing import CHUNK


@dataclass
class Answer:
    """A query answer: its format and body chunks. `length` is known when it is complete."""

    format: formats.Format
    body: Iterable[bytes]
    length: int | None


class Held:
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
