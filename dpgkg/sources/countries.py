"""Read the country table (datasets/country-codes CSV): rows in, no RDF."""

from __future__ import annotations

import csv
import io

from dpgkg.sources import read_bytes

__all__ = ["read_countries"]


def read_countries(location: str) -> list[dict]:
    """The rows of country-codes.csv (path or URL) as dicts, values stripped.

    Read with the csv module, never a library that guesses types: Namibia's alpha-2
    code is "NA".
    """
    text = read_bytes(location).decode("utf-8-sig")
    rows = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()
                     if k is not None and isinstance(v, str)})
    return rows
