"""Settings from the environment (and CLI options), in one place."""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/dpgkg/id/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
SHAPES_DIR = PROJECT_ROOT / "shapes"
DATA_DIR = PROJECT_ROOT / "data"


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; each field's variable is DPGKG_<FIELD IN CAPITALS>."""

    base_iri: str = DEFAULT_BASE_IRI
    # A directory, or a SPARQL store URL (oxigraph+http://..., virtuoso+http://..., ...).
    store: str = "var/store"
    # A directory laid out like ../shared, or None for the public sources.
    sources: str | None = None
    query_timeout: float = 10.0
    max_body_bytes: int = 5 * 1024 * 1024
    # SERVICE endpoints a query may call (space-separated); empty: SERVICE is refused.
    service_allow_list: tuple[str, ...] = field(default_factory=tuple)
    # Credentials of a remote store; never printed (repr=False).
    store_user: str | None = field(default=None, repr=False)
    store_password: str | None = field(default=None, repr=False)
    # The server: app threads per server worker process, query processes per worker, whether
    # each copies the store into memory, answer bytes held back so a timeout can
    # still get a clean error status.
    threads: int = 8
    query_workers: int = 2
    query_in_memory: bool = True
    # ...but only a store up to this size on disk: each query process holds its own
    # copy, and copying takes ~1 s per 50 MB, again after every kill at the time limit.
    query_in_memory_max_mb: int = 256
    hold_bytes: int = 64 * 1024 * 1024
    # One line per request (method, path, status, time; never the client or the query).
    access_log: bool = True

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
