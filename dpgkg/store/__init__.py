"""The store behind one small interface.

`open_store(spec)` gives a :class:`~dpgkg.store.base.Store` for a path (the
embedded on-disk store) or an http(s) URL (a remote SPARQL 1.1 store). Nothing
else in the code asks which kind it has.
"""

from __future__ import annotations

import re

from dpgkg.store.base import NoGraph, Store, StoreTimeout, StoreUnavailable
from dpgkg.store.embedded import EmbeddedStore

REMOTE_SPEC = re.compile(r"^(?:[a-z]+\+)?https?://")


def is_remote(spec: str) -> bool:
    return bool(REMOTE_SPEC.match(spec))


def open_store(spec: str, *, in_memory: bool = False, in_memory_max_bytes: int | None = None,
               settings=None) -> Store:
    """Open the store named by `spec`: a directory, or a (kind+)http(s) URL of a SPARQL store."""
    if is_remote(spec):
        from dpgkg.store.remote import RemoteStore

        if settings is None:
            return RemoteStore(spec)
        return RemoteStore(spec, timeout=settings.query_timeout, user=settings.store_user,
                           password=settings.store_password, settings=settings)
    return EmbeddedStore(spec, in_memory=in_memory, in_memory_max_bytes=in_memory_max_bytes)


__all__ = [
    "EmbeddedStore",
    "NoGraph",
    "Store",
    "StoreTimeout",
    "StoreUnavailable",
    "is_remote",
    "open_store",
]
