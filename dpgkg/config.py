"""Settings from the environment (and CLI options), in one place."""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/dpgkg/id/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _assets_root() -> Path:
    """Where ontology/, shapes/ and data/ are: inside the installed package (the wheel maps
    them to dpgkg/_assets/, see setup.py), or at the top of a source checkout."""
    packaged = Path(str(resources.files("dpgkg"))) / "_assets"
    return packaged if packaged.is_dir() else PROJECT_ROOT


ASSETS_ROOT = _assets_root()
ONTOLOGY_DIR = ASSETS_ROOT / "ontology"
SHAPES_DIR = ASSETS_ROOT / "shapes"
DATA_DIR = ASSETS_ROOT / "data"


class AssetMissing(Exception):
    """A file this project ships (ontology, shapes, data) is not where the package is."""


def asset_files(directory: Path, pattern: str) -> list[Path]:
    """The files of a shipped asset directory, sorted; none is an error, never an empty
    list (validating against no shapes would pass everything)."""
    found = sorted(directory.glob(pattern))
    if not found:
        raise AssetMissing(f"no {pattern} in {directory}: the dpgkg package is incomplete; "
                           "reinstall it (pip install dpgkg) or run from a source checkout")
    return found


# The public addresses of the third-party sources, for a machine with internet and no
# mirror (each can be pointed elsewhere: DPGKG_<NAME>_URL).
PUBLIC_SOURCES = {
    "registry": "https://github.com/DPGAlliance/publicgoods-candidates/archive/refs/heads/"
                "main.tar.gz",
    # single files of the same repository (schemas, approved licences), for validation
    "registry_raw": "https://raw.githubusercontent.com/DPGAlliance/publicgoods-candidates/main/",
    "sdg": "https://raw.githubusercontent.com/UNStats/LOD4Stats/master/sdg-data/"
           "sdg-kos-goals-targets-indicators.ttl",
    "sdg_ontology": "https://raw.githubusercontent.com/UNStats/LOD4Stats/master/sdg-data/"
                    "sdgs-ontology.ttl",
    "countries": "https://raw.githubusercontent.com/datasets/country-codes/main/data/"
                 "country-codes.csv",
}


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; each field's variable is DPGKG_<FIELD IN CAPITALS>."""

    base_iri: str = DEFAULT_BASE_IRI
    # The site's root URL as clients reach it (e.g. https://kg.example.org/), for the
    # absolute URLs the server writes (catalogue, sitemap, service description, feeds).
    # None: where the base IRI's documents live (the base without its final "id/").
    # Never the request's Host header, which any client can forge.
    public_url: str | None = None
    # A directory, or a SPARQL store URL (oxigraph+http://..., virtuoso+http://..., ...).
    store: str = "var/store"
    # A directory laid out like ../shared, or None for the public sources.
    sources: str | None = None
    # The registry's git history (a clone, a bundle or a git URL): records' dates and
    # changes. None: dates unknown (the build says so).
    history: str | None = None
    # Where a mirrored history and the per-commit / per-blob cache of its reading live.
    cache_dir: str = "var/cache"
    query_timeout: float = 10.0
    # What computes the ontology's entailments in a build: "fast" (rules compiled to
    # SPARQL) or "owlrl" (the reference OWL 2 RL implementation, much slower).
    reasoner: str = "fast"
    max_body_bytes: int = 5 * 1024 * 1024
    # The share of the served version's solutions, records or triples a new build may
    # lose and still be swapped in (more: refused unless `dpgkg build --allow-shrink`).
    # 0.1: in the registry's history (1,200 commits, 2019-2024) the record count never
    # fell by more than 6 records (1.4%) at once, while an emptied or lost folder (e.g.
    # nominees/, 30% of the records) or a harvester that drops a property loses far more.
    max_shrink: float = 0.1
    # SERVICE endpoints a query may call (space-separated); empty: SERVICE is refused.
    service_allow_list: tuple[str, ...] = field(default_factory=tuple)
    # Credentials of a remote store; never printed (repr=False).
    store_user: str | None = field(default=None, repr=False)
    store_password: str | None = field(default=None, repr=False)
    # Where a remote store can reach this process to LOAD a version's graphs from it
    # (host[:port]); unset: our address on the route to the store.
    load_address: str | None = None
    # The server: app threads per server worker process, query processes per worker, whether
    # each copies the store into memory, answer bytes held back so a timeout can
    # still get a clean error status.
    threads: int = 8
    query_workers: int = 2
    # Reading pyoxigraph's in-memory store writes to its pages (the heap, measured with
    # smaps), so the copy a fork server shares with its query processes becomes one copy
    # each once they have answered (the server tree's PSS at 1x: 547 MB in memory, 257 MB
    # on disk, where the page cache is shared). On disk full scans are ~3x slower (as
    # fast as the Oxigraph server's) and a group-by's throughput ~0.6x: so on disk by
    # default, in memory where RAM is cheap.
    query_in_memory: bool = False
    # ...and then only a store up to this size on disk: copying takes ~1 s per 50 MB.
    query_in_memory_max_mb: int = 256
    hold_bytes: int = 64 * 1024 * 1024
    # Groups, brackets and parentheses a query may nest (the engine crashes a few
    # thousand deep); memory one query may add to its process before it is killed (503).
    query_max_depth: int = 64
    query_memory_mb: int = 512
    # Query processes one client address may hold at once, per server worker (0: half
    # the pool, at least one); its further queries wait their turn or get a 503.
    query_share: int = 0
    # Slow clients: seconds to send the request body, seconds a response may wait for
    # the client to read it, and requests one client address may have open at once.
    body_timeout: float = 10.0
    write_timeout: float = 30.0
    max_client_requests: int = 64
    # One line per request (method, path, status, time; never the client or the query).
    access_log: bool = True
    # Where the public sources are read from when no `sources` directory is given.
    registry_url: str = PUBLIC_SOURCES["registry"]
    registry_raw_url: str = PUBLIC_SOURCES["registry_raw"]
    sdg_url: str = PUBLIC_SOURCES["sdg"]
    sdg_ontology_url: str = PUBLIC_SOURCES["sdg_ontology"]
    countries_url: str = PUBLIC_SOURCES["countries"]
    # The country boundaries the DPG page's map is drawn from: world-atlas's
    # countries-110m.json (Natural Earth, public domain), installed by `npm ci`.
    world_atlas: str = str(PROJECT_ROOT / "node_modules" / "world-atlas" / "countries-110m.json")

    @staticmethod
    def env_name(name: str) -> str:
        return f"DPGKG_{name.upper()}"

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        hints = typing.get_type_hints(cls)
        values: dict = {}
        for f in fields(cls):
            raw = os.environ.get(cls.env_name(f.name))
            if raw is not None:
                values[f.name] = _parse(raw, hints[f.name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self):
        if not 0 <= self.max_shrink <= 1:
            raise ValueError(f"DPGKG_MAX_SHRINK is {self.max_shrink}: a share between 0 and 1 "
                             "(0.1 = 10%)")

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _parse(raw: str, hint):
    """An environment string as the field's type."""
    if hint is bool:
        return raw.strip().lower() not in ("0", "", "no", "false", "off")
    if hint is int:
        return int(raw)
    if hint is float:
        return float(raw)
    if typing.get_origin(hint) is tuple:
        return tuple(raw.split())
    return raw
