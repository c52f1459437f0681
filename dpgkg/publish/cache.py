"""Tables that change only with a build, computed once per store version."""

from __future__ import annotations

import threading

_tables: dict[tuple[int, str], tuple[str, object]] = {}
_lock = threading.Lock()


def per_version(store, name: str, compute):
    """`compute(store)`, again only after the store serves a new version."""
    key = (id(store), name)
    version = store.version()
    found = _tables.get(key)
    if found is None or found[0] != version:
        with _lock:
            found = _tables.get(key)
            if found is None or found[0] != version:
                found = _tables[key] = (version, compute(store))
    return found[1]
