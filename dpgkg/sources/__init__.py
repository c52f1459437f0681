"""Where each real source lives, and reading it. Records in, no RDF.

Third-party sources (registry, SDG KOS, country codes) are read from a sources
directory laid out like ``../shared`` or, without one, from their public addresses
(``Settings.*_url``). What this project authors (the alliance's reference tables,
country aliases, SPDX successors, licence registers, example queries) is read from
``data/``, shipped with the package (see :mod:`dpgkg.sources.data`).
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from dpgkg.config import Settings
from dpgkg.sources.files import (
    RECORD_MAX_BYTES,
    SOURCE_MAX_BYTES,
    ReadRefused,
    read_file,
    read_stream,
)

# name -> path below a sources directory
LAYOUT = {
    "registry": "registry",
    "sdg": "sdg/sdg-kos-goals-targets-indicators.ttl",
    "sdg-ontology": "sdg/sdgs-ontology.ttl",
    "countries": "countries/country-codes.csv",
    "standard": "reference/dpg-standard.md",
}

# name -> the Settings field holding its public address
_URL_FIELDS = {
    "registry": "registry_url",
    "sdg": "sdg_url",
    "sdg-ontology": "sdg_ontology_url",
    "countries": "countries_url",
}

FIX = ("to work offline pass --sources DIR (a directory laid out like ../shared) "
       "or set DPGKG_SOURCES")


class SourceError(Exception):
    """A source that cannot be read: which, where, why, and the fix (one line)."""

    def __init__(self, location: str, reason: str, name: str | None = None):
        self.location, self.reason, self.name = location, reason, name
        super().__init__(str(self))

    def __reduce__(self):  # raised in a worker process, re-raised in its parent
        return (SourceError, (self.location, self.reason, self.name))

    def __str__(self) -> str:
        what = f"source {self.name!r}" if self.name else "a source"
        return f"cannot read {what} at {self.location}: {self.reason}; {FIX}"




def locate(name: str, settings: Settings) -> str:
    """The path or URL of source `name`: below ``settings.sources`` if given, else its
    public address."""
    if settings.sources is not None:
        path = Path(settings.sources) / LAYOUT[name]
        if not path.exists():
            raise SourceError(str(path), "no such file or directory", name)
        return str(path)
    if name in _URL_FIELDS:
        return getattr(settings, _URL_FIELDS[name])
    raise SourceError(f"--sources DIR/{LAYOUT[name]}", "it has no public address", name)


def registry_file(rel: str, settings: Settings, registry: str | Path | None = None) -> bytes:
    """One file of the registry (``nominee-schema.json``, ``help-center/licenses.md``):
    from the registry directory given, else the sources directory, else the public
    repository. Missing is an error."""
    if registry is None and settings.sources is not None:
        registry = Path(settings.sources) / LAYOUT["registry"]
    if registry is not None:
        path = Path(registry) / rel
        if not path.is_file():
            raise SourceError(str(path), "no such file", f"registry {rel}")
        try:
            return read_file(path, RECORD_MAX_BYTES, within=registry)
        except ReadRefused as exc:
            raise SourceError(str(path), exc.reason, f"registry {rel}") from None
    with named(f"registry {rel}"):
        return read_bytes(settings.registry_raw_url.rstrip("/") + "/" + rel)


@contextlib.contextmanager
def named(name: str) -> Iterator[None]:
    """Name the source in a SourceError raised inside (read_bytes knows only the URL)."""
    try:
        yield
    except SourceError as exc:
        if exc.name is None:
            exc.name = name
            exc.args = (str(exc),)
        raise


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def read_bytes(location: str, timeout: float = 60, limit: int = SOURCE_MAX_BYTES) -> bytes:
    """The content of a path or URL, at most `limit` bytes; a file that is not a regular
    file (a FIFO, a device), larger, or unreadable, and a URL that cannot be fetched,
    are a SourceError."""
    try:
        if is_url(location):
            req = urllib.request.Request(location, headers={"User-Agent": "dpgkg"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return read_stream(resp, limit, location)
        return read_file(location, limit)
    except ReadRefused as exc:
        raise SourceError(location, exc.reason) from None
    except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSErrors
        raise SourceError(location, str(getattr(exc, "reason", None) or exc)) from exc
