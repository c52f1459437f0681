"""The store behind one small interface.

`open_store(spec)` gives a :class:`~dpgkg.store.base.Store` for a path (the
embedded on-disk store) or an http(s) URL (a remote SPARQL 1.1 store). Nothing
else in the code asks which kind it has.
"""

from __future__ import annotations

from dpgkg.store.base import Store, StoreUnavailable
from dpgkg.store.embedded import EmbeddedStore


def open_store(spec: str, *, in_memory: bool = False) -> Store:
    """Open the store named by `spec` for reading."""
    if spec.startswith(("http://", "https://")):
        from dpgkg.store.remote import RemoteStore

        return RemoteStore(spec)
    return EmbeddedStore(spec, in_memory=in_memory)


__all__ = ["Store", "StoreUnavailable", "EmbeddedStore", "open_store"]
