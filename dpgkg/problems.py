"""A problem met reading or harvesting a source: where, what, and whether the record is kept.

Shared by sources/ (which read files and report what is unreadable) and harvest/ (which
reports what it cannot turn into triples), so neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    source: str            # file path (relative to the source root) or URL
    message: str
    field: str | None = None   # JSON pointer-ish path: "license[0].spdx"
    severity: str = "error"    # "error": record skipped; "warning": record kept

    def __str__(self) -> str:
        where = f"{self.source}" + (f" [{self.field}]" if self.field else "")
        return f"{self.severity}: {where}: {self.message}"
