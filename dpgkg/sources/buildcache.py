"""The build cache's files: beside an embedded store, ``<store>/cache/<name>.json``.

What is cached, and when it is still valid, is :mod:`dpgkg.incremental`'s business; this
module only reads and writes the files (written whole to a temporary file and renamed,
so a build killed while writing leaves the previous cache or none, never half of one)
and hashes the trees a cache depends on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_DIR = "cache"


def cache_dir(store_dir: str | Path) -> Path:
    """Where the build cache of an embedded store's directory lives."""
    return Path(store_dir) / CACHE_DIR


def read_cache(root: Path | None, name: str) -> dict:
    """A cache file's content ({} when there is none or it cannot be read: a cache that
    is lost or damaged only makes the build do everything again)."""
    if root is None:
        return {}
    try:
        data = json.loads((root / f"{name}.json").read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("build cache %s not read (%s): building without it", name, exc)
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(root: Path | None, name: str, content: dict) -> None:
    """Replace a cache file whole (a temporary file renamed over it)."""
    if root is None:
        return
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(content, sort_keys=True, separators=(",", ":")))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def tree_digest(roots: list[Path], suffixes: tuple[str, ...] | None = None) -> str:
    """sha256 over the relative paths and bytes of every regular file under `roots`
    (only names ending in one of `suffixes`, when given), in sorted order."""
    h = hashlib.sha256()
    for root in roots:
        files = sorted(p for p in Path(root).rglob("*") if p.is_file() and (
            suffixes is None or p.name.endswith(suffixes)) and "__pycache__" not in p.parts)
        for p in files:
            h.update(str(p.relative_to(root)).encode())
            h.update(b"\0")
            h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def read_cache_bytes(root: Path | None, name: str) -> bytes | None:
    """A cache file's bytes (None when there is none or it cannot be read)."""
    if root is None:
        return None
    try:
        return (root / name).read_bytes()
    except OSError:
        return None


def write_cache_bytes(root: Path | None, name: str, data: bytes) -> None:
    """Replace a cache file whole (a temporary file renamed over it)."""
    if root is None:
        return
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_cache(root: Path | None, name: str) -> None:
    if root is not None:
        (root / name).unlink(missing_ok=True)


def read_entry(root: Path | None, folder: str, name: str) -> bytes | None:
    """One entry of a cache folder (``<root>/<folder>/<name>``); None when there is none.
    An entry that cannot be read is logged and treated as missing."""
    if root is None:
        return None
    try:
        return (root / folder / name).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("build cache %s/%s not read (%s): converted again", folder, name, exc)
        return None


def write_entries(root: Path | None, folder: str, entries: dict[str, bytes],
                  keep: set[str]) -> int:
    """Write `entries` into a cache folder (each written whole and renamed) and remove
    every entry not in `keep` or `entries`; returns how many were removed."""
    if root is None:
        return 0
    d = root / folder
    d.mkdir(parents=True, exist_ok=True)
    for name, data in entries.items():
        write_cache_bytes(d, name, data)
    removed = 0
    for p in d.iterdir():
        if p.name not in keep and p.name not in entries:
            p.unlink(missing_ok=True)
            removed += 1
    return removed
