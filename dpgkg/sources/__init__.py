"""Where each real source lives, and reading it. Records in, no RDF.

A sources directory is laid out like ``../shared``; without one, the public
addresses below are used (the reference CSVs compiled for this project have no
public address: they need a sources directory or mirror).
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

# name -> path below a sources directory
LAYOUT = {
    "registry": "registry",
    "sdg": "sdg/sdg-kos-goals-targets-indicators.ttl",
    "sdg-ontology": "sdg/sdgs-ontology.ttl",
    "countries": "countries/country-codes.csv",
    "members": "reference/members.csv",
    "recommendations": "reference/digital-cooperation-recommendations.csv",
    "roadmap": "reference/roadmap-areas.csv",
    "compact": "reference/global-digital-compact-objectives.csv",
    "standard": "reference/dpg-standard.md",
}

# name -> public address, for a machine with internet and no mirror
PUBLIC = {
    "registry": "https://github.com/DPGAlliance/publicgoods-candidates/archive/refs/heads/main.tar.gz",
    "sdg": "https://raw.githubusercontent.com/UNStats/LOD4Stats/master/sdg-data/sdg-kos-goals-targets-indicators.ttl",
    "sdg-ontology": "https://raw.githubusercontent.com/UNStats/LOD4Stats/master/sdg-data/sdgs-ontology.ttl",
    "countries": "https://raw.githubusercontent.com/datasets/country-codes/main/data/country-codes.csv",
    "standard": "https://raw.githubusercontent.com/DPGAlliance/DPG-Standard/main/standard.md",
}

DEFAULT_SOURCES = Path(__file__).resolve().parents[2].parent / "shared"


class SourceMissing(Exception):
    pass


def locate(name: str, sources: str | Path | None) -> str:
    """The path or URL of source `name`: below `sources` if given, else the public address."""
    if sources is not None:
        path = Path(sources) / LAYOUT[name]
        if not path.exists():
            raise SourceMissing(f"source {name!r} not found at {path}")
        return str(path)
    if name in PUBLIC:
        return PUBLIC[name]
    raise SourceMissing(
        f"source {name!r} has no public address; pass --sources DIR (laid out like ../shared)"
    )


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def read_bytes(location: str, timeout: float = 60) -> bytes:
    """The content of a path or URL."""
    if is_url(location):
        req = urllib.request.Request(location, headers={"User-Agent": "dpgkg"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    return Path(location).read_bytes()
