"""The data this project authors (``data/``, shipped in the package): read here, rows in,
no RDF. A missing or malformed file is an error (AssetMissing), never an empty table."""

from __future__ import annotations

import csv
import functools
import tomllib
from pathlib import Path

from dpgkg.config import DATA_DIR, AssetMissing, asset_files
from dpgkg.sources.reference import Row, read_csv_rows

__all__ = [
    "ALLIANCE_TABLES",
    "alliance_locations",
    "ckan_licences",
    "country_aliases",
    "data_path",
    "documents",
    "example_queries",
    "not_countries",
    "organisation_rows",
    "spdx_successors",
]

# The alliance's reference tables, by the name of their graph.
ALLIANCE_TABLES = ("members", "recommendations", "roadmap", "compact")


def data_path(name: str) -> Path:
    """A file of data/; missing is an error."""
    path = DATA_DIR / name
    if not path.is_file():
        raise AssetMissing(f"{path} is missing: the dpgkg package is incomplete; reinstall it "
                           "(pip install dpgkg) or run from a source checkout")
    return path


def _rows(name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    path = data_path(name)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise AssetMissing(f"{path}: no column {', '.join(sorted(missing))}")
        return [{k: (row.get(k) or "").strip() for k in columns} for row in reader]


@functools.cache
def documents() -> dict[str, dict]:
    """documents.toml: per alliance table, its file, title, description and source document."""
    path = data_path("documents.toml")
    with open(path, "rb") as f:
        docs = tomllib.load(f)
    for name in ALLIANCE_TABLES:
        if name not in docs or not {"file", "title", "description"} <= set(docs[name]):
            raise AssetMissing(f"{path}: [{name}] with file, title and description is missing")
    return docs


def alliance_locations() -> dict[str, str]:
    """The paths of the four alliance tables, by graph name (for harvest_alliance)."""
    return {name: str(data_path(documents()[name]["file"])) for name in ALLIANCE_TABLES}


ORGANISATION_COLUMNS = ("name", "variants", "type", "parent", "same_as", "same_as_source",
                        "distinct_from", "note")


def organisation_rows() -> list[Row]:
    """The rows of organisations.csv (the curated organisation table), with their lines."""
    path = data_path("organisations.csv")
    rows = read_csv_rows(str(path))
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    missing = set(ORGANISATION_COLUMNS) - {h.strip() for h in header}
    if missing:
        raise AssetMissing(f"{path}: no column {', '.join(sorted(missing))}")
    return rows


@functools.cache
def country_aliases() -> dict[str, str]:
    """{name people write: ISO 3166-1 alpha-2 code}."""
    return {r["name"]: r["iso3166_alpha2"].upper()
            for r in _rows("country-aliases.csv", ("name", "iso3166_alpha2"))}


@functools.cache
def not_countries() -> frozenset[str]:
    """Free text that names no country, lower-case."""
    lines = data_path("not-countries.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


@functools.cache
def spdx_successors() -> dict[str, str]:
    """{deprecated SPDX id: its successor} where no rule derives it."""
    return {r["deprecated"]: r["successor"]
            for r in _rows("spdx-successors.csv", ("deprecated", "successor"))}


@functools.cache
def ckan_licences() -> dict[str, tuple[str, str]]:
    """{SPDX id: (URL CKAN knows the licence by, CKAN's title)}."""
    return {r["spdx"]: (r["ckan_url"], r["ckan_title"])
            for r in _rows("ckan-licences.csv", ("spdx", "ckan_url", "ckan_title"))}


@functools.cache
def example_queries() -> tuple[tuple[str, str], ...]:
    """((title, query), ...) from queries/*.rq in file-name order; the title is the first
    line's comment, the query the rest."""
    out = []
    for path in asset_files(DATA_DIR / "queries", "*.rq"):
        first, _, query = path.read_text(encoding="utf-8").partition("\n")
        if not first.startswith("#") or not first.lstrip("# ").strip():
            raise AssetMissing(f"{path}: the first line is not '# title'")
        out.append((first.lstrip("# ").strip(), query.lstrip("\n")))
    return tuple(out)
