"""Inputs given by path, URL or request body: read, recognised (registry JSON,
legacy API list, JSON-LD, Turtle) and turned into validation jobs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.sources.files import (
    OUTSIDE,
    JSONUnreadable,
    ReadRefused,
    inside,
    load_json,
    read_file,
    read_stream,
)
from dpgkg.validation.batch import validate_many
from dpgkg.validation.engine import Engine, shared_engine
from dpgkg.validation.records import _Job, _record_file, _record_job, _split_legacy
from dpgkg.validation.status import InputError, Outcome

JSON_SUFFIXES = (".json",)


JSONLD_SUFFIXES = (".jsonld", ".json-ld")


TURTLE_SUFFIXES = (".ttl", ".turtle")


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _read_limited(path: str, limit: int) -> bytes:
    """At most `limit` bytes of a URL or a regular file (the bounded reader of sources/:
    a FIFO or a device is refused at once, whatever size it claims)."""
    try:
        if _is_url(path):
            import urllib.request

            req = urllib.request.Request(path, headers={"User-Agent": "dpgkg-validate"})
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return read_stream(resp, limit, path)
            except OSError as exc:
                raise InputError(path, f"could not be fetched: {exc}") from exc
        return read_file(path, limit)
    except ReadRefused as exc:
        raise InputError(path, exc.reason + _LIMIT_HINT * ("limit" in exc.reason)) from None


_LIMIT_HINT = " (settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)"


def _load_json(data: bytes, source: str):
    try:
        return load_json(data)
    except JSONUnreadable as exc:
        raise InputError(source, exc.message, line=exc.line) from None


def _remote_contexts(obj, found: list[str], depth: int = 0) -> None:
    """Every @context (anywhere in the document) that names a remote document."""
    if depth > 50:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "@context":
                for c in v if isinstance(v, list) else [v]:
                    if isinstance(c, str):
                        found.append(c)
                    elif isinstance(c, dict):
                        if isinstance(c.get("@import"), str):
                            found.append(c["@import"])
                        _remote_contexts(c, found, depth + 1)
            else:
                _remote_contexts(v, found, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            _remote_contexts(v, found, depth + 1)


def _is_jsonld(obj) -> bool:
    if isinstance(obj, dict):
        return any(k in obj for k in ("@context", "@graph", "@id", "@type"))
    return isinstance(obj, list) and bool(obj) and all(
        isinstance(x, dict) and ("@id" in x or "@type" in x or "@context" in x) for x in obj)


def _parse_rdf(data: bytes, fmt, source: str) -> list:
    """The triples of `data`; a parse error gives its position only: the parser's message
    quotes the input (a file linked to a password file would show its first token)."""
    label = {"TURTLE": "Turtle", "JSON_LD": "JSON-LD"}.get(fmt.name, fmt.name)
    try:
        return [q.triple for q in ox.parse(data, format=fmt)]
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "offset", None)
        where = f" at line {line}, column {col}" if line else " (no position given)"
        raise InputError(source, f"not valid {label}{where}", line=line) from None
    except (ValueError, OSError):
        raise InputError(source, f"not valid {label} (no position given)") from None


def _jsonld_triples(obj, data: bytes, source: str) -> list:
    remote: list[str] = []
    _remote_contexts(obj, remote)
    if remote:
        raise InputError(source, "JSON-LD with a remote @context "
                         f"({', '.join(sorted(set(remote))[:3])}) is refused: remote contexts "
                         "are never fetched; inline the context", field="@context")
    return _parse_rdf(data, ox.RdfFormat.JSON_LD, source)


def _jobs_for_file(path: str, eng: Engine, limit: int, folder: str = "nominees"
                   ) -> list:
    """The jobs of one file (a legacy list gives several; its unreadable items give
    error outcomes in their place)."""
    data = _read_limited(path, limit)
    lower = path.lower().split("?", 1)[0]
    kind = "turtle" if lower.endswith(TURTLE_SUFFIXES) else (
        "jsonld" if lower.endswith(JSONLD_SUFFIXES) else "json")
    stem = Path(lower).stem if not _is_url(path) else None
    return _jobs_for_data(data, kind, path, eng, folder, stem)


def _jobs_for_data(data: bytes, kind: str, path: str, eng: Engine, folder: str = "nominees",
                   stem: str | None = None) -> list:
    """The jobs of one input held in memory; `kind` is 'turtle', 'jsonld' or 'json'
    (registry JSON, or JSON-LD recognised by its keys)."""
    if kind == "turtle":
        if not data.strip():
            raise InputError(path, "empty file")
        return [_Job(source=path, triples=_parse_rdf(data, ox.RdfFormat.TURTLE, path))]
    obj = _load_json(data, path)
    if kind == "jsonld" or _is_jsonld(obj):
        return [_Job(source=path, triples=_jsonld_triples(obj, data, path))]
    if isinstance(obj, dict) and isinstance(obj.get("dpgs"), list):
        obj = obj["dpgs"]
    if isinstance(obj, list):           # the legacy API list
        jobs: list = []        # a bad item is reported, the others still validated
        for i, item in enumerate(obj):
            src = f"{path}[{i}]"
            try:
                if not isinstance(item, dict):
                    raise InputError(src, "a record must be a JSON object, not "
                                     f"{type(item).__name__}")
                jobs.append(_legacy_job(item, src, eng, folder))
            except InputError as exc:
                jobs.append(Outcome(source=src, error=exc))
        if not jobs:
            raise InputError(path, "an empty list: no record to validate")
        return jobs
    if not isinstance(obj, dict):
        raise InputError(path, f"a record must be a JSON object, not {type(obj).__name__}")
    return [_legacy_job(obj, path, eng, folder, record_id=stem)]


def _legacy_job(obj: dict, source: str, eng: Engine, folder: str,
                record_id: str | None = None) -> _Job:
    from dpgkg.iris import slugify

    record, screening = _split_legacy(obj)
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        got = "missing" if name is None else f"{type(name).__name__} {name!r}"[:80]
        raise InputError(source, f"the record needs a name (a non-empty string); got {got}",
                         field="name")
    if "id" in obj and isinstance(obj["id"], str) and re.match(r"^[a-z0-9-]+$", obj["id"]):
        record_id = obj["id"]
    if record_id is None or not re.match(r"^[A-Za-z0-9._-]+$", record_id):
        record_id = slugify(name)
    rf = _record_file(record, screening, record_id, folder, source)
    return _record_job(rf, eng)


def _looks_like_registry(d: Path) -> bool:
    return any((d / f).is_dir() for f in ("nominees", "archive", "excluded-nominees"))


def _inputs_in_dir(d: Path) -> tuple[list[str], list[str]]:
    """The input files below `d` and the links among them leading out of `d` (not read).
    Links to directories are not followed; a FIFO or device is left to the reader."""
    suffixes = (*JSON_SUFFIXES, *JSONLD_SUFFIXES, *TURTLE_SUFFIXES)
    found, outside = [], []
    for top, dirs, names in os.walk(d):  # followlinks=False
        dirs[:] = sorted(n for n in dirs if not n.startswith("."))
        for name in sorted(names):
            if (not name.lower().endswith(suffixes) or name.startswith(".")
                    or name.endswith("-schema.json")):
                continue
            path = os.path.join(top, name)
            (found if inside(path, d) else outside).append(path)
    return found, outside


def validate_paths(paths, settings: Settings | None = None,
                   registry: str | Path | None = None, workers: int | None = None,
                   keep_report: bool = True) -> list[Outcome]:
    """Validate each path or URL; a directory gives one outcome per record/file in it.

    An input that cannot be read gives an outcome with ``error`` set (the others are
    still validated).
    """
    settings = settings or Settings()
    eng = shared_engine(settings, registry)
    limit = settings.max_body_bytes
    outcomes: list[Outcome] = []
    pending: list = []                # jobs, or registry files still to convert
    order: list[object] = []          # those, or Outcomes (errors), in input order

    def add_file(path: str, folder: str = "nominees") -> None:
        try:
            for j in _jobs_for_file(path, eng, limit, folder):
                order.append(j)
                if isinstance(j, _Job):
                    pending.append(j)
        except InputError as exc:
            order.append(Outcome(source=exc.source, error=exc))

    for raw in paths:
        path = str(raw)
        if not _is_url(path) and Path(path).is_dir():
            d = Path(path)
            if _looks_like_registry(d):
                from dpgkg.sources.registry import read_registry

                files, problems = read_registry(str(d), limit)
                for p in problems:
                    if p.severity == "error" or p.message.startswith(OUTSIDE):
                        order.append(Outcome(source=str(d / p.source), error=InputError(
                            str(d / p.source), p.message, field=p.field)))
                for rf in files:
                    rf.path = str(d / rf.path)
                    order.append(rf)
                    pending.append(rf)
            else:
                files, outside = _inputs_in_dir(d)
                if not files and not outside:
                    order.append(Outcome(source=path, error=InputError(
                        path, "no .json, .jsonld or .ttl file in this directory")))
                for f in sorted([*files, *outside]):
                    if f in outside:
                        order.append(Outcome(source=f, error=InputError(
                            f, f"{OUTSIDE} {path}: not read")))
                    else:
                        add_file(f)
        elif not _is_url(path) and not Path(path).exists():
            order.append(Outcome(source=path, error=InputError(path, "no such file")))
        else:
            add_file(path)
    done = {id(j): o for j, o in zip(pending, validate_many(
        pending, eng, workers, keep_report=keep_report and len(pending) <= 64,
        prepare=_prepare_any))}
    for item in order:
        outcomes.append(item if isinstance(item, Outcome) else done[id(item)])
    return outcomes


def validate_data(data: bytes, kind: str = "json", source: str = "<input>",
                  settings: Settings | None = None, registry: str | Path | None = None,
                  record_id: str | None = None) -> list[Outcome]:
    """Validate one input held in memory (a request body) like a file of that `kind`
    ('json', 'jsonld', 'turtle') given to :func:`validate_paths`, in this process.

    Raises :class:`InputError` when the input cannot be read; a legacy API list gives
    one outcome per record (an unreadable item an outcome with ``error`` set).
    """
    settings = settings or Settings()
    limit = settings.max_body_bytes
    if len(data) > limit:
        raise InputError(source, f"input is larger than the limit of {limit} bytes "
                         "(settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)")
    eng = shared_engine(settings, registry)
    jobs = _jobs_for_data(data, kind, source, eng, stem=record_id)
    pending = [j for j in jobs if isinstance(j, _Job)]
    done = dict(zip(map(id, pending), validate_many(
        pending, eng, workers=1, keep_report=len(pending) <= 64, prepare=_prepare_any)))
    return [done[id(j)] if isinstance(j, _Job) else j for j in jobs]


def _prepare_any(item, eng: Engine) -> _Job:
    return item if isinstance(item, _Job) else _record_job(item, eng, True)
