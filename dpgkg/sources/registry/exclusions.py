"""The registry's list of excluded nominees (excluded-nominees/README.md): who, when,
and why, attached to the records it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dpgkg.problems import Problem
from dpgkg.sources.registry.clean import (
    scrub_text,
)

EXCLUDED_README = "excluded-nominees/README.md"


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
