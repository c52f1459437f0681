"""Registry records converted by an earlier build, taken again while nothing their
conversion depends on has changed (no file I/O: :mod:`dpgkg.incremental` reads and
writes the entries through :mod:`dpgkg.sources.buildcache`).

What :func:`dpgkg.harvest.registry.record_to_graph` makes of a record depends on the
registry file as read (its record, screening answers, exclusion, blob), on the
:class:`~dpgkg.harvest.directory.Directory` of all records (canonical organisation and
sector names and websites, every contact name), on the country table, the IRI base and
the source commit, and on the package (its code, data/, the SPDX list and pyoxigraph):
the entry's key hashes all of them. The only per-build triple, the graph's own
``prov:generatedAtTime``, is made afresh on reuse. The two things a conversion records
beside its triples (licences used, country names not matched) are kept with the entry and
recorded again on reuse, so the licence graph and the build's warnings are those a
conversion gives. An entry that cannot be read back is converted again and counted as
damaged: a damaged cache costs time, never a different graph.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict

import pyoxigraph as ox

from dpgkg.harvest import HarvestContext, HarvestedGraph
from dpgkg.harvest.provenance import generation_time
from dpgkg.problems import Problem
from dpgkg.rdf import PROV

ENTRY_FORMAT = 1


def fingerprint(value) -> str:
    """sha256 of a JSON value (keys sorted): what a conversion depends on, hashed."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class RecordMemo:
    """Conversions of registry records: `convert` reuses an entry or converts and keeps
    the result in `fresh` (key -> bytes) for the build cache; `used` is every key this
    harvest needed (what the cache keeps)."""

    def __init__(self, context: str, load: Callable[[str], bytes | None] = lambda k: None):
        self.context = context        # the package's fingerprint, as the cache gives it
        self.load = load              # key -> the entry's bytes (None: none)
        self.scope = context
        self.fresh: dict[str, bytes] = {}
        self.used: set[str] = set()
        self.reused = self.converted = self.damaged = 0

    def bind(self, ctx: HarvestContext, *parts: str) -> None:
        """What every record's conversion in this harvest also depends on: the IRI base,
        the source commit and `parts` (the directory's and the country table's
        fingerprints)."""
        self.scope = fingerprint([self.context, ctx.iris.base, ctx.commit, *parts])

    def key(self, rf) -> str:
        return fingerprint([self.scope, rf.folder, rf.record_id, rf.path, rf.record,
                            rf.screening, rf.screening_path, rf.commit, rf.exclusion_date,
                            rf.exclusion_reason, rf.default_stage, rf.blob])

    def convert(self, rf, ctx: HarvestContext, licences, countries, conversion
                ) -> tuple[HarvestedGraph | None, list[Problem]]:
        """``conversion()`` (record_to_graph of `rf`), or what it gave before."""
        key = self.key(rf)
        self.used.add(key)
        data = self.load(key)
        if data is not None:
            try:
                out = _restore(json.loads(data), rf, ctx, licences, countries)
            except (KeyError, TypeError, ValueError, SyntaxError, AttributeError):
                self.damaged += 1
            else:
                self.reused += 1
                return out
        self.converted += 1
        # what the conversion records beside its triples, seen alone
        kept = (licences.used, countries.unmatched if countries else None,
                countries.not_countries if countries else None)
        licences.used = set()
        if countries is not None:
            countries.unmatched, countries.not_countries = Counter(), Counter()
        try:
            hg, problems = conversion()
            entry = {
                "format": ENTRY_FORMAT,
                "nt": None if hg is None else ox.serialize(
                    hg.triples, format=ox.RdfFormat.N_TRIPLES).decode(),
                "subject": None if hg is None or hg.subject is None else hg.subject.value,
                "problems": [asdict(p) for p in problems],
                "licences": sorted(licences.used),
                "unmatched": dict(countries.unmatched) if countries else {},
                "not_countries": dict(countries.not_countries) if countries else {},
            }
            entry["sha256"] = _sha(entry["nt"])
        finally:
            licences.used |= kept[0]
            if countries is not None:
                countries.unmatched.update(kept[1])
                countries.not_countries.update(kept[2])
        if hg is None or "_:" not in entry["nt"]:  # blank nodes would not read back the same
            self.fresh[key] = json.dumps(entry, ensure_ascii=False).encode()
        return hg, problems

    def summary(self) -> dict:
        return {"reused": self.reused, "converted": self.converted, "damaged": self.damaged}


def _sha(nt: str | None) -> str:
    return hashlib.sha256((nt or "").encode()).hexdigest()


def _restore(entry: dict, rf, ctx: HarvestContext, licences, countries
             ) -> tuple[HarvestedGraph | None, list[Problem]]:
    if entry["format"] != ENTRY_FORMAT or entry["sha256"] != _sha(entry["nt"]):
        raise ValueError("another entry format, or damaged")
    problems = [Problem(**p) for p in entry["problems"]]
    hg = None
    if entry["nt"] is not None:
        graph = ctx.iris.record_graph(rf.folder, rf.record_id)
        triples = list(ox.parse(entry["nt"].encode(), format=ox.RdfFormat.N_TRIPLES))
        stamp = next((i for i, t in enumerate(triples)
                      if t.subject == graph and t.predicate == PROV.generatedAtTime), None)
        if stamp is None:
            raise ValueError("no prov:generatedAtTime of the graph")
        triples[stamp] = ox.Triple(graph, PROV.generatedAtTime, generation_time(ctx))
        subject = entry["subject"]
        hg = HarvestedGraph(graph=graph, key=f"{rf.folder}/{rf.record_id}", triples=triples,
                            subject=None if subject is None else ox.NamedNode(subject),
                            source_path=rf.path, source_blob=rf.blob)
    # read whole before anything is recorded: a damaged entry records nothing
    used = set(entry["licences"])
    if not isinstance(entry["licences"], list) or any(
            not isinstance(x, str) or licences.info(x) is None for x in used):
        raise ValueError("licences: SPDX ids expected")
    unmatched, not_countries = (Counter({str(k): int(v) for k, v in entry[name].items()})
                                for name in ("unmatched", "not_countries"))
    licences.used |= used
    if countries is not None:
        countries.unmatched.update(unmatched)
        countries.not_countries.update(not_countries)
    return hg, problems
