"""Reading the registry: a directory, an archive of the repository or the legacy API
list, into plain records (file-level checks only)."""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dpgkg.iris import slugify
from dpgkg.problems import Problem
from dpgkg.sources import is_url, read_bytes
from dpgkg.sources.files import (
    RECORD_MAX_BYTES,
    JSONUnreadable,
    ReadRefused,
    json_type,
    load_json,
    read_file,
)
from dpgkg.sources.history import blob_sha
from dpgkg.sources.registry.clean import _SLUG, SCREENING_SECTIONS, name_key
from dpgkg.sources.registry.exclusions import EXCLUDED_README, _split_names, parse_exclusions

FOLDERS = ("nominees", "archive", "excluded-nominees")


SCREENING_FOLDER = "digitalpublicgoods"


LICENCES_PAGE = "help-center/licenses.md"


_HEX_TAIL = re.compile(r"-([0-9a-f]{7,40})$")


_HEX = re.compile(r"^[0-9a-f]{7,40}$")


_LINK_TARGET = re.compile(r"^[A-Za-z0-9._-]+\.json$")


@dataclass
class RegistryFile:
    folder: str                 # 'nominees' | 'archive' | 'excluded-nominees'
    record_id: str              # file name without .json
    path: str                   # relative: 'nominees/x.json'
    record: dict
    screening: dict | None = None
    commit: str | None = None
    exclusion_date: str | None = None     # ISO date, excluded records only
    exclusion_reason: str | None = None
    screening_path: str | None = None     # 'digitalpublicgoods/x.json' when screened
    default_stage: str | None = None      # stage when the record has none (legacy API: DPG)
    blob: str | None = None               # git blob SHA of the file read (its history key)


@dataclass
class RegistrySnapshot:
    """Everything read from one registry location."""

    files: list[RegistryFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    commit: str | None = None
    licences_page: str | None = None      # help-center/licenses.md, when present
    location: str = ""


def open_registry(location: str, limit: int = RECORD_MAX_BYTES) -> RegistrySnapshot:
    """Read a registry directory, archive or legacy API list; never raises on bad data.

    A file (record, screening answers, README, licence page) larger than `limit` bytes,
    one that is not a regular file (a FIFO, a device) and, in a directory, a symbolic
    link leading out of it are reported and not read.
    """
    snap = RegistrySnapshot(location=location)
    loc = str(location)
    try:
        if not is_url(loc) and Path(loc).is_dir():
            entries, links = _read_dir(Path(loc), limit, snap.problems)
        else:
            data = read_bytes(loc)
            lower = loc.lower().split("?")[0]
            if data[:2] == b"\x1f\x8b" or lower.endswith((".tar.gz", ".tgz", ".tar")):
                entries, links, snap.commit = _read_tar(data, limit, snap.problems)
            elif data[:2] == b"PK" or lower.endswith(".zip"):
                entries, links, snap.commit = _read_zip(data, limit, snap.problems)
            else:
                _read_legacy(data, loc, snap)
                return snap
    except (OSError, tarfile.TarError, zipfile.BadZipFile, ValueError) as exc:
        snap.problems.append(Problem(loc, f"registry could not be read: {exc}"))
        return snap
    _assemble(entries, links, snap)
    return snap


def read_registry(location: str, limit: int = RECORD_MAX_BYTES
                  ) -> tuple[list[RegistryFile], list[Problem]]:
    """The registry's records (nominees, archive, excluded) and the file-level problems."""
    snap = open_registry(location, limit)
    return snap.files, snap.problems


def licences_page(location: str) -> str | None:
    """The approved-licence page of a registry directory or archive (None without one)."""
    page = Path(str(location)) / LICENCES_PAGE
    if not is_url(str(location)) and page.is_file():
        try:
            return read_file(page, RECORD_MAX_BYTES, within=location).decode("utf-8", "replace")
        except ReadRefused:
            return None  # reported by open_registry, which the harvest calls too
    return open_registry(location).licences_page


def _wanted(rel: str) -> bool:
    if rel in (LICENCES_PAGE, EXCLUDED_README):
        return True
    parts = rel.split("/")
    return (len(parts) == 2 and (parts[0] in FOLDERS or parts[0] == SCREENING_FOLDER)
            and parts[1].endswith(".json"))


def _read_dir(root: Path, limit: int, problems: list[Problem]
              ) -> tuple[dict[str, bytes], dict[str, str]]:
    entries: dict[str, bytes] = {}
    links: dict[str, str] = {}

    def read(rel: str) -> None:
        try:
            entries[rel] = read_file(root / rel, limit, within=root)
        except ReadRefused as exc:  # a link out of the tree: a warning; anything else: skipped
            problems.append(Problem(rel, exc.reason,
                                    severity="warning" if exc.outside else "error"))

    for folder in (*FOLDERS, SCREENING_FOLDER):
        d = root / folder
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.suffix == ".json":
                rel = f"{folder}/{p.name}"
                if p.is_symlink() and not p.exists():
                    links[rel] = PurePosixPath(str(p.readlink())).name
                    continue
                read(rel)
    for rel in (EXCLUDED_README, LICENCES_PAGE):
        if (root / rel).exists() or (root / rel).is_symlink():
            read(rel)
    return entries, links


def _strip_top(names: list[str]) -> tuple[str, str | None]:
    """The common top folder of archive member names ('' if none) and its commit."""
    tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
    if len(tops) == 1 and any("/" in n.strip("/") for n in names):
        top = tops.pop()
        m = _HEX_TAIL.search(top)
        return top + "/", (m.group(1) if m else None)
    return "", None


def _too_large(rel: str, size: int, limit: int, problems: list[Problem]) -> bool:
    if size <= limit:
        return False
    problems.append(Problem(rel, f"larger than the limit of {limit} bytes ({size} bytes): "
                            "not read"))
    return True


def _read_tar(data: bytes, limit: int, problems: list[Problem]
              ) -> tuple[dict[str, bytes], dict[str, str], str | None]:
    entries: dict[str, bytes] = {}
    links: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        members = tf.getmembers()
        prefix, commit = _strip_top([m.name for m in members])
        comment = (tf.pax_headers or {}).get("comment", "")
        if _HEX.match(comment or ""):
            commit = comment
        for m in members:
            if not m.name.startswith(prefix):
                continue
            rel = m.name[len(prefix):]
            if not _wanted(rel):
                continue
            if m.issym() or m.islnk():
                links[rel] = PurePosixPath(m.linkname).name
            elif m.isfile() and not _too_large(rel, m.size, limit, problems):
                f = tf.extractfile(m)
                if f is not None:
                    entries[rel] = f.read()
    return entries, links, commit


def _read_zip(data: bytes, limit: int, problems: list[Problem]
              ) -> tuple[dict[str, bytes], dict[str, str], str | None]:
    entries: dict[str, bytes] = {}
    links: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        prefix, commit = _strip_top([i.filename for i in infos])
        comment = zf.comment.decode("ascii", "ignore").strip()
        if _HEX.match(comment):
            commit = comment
        for info in infos:
            if info.is_dir() or not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix):]
            if not _wanted(rel) or _too_large(rel, info.file_size, limit, problems):
                continue
            content = zf.read(info)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:   # a symlink
                links[rel] = PurePosixPath(content.decode("utf-8", "replace").strip()).name
            else:
                entries[rel] = content
    return entries, links, commit


_UNREADABLE = object()  # what _parse_json gives for a file it reported (JSON null is None)


def _parse_json(data: bytes, rel: str, problems: list[Problem]) -> object:
    try:
        return load_json(data)
    except JSONUnreadable as exc:
        problems.append(Problem(rel, exc.message))
    return _UNREADABLE


def _resolve_link(rel: str, entries: dict[str, bytes], links: dict[str, str]) -> bytes | None:
    """Follow a git symlink inside digitalpublicgoods/ (a real one, or one checked out
    as a text file holding the target file name)."""
    folder = rel.split("/", 1)[0]
    target = links.get(rel)
    if target is None:
        text = entries.get(rel, b"").strip().decode("utf-8", "replace")
        if not _LINK_TARGET.match(text):
            return None
        target = text
    for _ in range(5):
        tpath = f"{folder}/{target}"
        if tpath in entries:
            data = entries[tpath]
            text = data.strip().decode("utf-8", "replace")
            if _LINK_TARGET.match(text):
                target = text
                continue
            return data
        if tpath in links:
            target = links[tpath]
            continue
        return None
    return None


def _check_record_object(obj: object, rel: str, problems: list[Problem]) -> bool:
    if not isinstance(obj, dict):
        problems.append(Problem(rel, f"a record must be a JSON object, not "
                                f"{json_type(obj)}"))
        return False
    name = obj.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(rel, "missing or empty name (a string is required)",
                                field="name"))
        return False
    return True


def _assemble(entries: dict[str, bytes], links: dict[str, str], snap: RegistrySnapshot) -> None:
    problems = snap.problems
    if LICENCES_PAGE in entries:
        snap.licences_page = entries[LICENCES_PAGE].decode("utf-8", "replace")
    if not any(rel.split("/", 1)[0] in FOLDERS for rel in (*entries, *links)):
        problems.append(Problem(snap.location, "no registry records found (expected "
                                "nominees/, archive/, excluded-nominees/)"))
        return
    # Screening answers, keyed by file name.
    screenings: dict[str, tuple[str, dict]] = {}
    for rel in sorted({*entries, *links}):
        if not rel.startswith(SCREENING_FOLDER + "/"):
            continue
        data = entries.get(rel)
        obj = None
        if rel in links or (data is not None and _LINK_TARGET.match(
                data.strip().decode("utf-8", "replace"))):
            data = _resolve_link(rel, entries, links)
            if data is None:
                problems.append(Problem(rel, "link to a screening file that does not exist",
                                        severity="warning"))
                continue
        obj = _parse_json(data, rel, problems)
        if obj is _UNREADABLE:
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(rel, "screening answers must be a JSON object, not "
                                    f"{json_type(obj)}"))
            continue
        screenings[rel.split("/", 1)[1]] = (rel, obj)

    used_screenings: set[str] = set()
    for folder in FOLDERS:
        for rel in sorted(r for r in entries if r.startswith(folder + "/")
                          and r.endswith(".json")):
            obj = _parse_json(entries[rel], rel, problems)
            if obj is _UNREADABLE or not _check_record_object(obj, rel, problems):
                continue
            fname = rel.split("/", 1)[1]
            rf = RegistryFile(folder=folder, record_id=fname[:-5], path=rel, record=obj,
                              commit=snap.commit, blob=blob_sha(entries[rel]))
            # Screening answers belong to the nominees/ record; to the archive/ one
            # only when nominees/ has no file of that name.
            if (folder != "excluded-nominees" and fname in screenings
                    and fname not in used_screenings):
                rf.screening_path, rf.screening = screenings[fname]
                used_screenings.add(fname)
            snap.files.append(rf)
        for rel in sorted(r for r in links if r.startswith(folder + "/")):
            problems.append(Problem(rel, "a symbolic link where a record file was expected",
                                    severity="warning"))
    for fname in sorted(set(screenings) - used_screenings):
        problems.append(Problem(screenings[fname][0], "screening answers without a "
                                "nominee or archive record of the same file name",
                                severity="warning"))
    if EXCLUDED_README in entries:
        _attach_exclusions(entries[EXCLUDED_README].decode("utf-8", "replace"), snap)


def _read_legacy(data: bytes, loc: str, snap: RegistrySnapshot) -> None:
    label = loc if is_url(loc) else Path(loc).name
    problems = snap.problems
    obj = _parse_json(data, label, problems)
    if obj is _UNREADABLE:
        return
    if isinstance(obj, dict) and isinstance(obj.get("dpgs"), list):
        obj = obj["dpgs"]
    if not isinstance(obj, list):
        problems.append(Problem(label, "the legacy API format is a JSON array of DPG "
                                f"objects, not {json_type(obj)}"))
        return
    seen: set[str] = set()
    for i, item in enumerate(obj):
        path = f"{label}[{i}]"
        if not _check_record_object(item, path, problems):
            continue
        rid = item.get("id")
        if not (isinstance(rid, str) and _SLUG.match(rid)):
            rid = slugify(item["name"])
        if rid in seen:
            problems.append(Problem(path, f"duplicate record id {rid!r}: skipped", field="id"))
            continue
        seen.add(rid)
        record = {k: v for k, v in item.items() if k not in SCREENING_SECTIONS and k != "id"}
        screening = {k: v for k, v in item.items() if k in SCREENING_SECTIONS}
        if screening:
            screening["name"] = item["name"]
        snap.files.append(RegistryFile(folder="nominees", record_id=rid, path=path,
                                       record=record, screening=screening or None,
                                       screening_path=path if screening else None,
                                       default_stage="DPG"))


def _attach_exclusions(text: str, snap: RegistrySnapshot) -> None:
    rows, problems = parse_exclusions(text)
    snap.problems.extend(problems)
    excluded = [rf for rf in snap.files if rf.folder == "excluded-nominees"]
    by_key: dict[str, list[RegistryFile]] = {}
    for rf in excluded:
        by_key.setdefault(name_key(rf.record["name"]), []).append(rf)
        by_key.setdefault(name_key(rf.record_id), []).append(rf)
    for rf in excluded:     # aliases last: "Open Neural Networks" is Open NN's alias
        aliases = rf.record.get("aliases")
        for alias in aliases if isinstance(aliases, list) else []:
            if isinstance(alias, str) and name_key(alias) and name_key(alias) not in by_key:
                by_key[name_key(alias)] = [rf]
    matched: set[str] = set()
    for row in rows:
        cell = row.names[0]
        targets = by_key.get(name_key(cell))
        if not targets:
            targets = []
            parts = _split_names(cell)
            missing = []
            for part in parts:
                found = by_key.get(name_key(part))
                if found:
                    targets.extend(found)
                else:
                    missing.append(part)
            if missing:
                snap.problems.append(Problem(
                    EXCLUDED_README, f"line {row.line}: no excluded record named "
                    + ", ".join(repr(m) for m in missing), field="Nominee",
                    severity="warning"))
        for rf in targets:
            if rf.path in matched:
                continue
            matched.add(rf.path)
            rf.exclusion_date, rf.exclusion_reason = row.date, row.reason
    for rf in excluded:
        if rf.path not in matched:
            snap.problems.append(Problem(rf.path, "excluded record not listed in "
                                         f"{EXCLUDED_README}", severity="warning"))
