"""The dumps of two builds made comparable: what is per build (the version id, the build
time, every graph's provenance hash, the build graph) replaced or left out, so an
incremental build and a full build of the same sources can be compared byte for byte
(bench/bench_incremental.py, tests/test_incremental.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

DUMPS = ("dpgkg.nt.gz", "dpgkg.ttl", "dpgkg.jsonld", "dpgkg.trig", "void.json",
         "graph-hashes.json")


def per_build_hashes_left_out(data: bytes) -> bytes:
    """The change feed's graph hashes without those of what is per build: every graph's
    provenance (its prov:generatedAtTime is the build time) and the build graph's content
    (version id, time)."""
    hashes = json.loads(data)
    hashes["provenance"] = sorted(hashes["provenance"])
    hashes["content"] = {g: h for g, h in hashes["content"].items()
                         if not g.endswith("/graph/build")}
    return json.dumps(hashes, sort_keys=True).encode()


def served_dumps(store: Path) -> dict[str, bytes]:
    """The dumps of the version served, its version id and build time replaced."""
    from dpgkg.publish.dumps import dumps_root
    from dpgkg.store import open_store

    s = open_store(str(store))
    version = s.version()
    built = {r["t"].value for r in s.select(
        "SELECT DISTINCT ?t { ?x <http://www.w3.org/ns/prov#endedAtTime> ?t }")}
    s.close()
    out = {}
    for name in DUMPS:
        data = (dumps_root(str(store)) / version / name).read_bytes()
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        if name == "graph-hashes.json":
            data = per_build_hashes_left_out(data)
        data = data.replace(version.encode(), b"VERSION")
        for t in built:
            data = data.replace(t.encode(), b"BUILT")
        out[name] = data
    return out
