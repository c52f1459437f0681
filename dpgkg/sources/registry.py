"""Read the DPG registry: files in, plain records out (no RDF).

Three layouts are accepted by :func:`read_registry` (and :func:`open_registry`, which
also hands back the approved-licence page and the source commit):

* a directory laid out like github.com/DPGAlliance/publicgoods-candidates;
* a ``.tar.gz`` / ``.tgz`` / ``.zip`` archive of that repository (path or http(s) URL).
  Its single top folder (``publicgoods-candidates-<commit>/``) is stripped; when the
  folder ends with a hex commit, or the archive carries one (GitHub writes it as the
  tar pax ``comment`` and as the zip comment), that commit is recorded;
* a JSON file or URL in the legacy API list format (``api.digitalpublicgoods.net/dpgs/``):
  an array of objects where nominee fields and screening fields sit side by side.
  The record id is the object's ``id`` when it is a slug, else the slugified name;
  the stage is ``DPG``; the path is ``{file name}[{index}]``.

Checks made here are file-level: unreadable or non-JSON files, a non-object, a missing
or non-string ``name`` are **errors** and the file is skipped. Field-level checks
(wrong types, empty answers, contact data) are made by :func:`clean_record` and
:func:`clean_screening`, which ``record_to_graph`` calls so that one record posted by
a user gets exactly the same checks. The rule there: a bad field, or a bad item of a
list, is dropped with a **warning** and the rest of the record is kept.

Git symlinks in ``digitalpublicgoods/`` (checked out on some systems as a text file
holding the target's name, e.g. ``commcare.json``) are followed.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dpgkg.harvest import Problem
from dpgkg.iris import slugify
from dpgkg.sources import is_url, read_bytes

__all__ = [
    "FOLDERS",
    "SCREENING_SECTIONS",
    "RegistryFile",
    "RegistrySnapshot",
    "clean_record",
    "clean_screening",
    "name_key",
    "open_registry",
    "parse_exclusions",
    "parse_loose_date",
    "read_registry",
    "scrub_text",
]

FOLDERS = ("nominees", "archive", "excluded-nominees")
SCREENING_FOLDER = "digitalpublicgoods"
EXCLUDED_README = "excluded-nominees/README.md"
LICENCES_PAGE = "help-center/licenses.md"

# Top-level keys of a screening file (screening-schema.json) other than "name".
SCREENING_SECTIONS = (
    "clearOwnership", "platformIndependence", "documentation", "NonPII", "privacy",
    "standards", "doNoHarm", "locations",
)

_HEX_TAIL = re.compile(r"-([0-9a-f]{7,40})$")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
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


@dataclass
class RegistrySnapshot:
    """Everything read from one registry location."""

    files: list[RegistryFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    commit: str | None = None
    licences_page: str | None = None      # help-center/licenses.md, when present
    location: str = ""


# --------------------------------------------------------------------------- text helpers

EMAIL = re.compile(r"(?:mailto:)?[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
EMAIL_REMOVED = "[e-mail removed]"


def scrub_text(value: str) -> str:
    """Replace every e-mail address (and its mailto:) in free text."""
    if "@" not in value:
        return value
    return EMAIL.sub(EMAIL_REMOVED, value)


def is_private_key(key: str) -> bool:
    k = key.lower()
    return "email" in k or "e-mail" in k or "contact" in k


def name_key(name: str) -> str:
    """A matching key for names: accents, case, spaces and punctuation ignored."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text.lower())


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_LOOSE_DATE = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")


def parse_loose_date(text: str) -> str | None:
    """'Sept 3rd, 2020' -> '2020-09-03'; None when it is not such a date."""
    m = _LOOSE_DATE.search(text or "")
    if not m:
        m2 = re.search(r"(\d{4})-(\d{2})-(\d{2})", text or "")
        return m2.group(0) if m2 else None
    month = _MONTHS.get(m.group(1)[:3].lower())
    day = int(m.group(2))
    if not month or not 1 <= day <= 31:
        return None
    return f"{int(m.group(3)):04d}-{month:02d}-{day:02d}"


# --------------------------------------------------------------------------- exclusions

@dataclass
class Exclusion:
    names: list[str]
    date: str | None
    reason: str
    line: int


def parse_exclusions(text: str, source: str = EXCLUDED_README
                     ) -> tuple[list[Exclusion], list[Problem]]:
    """The table rows of excluded-nominees/README.md: 'Nominee | Exclusion Date | Reason'."""
    rows: list[Exclusion] = []
    problems: list[Problem] = []
    in_table = False
    for n, line in enumerate(text.splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3:
            in_table = in_table and bool(line.strip())
            continue
        if cells[0].lower() == "nominee":
            continue
        if set("".join(cells)) <= set("-: "):
            in_table = True
            continue
        if not in_table:
            continue
        name, date_text, reason = cells[0], cells[1], "|".join(cells[2:]).strip()
        date = parse_loose_date(date_text)
        if date is None:
            problems.append(Problem(source, f"line {n}: exclusion date {date_text!r} not "
                                    "understood", field="Exclusion Date", severity="warning"))
        rows.append(Exclusion([name], date, scrub_text(reason.rstrip(" ;").strip()), n))
    return rows, problems


def _split_names(cell: str) -> list[str]:
    return [p.strip() for p in re.split(r",|&|\band\b", cell) if p.strip()]


# --------------------------------------------------------------------------- reading

def open_registry(location: str) -> RegistrySnapshot:
    """Read a registry directory, archive or legacy API list; never raises on bad data."""
    snap = RegistrySnapshot(location=location)
    loc = str(location)
    try:
        if not is_url(loc) and Path(loc).is_dir():
            entries, links = _read_dir(Path(loc))
        else:
            data = read_bytes(loc)
            lower = loc.lower().split("?")[0]
            if data[:2] == b"\x1f\x8b" or lower.endswith((".tar.gz", ".tgz", ".tar")):
                entries, links, snap.commit = _read_tar(data)
            elif data[:2] == b"PK" or lower.endswith(".zip"):
                entries, links, snap.commit = _read_zip(data)
            else:
                _read_legacy(data, loc, snap)
                return snap
    except (OSError, tarfile.TarError, zipfile.BadZipFile, ValueError) as exc:
        snap.problems.append(Problem(loc, f"registry could not be read: {exc}"))
        return snap
    _assemble(entries, links, snap)
    return snap


def read_registry(location: str) -> tuple[list[RegistryFile], list[Problem]]:
    """The registry's records (nominees, archive, excluded) and the file-level problems."""
    snap = open_registry(location)
    return snap.files, snap.problems


def _wanted(rel: str) -> bool:
    if rel in (LICENCES_PAGE, EXCLUDED_README):
        return True
    parts = rel.split("/")
    return (len(parts) == 2 and (parts[0] in FOLDERS or parts[0] == SCREENING_FOLDER)
            and parts[1].endswith(".json"))


def _read_dir(root: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    entries: dict[str, bytes] = {}
    links: dict[str, str] = {}
    for folder in (*FOLDERS, SCREENING_FOLDER):
        d = root / folder
        if not d.is_dir():
            continue
        for p in d.iterdir():
            if p.suffix == ".json":
                rel = f"{folder}/{p.name}"
                if p.is_symlink() and not p.exists():
                    links[rel] = PurePosixPath(str(p.readlink())).name
                    continue
                entries[rel] = p.read_bytes()
    for rel in (EXCLUDED_README, LICENCES_PAGE):
        if (root / rel).is_file():
            entries[rel] = (root / rel).read_bytes()
    return entries, links


def _strip_top(names: list[str]) -> tuple[str, str | None]:
    """The common top folder of archive member names ('' if none) and its commit."""
    tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
    if len(tops) == 1 and any("/" in n.strip("/") for n in names):
        top = tops.pop()
        m = _HEX_TAIL.search(top)
        return top + "/", (m.group(1) if m else None)
    return "", None


def _read_tar(data: bytes) -> tuple[dict[str, bytes], dict[str, str], str | None]:
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
            elif m.isfile():
                f = tf.extractfile(m)
                if f is not None:
                    entries[rel] = f.read()
    return entries, links, commit


def _read_zip(data: bytes) -> tuple[dict[str, bytes], dict[str, str], str | None]:
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
            if not _wanted(rel):
                continue
            content = zf.read(info)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:   # a symlink
                links[rel] = PurePosixPath(content.decode("utf-8", "replace").strip()).name
            else:
                entries[rel] = content
    return entries, links, commit


def _parse_json(data: bytes, rel: str, problems: list[Problem]) -> object | None:
    if not data.strip():
        problems.append(Problem(rel, "empty file"))
        return None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(rel, f"not UTF-8 text: {exc}"))
    except json.JSONDecodeError as exc:
        problems.append(Problem(rel, f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                f"column {exc.colno}"))
    return None


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
                                f"{type(obj).__name__}"))
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
        if obj is None:
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(rel, "screening answers must be a JSON object, not "
                                    f"{type(obj).__name__}"))
            continue
        screenings[rel.split("/", 1)[1]] = (rel, obj)

    used_screenings: set[str] = set()
    for folder in FOLDERS:
        for rel in sorted(r for r in entries if r.startswith(folder + "/")
                          and r.endswith(".json")):
            obj = _parse_json(entries[rel], rel, problems)
            if obj is None or not _check_record_object(obj, rel, problems):
                continue
            fname = rel.split("/", 1)[1]
            rf = RegistryFile(folder=folder, record_id=fname[:-5], path=rel, record=obj,
                              commit=snap.commit)
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


def _read_legacy(data: bytes, loc: str, snap: RegistrySnapshot) -> None:
    label = loc if is_url(loc) else Path(loc).name
    problems = snap.problems
    obj = _parse_json(data, label, problems)
    if obj is None:
        return
    if isinstance(obj, dict) and isinstance(obj.get("dpgs"), list):
        obj = obj["dpgs"]
    if not isinstance(obj, list):
        problems.append(Problem(label, "the legacy API format is a JSON array of DPG "
                                f"objects, not {type(obj).__name__}"))
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


# --------------------------------------------------------------------------- field checks

SOLUTION_TYPES = ("software", "data", "content", "standard", "aimodel")
ORG_TYPES = ("owner", "maintainer", "funder", "implementer")
_KNOWN_KEYS = {"name", "aliases", "description", "website", "license", "SDGs", "sectors",
               "type", "repositories", "repositoryURL", "organizations", "stage"}


def _answer(value: object) -> str | None:
    """A string answer, stripped and scrubbed; None for no answer."""
    if isinstance(value, str):
        s = value.strip()
        return scrub_text(s) if s else None
    return None


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def warn(self, fld: str, message: str) -> None:
        self.problems.append(Problem(self.source, message, field=fld, severity="warning"))

    def string(self, value: object, fld: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.warn(fld, f"expected a string, got a number ({value!r}): used as text")
            return str(value)
        if not isinstance(value, str):
            self.warn(fld, f"expected a string, got {type(value).__name__}: dropped")
            return None
        return _answer(value)

    def string_list(self, value: object, fld: str) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            s = _answer(value)
            if s:
                self.warn(fld, "expected a list of strings, got one string: used as a "
                          "one-item list")
            return [s] if s else []
        if not isinstance(value, list):
            self.warn(fld, f"expected a list of strings, got {type(value).__name__}: dropped")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            s = self.string(item, f"{fld}[{i}]")
            if s and s not in out:
                out.append(s)
        return out

    def object_list(self, value: object, fld: str) -> list[tuple[int, dict]]:
        if value is None:
            return []
        if isinstance(value, dict):
            self.warn(fld, "expected a list of objects, got one object: used as a "
                      "one-item list")
            return [(0, value)]
        if not isinstance(value, list):
            self.warn(fld, f"expected a list of objects, got {type(value).__name__}: dropped")
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((i, item))
            elif item not in ("", None):
                self.warn(f"{fld}[{i}]", f"expected an object, got {type(item).__name__}: "
                          "dropped")
        return out


def clean_record(record: object, source: str) -> tuple[dict | None, list[Problem]]:
    """A nominee record with every field checked and normalised, contact data dropped.

    Returns (None, [error]) when the record is unusable (not an object, no name).
    Otherwise every field in the result has its documented type; a bad field or list
    item is dropped with a warning naming it (``license[0].spdx``). Empty strings and
    ``[""]`` are no answer. E-mail addresses in free text become "[e-mail removed]".
    URLs are left as written (stripped) for the harvester to turn into IRIs.
    """
    c = _Checker(source)
    if not isinstance(record, dict):
        return None, [Problem(source, f"a record must be a JSON object, not "
                                      f"{type(record).__name__}")]
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        return None, [Problem(source, "missing or empty name (a string is required)",
                              field="name")]
    out: dict = {"name": scrub_text(" ".join(name.split()))}
    for key in sorted(set(record) - _KNOWN_KEYS):
        if not is_private_key(key):
            c.warn(key, "unknown field: ignored")
    aliases = [" ".join(a.split()) for a in c.string_list(record.get("aliases"), "aliases")]
    out["aliases"] = [a for i, a in enumerate(aliases)
                      if a != out["name"] and a not in aliases[:i]]
    out["description"] = c.string(record.get("description"), "description")
    if out["description"] is None and "description" not in record:
        c.warn("description", "required field missing")
    out["website"] = c.string(record.get("website"), "website")
    out["repositoryURL"] = c.string(record.get("repositoryURL"), "repositoryURL")
    out["stage"] = c.string(record.get("stage"), "stage")

    licences = []
    if "license" not in record:
        c.warn("license", "required field missing")
    for i, item in c.object_list(record.get("license"), "license"):
        spdx = c.string(item.get("spdx"), f"license[{i}].spdx")
        url = c.string(item.get("licenseURL"), f"license[{i}].licenseURL")
        if spdx is None:
            if "spdx" not in item:
                c.warn(f"license[{i}].spdx", "licence without an spdx id: dropped")
            continue
        licences.append({"spdx": spdx, "licenseURL": url, "index": i})
    out["license"] = licences

    sdgs = []
    if "SDGs" not in record:
        c.warn("SDGs", "required field missing")
    raw_sdgs = record.get("SDGs")
    if isinstance(raw_sdgs, list):
        # An early format wrote [number, "title"] pairs: accept them.
        items = []
        for i, item in enumerate(raw_sdgs):
            if (isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)
                    and isinstance(item[0], (int, str))):
                c.warn(f"SDGs[{i}]", "an SDG given as a [number, title] pair: read as "
                       "its number")
                items.append((i, {"SDGNumber": item[0]}))
            elif isinstance(item, dict):
                items.append((i, item))
            elif item not in ("", None):
                c.warn(f"SDGs[{i}]", f"expected an object, got {type(item).__name__}: "
                       "dropped")
    else:
        items = c.object_list(raw_sdgs, "SDGs")
    for i, item in items:
        num = item.get("SDGNumber")
        if isinstance(num, str) and num.strip().isdigit():
            num = int(num.strip())
        elif isinstance(num, float) and num.is_integer():
            num = int(num)
        if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= 17:
            c.warn(f"SDGs[{i}].SDGNumber", f"not an SDG number (1-17): {num!r}: dropped")
            continue
        sdgs.append({
            "SDGNumber": num,
            "evidenceText": c.string(item.get("evidenceText"), f"SDGs[{i}].evidenceText"),
            "evidenceURL": c.string(item.get("evidenceURL"), f"SDGs[{i}].evidenceURL"),
            "index": i,
        })
    out["SDGs"] = sdgs

    out["sectors"] = c.string_list(record.get("sectors"), "sectors")
    types = []
    for i, t in enumerate(c.string_list(record.get("type"), "type")):
        key = t.lower().replace(" ", "").replace("-", "")
        if key == "ai" or key == "aimodels":
            key = "aimodel"
        if key in SOLUTION_TYPES:
            if key not in types:
                types.append(key)
        else:
            c.warn(f"type[{i}]", f"unknown solution type {t!r}: dropped")
    out["type"] = types

    repos = []
    for i, item in c.object_list(record.get("repositories"), "repositories"):
        url = c.string(item.get("url"), f"repositories[{i}].url")
        if url:
            repos.append({"url": url, "name": c.string(item.get("name"),
                                                       f"repositories[{i}].name"), "index": i})
    out["repositories"] = repos

    orgs = []
    if "organizations" not in record:
        c.warn("organizations", "required field missing")
    for i, item in c.object_list(record.get("organizations"), "organizations"):
        oname = c.string(item.get("name"), f"organizations[{i}].name")
        if not oname:
            c.warn(f"organizations[{i}].name", "organisation without a name: dropped")
            continue
        otype = c.string(item.get("org_type"), f"organizations[{i}].org_type")
        if otype is not None and otype.lower() not in ORG_TYPES:
            c.warn(f"organizations[{i}].org_type", f"unknown org_type {otype!r}: the "
                   "organisation is linked without a role")
            otype = None
        for key in sorted(set(item) - {"name", "website", "org_type"}):
            if not is_private_key(key):
                c.warn(f"organizations[{i}].{key}", "unknown field: ignored")
        orgs.append({"name": oname, "org_type": otype.lower() if otype else None,
                     "website": c.string(item.get("website"), f"organizations[{i}].website"),
                     "index": i})
    out["organizations"] = orgs
    return out, c.problems


def clean_screening(screening: object, source: str) -> tuple[dict, list[Problem]]:
    """Screening answers as {section path: {key: [strings]}} plus 'locations'.

    Section paths are 'clearOwnership', ..., 'doNoHarm.preventHarm', ... Values are lists
    of non-empty, scrubbed strings (a single string gives a one-item list). Keys that
    mention e-mail or contact are dropped.
    """
    c = _Checker(source)
    out: dict[str, dict[str, list[str]]] = {}
    if not isinstance(screening, dict):
        c.problems.append(Problem(source, "screening answers must be a JSON object, not "
                                  f"{type(screening).__name__}: ignored"))
        return out, c.problems

    def section(obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            if obj not in ("", None):
                c.warn(path, f"expected an object, got {type(obj).__name__}: dropped")
            return
        answers: dict[str, list[str]] = {}
        for key, value in obj.items():
            fld = f"{path}.{key}"
            if is_private_key(key):
                continue
            if path == "doNoHarm":
                section(value, fld)
                continue
            if isinstance(value, dict):
                c.warn(fld, "unexpected nested object: dropped")
                continue
            if isinstance(value, bool):
                c.warn(fld, "expected a string, got a boolean: used as Yes/No")
                values = ["Yes" if value else "No"]
            else:
                values = c.string_list(value, fld) if isinstance(value, list) else (
                    [s] if (s := c.string(value, fld)) else [])
            if values:
                answers[key] = values
        if path != "doNoHarm":
            out[path] = answers

    for key, value in screening.items():
        if key == "name" or is_private_key(key):
            continue
        if key not in SCREENING_SECTIONS:
            c.warn(key, "unknown screening section: ignored")
            continue
        section(value, key)
    return out, c.problems
