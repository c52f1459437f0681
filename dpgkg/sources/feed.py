"""The change feed on disk: each build's graph hashes and feed entry, beside its dumps.

    <store>/dumps/<version>/graph-hashes.json   {graph IRI: content/provenance sha256}
    <store>/dumps/<version>/changes.json        what changed since the previous build
    <store>/dumps/<version>/graph-digests.json  {graph IRI: sha256} of the harvested graphs

The entry of every build is kept, so the feed holds the whole build history; the
hashes, needed only to compare the next build, are pruned with the old dumps. Builds before graph-hashes.json
wrote record-hashes.json (record graphs only); it is read when the new file is not
there. A build's folder is complete once renamed into place (see
:mod:`dpgkg.publish.dumps`), so what is read here never changes afterwards, unless a
version is published again, which renames its folder and so changes the folder's
modification time the caches below are keyed on.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

HASHES = "graph-hashes.json"
LEGACY_HASHES = "record-hashes.json"
ENTRY = "changes.json"
DIGESTS = "graph-digests.json"


def built_versions(root: Path | None) -> list[str]:
    """Build versions with something published beside them, oldest first."""
    if root is None or not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def write_version(out: Path, hashes: dict, entry: dict, digests: dict | None = None) -> None:
    """Write one build's hashes and feed entry into its (not yet renamed) folder, and
    the digests of its harvested graphs when given (:func:`read_digests`)."""
    (out / HASHES).write_text(json.dumps(hashes, indent=0, sort_keys=True))
    (out / ENTRY).write_text(json.dumps(entry, indent=1))
    if digests is not None:
        (out / DIGESTS).write_text(json.dumps(digests, indent=0, sort_keys=True))


def read_digests(root: Path, version: str) -> dict:
    """{graph IRI: digest} of the graphs a build harvested, which the next build compares
    its own with (:func:`dpgkg.incremental.keep_generation_times`); {} when there are
    none or they cannot be read."""
    try:
        digests = json.loads((root / version / DIGESTS).read_text())
    except (OSError, ValueError):
        return {}
    return digests if isinstance(digests, dict) else {}


def read_hashes(root: Path, version: str) -> dict | None:
    for name in (HASHES, LEGACY_HASHES):
        try:
            return json.loads((root / version / name).read_text())
        except (OSError, ValueError):
            continue
    return None


def previous_hashes(root: Path, version: str) -> tuple[str | None, dict | None]:
    """The newest build before `version` that has hashes, and its hashes."""
    for prev in reversed([v for v in built_versions(root) if v < version]):
        hashes = read_hashes(root, prev)
        if hashes is not None:
            return prev, hashes
    return None, None


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=64)
def _entry(path: str, mtime: int) -> dict | None:
    try:
        entry = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and "version" in entry else None


def read_entry(root: Path | None, version: str) -> dict | None:
    """One build's feed entry (None when it has none); the last 64 read are kept."""
    if root is None or not version or version.startswith(".") or "/" in version:
        return None
    path = root / version / ENTRY
    return _entry(str(path), _mtime(path.parent))


def _summary(entry: dict) -> dict:
    changed = entry.get("changed", [])
    content = sum(1 for c in changed if c.get("changed", "content") == "content")
    return {"version": entry["version"], "built": entry.get("built"),
            "added": len(entry.get("added", [])), "changed": content,
            "provenance": len(changed) - content, "removed": len(entry.get("removed", []))}


_summaries: dict[tuple[str, str], tuple[int, dict]] = {}
_lock = threading.Lock()


def read_summaries(root: Path | None) -> list[dict]:
    """Every build's feed entry counted (oldest first): {version, built, added,
    changed (content), provenance (only), removed}. Each entry is read once per
    process; later calls only list the folder."""
    out = []
    for version in built_versions(root):
        path = root / version
        mtime = _mtime(path)
        with _lock:
            cached = _summaries.get((str(root), version))
        if cached is None or cached[0] != mtime:
            entry = _entry(str(path / ENTRY), mtime)
            if entry is None:
                continue
            cached = (mtime, _summary(entry))
            with _lock:
                _summaries[(str(root), version)] = cached
        out.append(cached[1])
    return out
