"""Read small CSV tables (the alliance tables of data/): rows in, no RDF."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from dpgkg.config import DATA_DIR
from dpgkg.sources import LAYOUT, is_url, read_bytes

__all__ = [
    "PartialDate",
    "Row",
    "display_path",
    "parse_partial_date",
    "read_csv",
    "read_csv_rows",
]


@dataclass(frozen=True)
class Row:
    """One data row and the line of the file it starts on (the header is line 1)."""

    line: int
    values: dict[str, str]


def _text(location: str) -> str:
    # utf-8-sig drops a byte-order mark if a spreadsheet program left one.
    return read_bytes(location).decode("utf-8-sig")


def read_csv_rows(location: str) -> list[Row]:
    """The rows of a CSV file (path or URL), values stripped, missing cells as ""."""
    reader = csv.DictReader(io.StringIO(_text(location), newline=""))
    rows: list[Row] = []
    start = reader.line_num + 1
    for record in reader:
        values = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else ""
                  for k, v in record.items() if k is not None}
        rows.append(Row(start, values))
        start = reader.line_num + 1
    return rows


def read_csv(location: str) -> list[dict[str, str]]:
    """The rows of a CSV file (path or URL) as dicts keyed by the header."""
    return [row.values for row in read_csv_rows(location)]


@dataclass(frozen=True)
class PartialDate:
    """A date known to the day, the month or the year: its lexical form and XSD type name."""

    text: str
    precision: str  # "date" | "gYearMonth" | "gYear"

    def sort_key(self) -> tuple[int, int, int]:
        """Earliest day the value can mean, as (year, month, day)."""
        parts = [int(p) for p in self.text.split("-")]
        return (parts + [1, 1])[:3]  # type: ignore[return-value]


_DATE_FORMS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "date"),
    (re.compile(r"^\d{4}-\d{2}$"), "gYearMonth"),
    (re.compile(r"^\d{4}$"), "gYear"),
]


def parse_partial_date(text: str) -> PartialDate:
    """'2021-09-27', '2025-03' or '2019'; ValueError for anything else (or an impossible date)."""
    text = text.strip()
    for pattern, precision in _DATE_FORMS:
        if pattern.match(text):
            parts = [int(p) for p in text.split("-")]
            year, month, day = (parts + [1, 1])[:3]
            try:
                date(year, month, day)
            except ValueError as exc:  # month 13, 30 February...
                raise ValueError(f"not a date: {text!r} ({exc})") from None
            return PartialDate(text, precision)
    raise ValueError(f"not a date (YYYY-MM-DD, YYYY-MM or YYYY): {text!r}")


def display_path(name: str, location: str) -> str:
    """How to name a source file in problems and provenance: relative to the sources root
    when it sits at its usual place there, ``data/...`` for the project's own data, else
    the location as given."""
    if is_url(location):
        return location
    with contextlib.suppress(ValueError):
        return "data/" + Path(location).resolve().relative_to(DATA_DIR.resolve()).as_posix()
    usual = LAYOUT.get(name)
    posix = PurePosixPath(location.replace("\\", "/"))
    if usual and (str(posix) == usual or str(posix).endswith("/" + usual)):
        return usual
    return location
