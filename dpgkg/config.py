"""Settings from the environment (and CLI options), in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_BASE_IRI = "https://w3id.org/dpgkg/id/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
SHAPES_DIR = PROJECT_ROOT / "shapes"
DATA_DIR = PROJECT_ROOT / "data"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DPGKG_{name}", default)


@dataclass(frozen=True)
class Settings:
    """Everything that can be configured; env vars are DPGKG_<FIELD NAME IN CAPITALS>."""

    base_iri: str = DEFAULT_BASE_IRI
    store: str = "var/store"
    # A directory laid out like ../shared, or None for the public sources.
    sources: str | None = None
    query_timeout: float = 10.0
    max_body_bytes: int = 5 * 1024 * 1024
    # SERVICE endpoints a query may call; empty means SERVICE is refused.
    service_allow_list: tuple[str, ...] = field(default_factory=tuple)
    # Credentials of a remote store; never printed (repr=False).
    store_user: str | None = field(default=None, repr=False)
    store_password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        values: dict = {}
        if (v := _env("BASE_IRI")) is not None:
            values["base_iri"] = v
        if (v := _env("STORE")) is not None:
            values["store"] = v
        if (v := _env("SOURCES")) is not None:
            values["sources"] = v
        if (v := _env("QUERY_TIMEOUT")) is not None:
            values["query_timeout"] = float(v)
        if (v := _env("MAX_BODY_BYTES")) is not None:
            values["max_body_bytes"] = int(v)
        if (v := _env("STORE_USER")) is not None:
            values["store_user"] = v
        if (v := _env("STORE_PASSWORD")) is not None:
            values["store_password"] = v
        if (v := _env("SERVICE_ALLOW_LIST")) is not None:
            values["service_allow_list"] = tuple(x for x in v.split() if x)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
