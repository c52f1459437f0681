"""Reading a file from disk without trusting it, and JSON that cannot take the reader down.

Every file the build and `dpgkg validate` read from disk goes through :func:`read_file`:

* it must be a regular file: a FIFO, a device (``/dev/zero``), a socket or a directory is
  refused before anything is read (``stat`` first, so opening has no side effect; the file
  is then opened with ``O_NONBLOCK``, so a FIFO swapped in meanwhile cannot block, and
  checked again with ``fstat`` on what was opened);
* at most ``limit + 1`` bytes are read, whatever size ``stat`` reports (a file in
  ``/proc`` says 0 bytes), and more than ``limit`` is refused;
* with ``within``, a path whose real location (symbolic links resolved) is outside that
  directory is refused: a record linked to ``/etc/passwd`` is never read.

:func:`load_json` parses JSON bytes and refuses a document nested deeper than
:data:`JSON_MAX_DEPTH` (Python's parser and every reader after it recurse once per
level) or holding a number too long to convert; its messages give the position of a
syntax error, never the text around it.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

# Nesting a JSON document may have. Registry records nest 4 levels, the legacy API list
# 5, JSON-LD rarely more than 10; Python's own parser fails near 1,000.
JSON_MAX_DEPTH = 100

# One source file (an SDG or country table, a registry archive or legacy API list):
# the largest today, the registry archive, is about 5 MB.
SOURCE_MAX_BYTES = 256 * 1024 * 1024

# One registry record or screening file: the largest is 25 kB.
RECORD_MAX_BYTES = 5 * 1024 * 1024


# How a link leading out of the directory read is reported (a warning in a build).
OUTSIDE = "a symbolic link leading out of"


class ReadRefused(Exception):
    """A file that is not read: which, and why (one line, nothing of its content)."""

    def __init__(self, path: str, reason: str, outside: bool = False):
        self.path, self.reason, self.outside = path, reason, outside
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):
        return (ReadRefused, (self.path, self.reason, self.outside))


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether `path`, symbolic links resolved, is `root` or below it (also resolved)."""
    return _below(os.path.realpath(path), os.path.realpath(root))


def _below(real: str, top: str) -> bool:
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


_TOPS: dict[tuple, str] = {}


def _real_top(root: str | os.PathLike) -> str:
    """`root` with its links resolved, remembered while the directory it names is the same
    one (a registry's ~900 files are read below one root)."""
    root = os.fspath(root)
    try:
        st = os.stat(root)
    except OSError:
        return os.path.realpath(root)
    key = (root, st.st_dev, st.st_ino)
    if key not in _TOPS:
        _TOPS[key] = os.path.realpath(root)
    return _TOPS[key]


def _opened_path(fd: int) -> str:
    """The path of an open file as the kernel resolved it (no link left in it)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(f"/proc/self/fd/{fd}")


def read_file(
    path: str | os.PathLike, limit: int, within: str | os.PathLike | None = None
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or :class:`ReadRefused`."""
    p = os.fspath(path)
    top = None if within is None else _real_top(within)
    if top is not None and not _below(os.path.realpath(p), top):
        raise ReadRefused(p, f"{OUTSIDE} {os.fspath(within)}: not read", outside=True)
    try:
        before = os.stat(p)
    except OSError as exc:
        raise ReadRefused(p, f"could not be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise ReadRefused(p, f"{_kind(before.st_mode)}, not a regular file: not read")
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ReadRefused(p, f"could not be read: {exc.strerror or exc}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise ReadRefused(p, f"{_kind(opened.st_mode)}, not a regular file: not read")
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino) or (
            top is not None
            and not _below(_opened_path(fd), top)
            and Path("/proc/self/fd").is_dir()
        ):
            raise ReadRefused(p, "replaced while it was opened: not read")
        if opened.st_size > limit:
            raise ReadRefused(p, _too_large(limit, opened.st_size))
        chunks, n = [], 0
        while n <= limit:
            block = os.read(fd, min(1 << 20, limit + 1 - n))
            if not block:
                break
            chunks.append(block)
            n += len(block)
        if n > limit:
            raise ReadRefused(p, _too_large(limit))
        return b"".join(chunks)
    except OSError as exc:
        raise ReadRefused(p, f"could not be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _too_large(limit: int, size: int | None = None) -> str:
    return (
        f"larger than the limit of {limit} bytes"
        + (f" ({size} bytes)" if size else "")
        + ": not read"
    )


def read_stream(stream, limit: int, what: str) -> bytes:
    """At most `limit` bytes of a file-like object (an HTTP response), else ReadRefused."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ReadRefused(what, _too_large(limit))
    return data


_TOO_DEEP = "nested too deeply (more than {} levels): not read"


class JSONUnreadable(ValueError):
    """JSON that cannot be read: why, and where (line, column); never its text."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message, self.line, self.column = message, line, column
        super().__init__(message)


def load_json(data: bytes, max_depth: int = JSON_MAX_DEPTH):
    """Parse UTF-8 JSON (a byte-order mark allowed); :class:`JSONUnreadable` if it cannot be.

    The messages of Python's JSON parser come from a fixed set ("Expecting value") and
    never quote the input; the position is given as line and column.
    """
    if not data.strip():
        raise JSONUnreadable("empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise JSONUnreadable(
            f"not UTF-8 text (line {line}, column {column})", line, column
        ) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONUnreadable(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            exc.lineno,
            exc.colno,
        ) from None
    except RecursionError:
        raise JSONUnreadable(_TOO_DEEP.format(max_depth)) from None
    except ValueError as exc:  # an integer longer than Python converts
        if "integer string conversion" not in str(exc):
            raise
        raise JSONUnreadable(
            f"a number has more than {sys.get_int_max_str_digits()} digits: not read"
        ) from None
    if too_deep(obj, max_depth):
        raise JSONUnreadable(_TOO_DEEP.format(max_depth))
    return obj


def json_type(value) -> str:
    """What a parsed JSON value is, in JSON's words: 'an array', 'a number', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a number")


def too_deep(obj, max_depth: int) -> bool:
    """Whether parsed JSON nests more than `max_depth` arrays/objects (no recursion)."""
    stack = [(obj, 1)] if isinstance(obj, dict | list) else []
    while stack:
        o, depth = stack.pop()
        if depth > max_depth:
            return True
        for v in o.values() if isinstance(o, dict) else o:
            if isinstance(v, dict | list):
                stack.append((v, depth + 1))
    return False
