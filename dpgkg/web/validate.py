"""Validation over HTTP: ``POST /validate`` checks a record against the DPG Standard like
``dpgkg validate``; ``GET /validate`` is the form a nominee pastes or uploads it into.

The request body is chosen by Content-Type: registry JSON (``application/json``: a
nominee record, or nominee and screening fields side by side), JSON-LD
(``application/ld+json``), Turtle (``text/turtle``), or ``multipart/form-data`` from the
form (a ``file`` field or a pasted ``text`` field, and ``format``). The answer, by
Accept: the JSON summary (default), the SHACL report (``text/turtle``,
``application/ld+json``) or the form page with the report (``text/html``).

200 for every readable input, conforming or not (the body says ``conforms``); 400 when
it cannot be read; 413 above ``settings.max_body_bytes``; 415 for another Content-Type.
Nothing named in the input is ever fetched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import SimpleNamespace

import rdflib
from flask import Blueprint, Response, render_template, request, url_for
from pebble import ProcessExpired, ProcessPool
from werkzeug.exceptions import RequestEntityTooLarge

from dpgkg import validation as v
from dpgkg.config import SHAPES_DIR, asset_files
from dpgkg.publish.querypool import die_with_parent
from dpgkg.sources import SourceError
from dpgkg.web import common
from dpgkg.web.errors import abort_with

bp = Blueprint("validate", __name__, template_folder="templates")

# Request body media type -> the input kind validation.validate_data reads.
INPUT_KINDS = {
    "application/json": "json",
    "application/ld+json": "jsonld",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# Answer media types; the first is the default for */* and no Accept.
OFFERS = ["application/json", "text/turtle", "application/ld+json", "text/html"]
REPORT_FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld"}
FORM_FORMATS = (("auto", "Detect (JSON or Turtle)"), ("json", "Registry JSON"),
                ("jsonld", "JSON-LD"), ("turtle", "Turtle"))
SUFFIX_KINDS = {**{s: "json" for s in v.JSON_SUFFIXES}, **{s: "jsonld" for s in v.JSONLD_SUFFIXES},
                **{s: "turtle" for s in v.TURTLE_SUFFIXES}}
STATUS_TEXT = {"pass": "pass", "fail": "fail", "not-applicable": "not applicable",
               "not-answered": "not answered"}

# A run holds the GIL (a regular expression over a long literal for minutes, in the
# worst case), so it runs in a warm process of its own, killed at the deadline (counted
# from when the process takes the run up); the worker's threads keep answering other
# requests meanwhile.
TIMEOUT = 60.0
_pool: ProcessPool | None = None
_pool_lock = threading.Lock()


class _FormInput:
    """What the form sent, kept to fill the form again."""

    def __init__(self, text: str = "", fmt: str = "auto", filename: str | None = None):
        self.text, self.format, self.filename = text, fmt, filename


def _settings():
    return common.settings()


def _answer_type() -> str:
    choice = common.negotiate(request.headers.get("Accept"), OFFERS)
    if choice is None:
        abort_with(406, "acceptable formats: " + ", ".join(OFFERS))
    return choice


def _guess_kind(data: bytes) -> str:
    head = data.lstrip()[:1]
    return "json" if head in (b"{", b"[") else "turtle"


def _read_form() -> tuple[bytes, str, str, _FormInput]:
    """(body, kind, source, what to show again) from the form's file or pasted text."""
    # The pasted text may be as large as a file upload (Flask's default is 500 kB).
    request.max_form_memory_size = _settings().max_body_bytes
    fmt = request.form.get("format", "auto")
    if fmt not in dict(FORM_FORMATS):
        raise v.InputError("form", f"{fmt!r} is not one of "
                           + ", ".join(k for k, _ in FORM_FORMATS), field="format")
    text = request.form.get("text", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read()
        name = Path(upload.filename).name
        kind = fmt if fmt != "auto" else next(
            (k for s, k in SUFFIX_KINDS.items() if name.lower().endswith(s)),
            INPUT_KINDS.get(upload.mimetype) or _guess_kind(data))
        return data, kind, name, _FormInput("", fmt, name)
    if not text.strip():
        raise v.InputError("form", "nothing to validate: paste a record into the text box "
                           "or choose a file", field="text")
    data = text.encode("utf-8")
    kind = fmt if fmt != "auto" else _guess_kind(data)
    return data, kind, "pasted text", _FormInput(text, fmt)


def _run(data: bytes, kind: str, source: str, settings, record_id: str | None,
         report_format: str | None) -> tuple:
    """In the validation process: (outcomes without their graphs, report text), or the
    input error; errors travel as tuples (InputError's own arguments do not pickle)."""
    try:
        outcomes = v.validate_data(data, kind, source, settings, record_id=record_id)
    except v.InputError as exc:
        return _error_args(exc), None
    except RecursionError:  # the JSON (or JSON-LD) readers recurse once per level
        return (source, "the input is nested too deeply to read", None, None), None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        # json.loads refuses integers longer than Python converts (a guard against
        # quadratic-time conversion): the input's fault, not the server's.
        digits = sys.get_int_max_str_digits()
        return (source, f"a number in the input has more than {digits} digits", None,
                None), None
    report = None
    if report_format:
        report = v.Outcome(source="", report=v.merged_report(outcomes)).report_text(
            report_format)
    return [(o.source, o.indicators, o.subject, o.error and _error_args(o.error))
            for o in outcomes], report


def _error_args(exc: v.InputError) -> tuple:
    return (exc.source, exc.message, exc.line, exc.field)


def _start(parent: int, settings) -> None:
    """In each validation process as it starts: watch the parent, load the shapes."""
    die_with_parent(parent, at_once=False)
    # Each run needing what is missing says so in one line; a failing initializer would
    # leave a traceback in the log and no process.
    with contextlib.suppress(Exception):
        _warm(settings)


def _warm(settings) -> None:
    v.shared_engine(settings).shapes_graph()


def warm(settings, timeout: float = 120) -> None:
    """Start the validation process and wait until its shapes are loaded."""
    _executor().schedule(_warm, args=(settings,)).result(timeout)


def _executor() -> ProcessPool:
    """The validation pool (pebble): a run's deadline counts from when its process takes
    it up, not from when it was queued, and a run past it is ended by killing its own
    process only (the pool starts a fresh, warm one)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # Started by whichever request thread comes first: the process watches for
            # its parent's death itself, not by the kernel's thread-bound signal.
            _pool = ProcessPool(1, initializer=_start, initargs=(os.getpid(), _settings()),
                                context=multiprocessing.get_context("spawn"))
        return _pool


def shutdown() -> None:
    """End the validation process, if one was started (the server worker is exiting)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.stop()
        pool.join()


def _validate(data: bytes, kind: str, source: str, record_id: str | None,
              report_format: str | None = None) -> tuple[list[v.Outcome], str | None]:
    future = _executor().schedule(_run, args=(data, kind, source, _settings(), record_id,
                                              report_format), timeout=TIMEOUT)
    try:
        found, report = future.result()
    except FutureTimeout:
        abort_with(422, f"validation did not finish within {TIMEOUT:.0f} s: the input is too "
                   "large or too complex to validate here")
    except (ProcessExpired, CancelledError):  # its process died (memory), or shutdown
        abort_with(503, "the validator restarted; try again", {"Retry-After": "1"})
    except SourceError as exc:  # the registry's schemas or licence list are out of reach
        abort_with(503, f"the validator has no reference data: {exc}", {"Retry-After": "60"})
    if isinstance(found, tuple):
        raise v.InputError(*found)
    return [v.Outcome(source=src, indicators=ind, subject=subj,
                      error=v.InputError(*err) if err else None)
            for src, ind, subj, err in found], report


def _summary(outcomes: list[v.Outcome]) -> dict:
    """One input's summary as `dpgkg validate --format json` prints it; a list of
    records gives each one's (with its source) under ``records``."""
    if len(outcomes) == 1 and outcomes[0].error is None:
        return outcomes[0].summary()
    return {"conforms": all(o.conforms for o in outcomes),
            "records": [o.summary(with_source=True) for o in outcomes]}


@functools.cache
def _labels() -> dict[str, str]:
    """Indicator key -> its name in the shapes (read here: the engine, with its reference
    data, lives in the validation process)."""
    shapes = rdflib.Graph()
    for f in asset_files(SHAPES_DIR, "*.ttl"):
        shapes.parse(f, format="turtle")
    return v.indicator_labels(SimpleNamespace(shapes=shapes))


def _indicator_rows(outcome: v.Outcome) -> list[dict]:
    """One row per indicator, in the Standard's order, for the HTML report."""
    labels = _labels()
    ontology = url_for("resources.ontology")
    rows = []
    for key in v.KEYS:
        res = outcome.indicators.get(key)
        if res is None:
            continue
        rows.append({
            "key": key, "label": labels.get(key, key), "status": res["status"],
            "status_text": STATUS_TEXT.get(res["status"], res["status"]),
            "href": f"{ontology}#Indicator{key}" if key in v.INDICATORS else None,
            "messages": _once(res["messages"]),
        })
    return rows


def _once(messages: list[dict]) -> list[dict]:
    """Each problem once: SHACL reports a missing field once per shape that needs it."""
    out: dict[tuple[str, str], dict] = {}
    for m in messages:
        key = (m.get("severity", ""), m.get("message", ""))
        where = m.get("field") or m.get("path") or m.get("value") or ""
        if key not in out:
            out[key] = {"severity": key[0], "text": key[1], "where": where}
    return list(out.values())


def _verdict(conforms: bool, counts: dict) -> str:
    """conforms / incomplete / fails: a record with unanswered indicators is not known
    to conform, whatever else passes."""
    if not conforms:
        return "fails"
    return "incomplete" if counts.get("not-answered") else "conforms"


def _page(status: int = 200, outcomes: list[v.Outcome] | None = None,
          error: str | None = None, form: _FormInput | None = None) -> Response:
    reports = []
    for o in outcomes or []:
        rows = _indicator_rows(o) if o.error is None else []
        counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_TEXT}
        reports.append({"source": o.source, "conforms": o.conforms, "rows": rows,
                        "verdict": _verdict(o.conforms, counts), "total": len(
                            [r for r in rows if r["key"] in v.INDICATORS]),
                        "counts": counts, "error": str(o.error) if o.error else None})
    labels = _labels()
    ontology = url_for("resources.ontology")
    indicators = [{"key": k, "label": labels.get(k, k), "href": f"{ontology}#Indicator{k}"}
                  for k in v.INDICATORS]
    body = render_template(
        "validate.html", title="Validate a record against the DPG Standard",
        reports=reports, error=error, form=form or _FormInput(), formats=FORM_FORMATS,
        indicators=indicators, status_text=STATUS_TEXT,
        max_mb=round(_settings().max_body_bytes / 1024 / 1024, 1))
    resp = Response(body, status=status, mimetype="text/html")
    resp.mimetype_params["charset"] = "utf-8"
    return resp


@bp.route("/validate", methods=["GET"])
def form():
    return _page()


@bp.route("/validate", methods=["POST"])
def validate():
    answer = _answer_type()
    mimetype = request.mimetype
    if mimetype not in FORM_TYPES and mimetype not in INPUT_KINDS:
        abort_with(415, f"Content-Type {mimetype or '(none)'!r} is not accepted; send one of "
                   + ", ".join([*INPUT_KINDS, *FORM_TYPES]))
    # The limit holds whatever MAX_CONTENT_LENGTH says. A chunked body has no length to
    # check first: werkzeug stops reading at max_content_length, so one byte more is
    # read to tell a body of exactly the limit from a longer one.
    limit = _settings().max_body_bytes
    request.max_content_length = limit + 1
    too_large = (f"the body is larger than the limit of {limit} bytes "
                 "(settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)")
    if request.content_length is not None and request.content_length > limit:
        abort_with(413, too_large.replace("larger", f"{request.content_length} bytes, larger"))
    form_input = None
    try:
        if mimetype in FORM_TYPES:
            data, kind, source, form_input = _read_form()
            record_id = Path(source).stem if form_input.filename else None
        else:
            data, kind, source = request.get_data(cache=False), INPUT_KINDS[mimetype], \
                "request body"
            record_id = None
            if len(data) > limit:
                raise RequestEntityTooLarge()
        outcomes, report = _validate(data, kind, source, record_id,
                                     REPORT_FORMATS.get(answer))
    except RequestEntityTooLarge:
        abort_with(413, too_large)
    except v.InputError as exc:
        if answer == "text/html":
            if form_input is None and mimetype in FORM_TYPES:
                form_input = _FormInput(request.form.get("text", ""),
                                        request.form.get("format", "auto"))
            return _page(400, error=str(exc), form=form_input)
        abort_with(400, str(exc))
    if answer == "text/html":
        return _page(outcomes=outcomes, form=form_input)
    if answer in REPORT_FORMATS:
        resp = Response(report, mimetype=answer)
        if answer.startswith("text/"):
            resp.mimetype_params["charset"] = "utf-8"
    else:
        resp = Response(json.dumps(_summary(outcomes), ensure_ascii=False),
                        mimetype="application/json")
    resp.vary.add("Accept")
    return resp
