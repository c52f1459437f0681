"""Virtuoso on top of the SPARQL protocol: guarded reads (a swap can be seen half
committed), deadlock retries, incomplete-result headers, its JSON dialect."""

from __future__ import annotations

import json
import logging
import random
import re
import time
from typing import TYPE_CHECKING

from dpgkg.store.base import StoreError, StoreTimeout
from dpgkg.store.remote.spec import redact

if TYPE_CHECKING:  # control.py reads the control graph through this module
    from dpgkg.store.remote.control import Control

log = logging.getLogger(__name__)


XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


_DEADLOCK = re.compile(r"\b(40001|SR172)\b|[Dd]eadlock")


DEADLOCK_RETRIES = 8
# An update (the swap) deadlocked again and again by readers that keep reading: it tries
# for this long, with jittered pauses so it does not meet the readers' retries in step.
UPDATE_DEADLOCK_SECONDS = 30.0


def deadlock_pause(attempt: int) -> float:
    """Seconds to wait before the next try: doubling from 50 ms, at most 1 s, jittered."""
    return min(1.0, 0.05 * 2 ** attempt) * (0.5 + random.random())


# Virtuoso: the swap marker is read serializable (so the read waits for a swap that is
# adding or removing it), the rest of the control graph read committed (never waits, so
# it cannot deadlock with a swap deleting the version triple).
_SERIALIZABLE = 'OPTION (TABLE_OPTION "isolation serializable")'


# A swap marker still there this long after a reader first saw it was left by a build
# that died between its swap and the confirmation (seconds).
STALE_SWAP = 10.0


GUARD_POLL = 0.05  # seconds between control reads while a swap commits


class VirtuosoGuard:
    """Guarded reads and complete answers (mixed into RemoteStore)."""

    def _guarded(self, run):
        """`run(control)` between two control graph reads that agree, with no swap committing.

        Virtuoso's read-committed readers never wait, but a large transaction commits
        row by row, so a query running while a swap commits can count half the old
        version and half the new. A swap rewrites the version triple and adds a swap
        marker, which the writer removes once the swap request has returned (committed
        in full). The marker is read at serializable isolation, so a control read waits
        while a swap holds it (from the swap's last operation to the end of its commit).
        So if a query overlapped any part of a swap's commit, the control read after it
        differs from the one before it (the marker, or after it the new version), and
        the query runs again; while the marker is there, queries wait. The data query
        itself runs read-committed and never waits for a swap.

        Other stores run a query given the version's graph list this way too (without a
        marker: a query sees one version), so the list is that of the version it ran on.
        """
        deadline = time.monotonic() + self.timeout
        before = self._last_control  # any read completed before run() starts will do
        while True:
            if before is None or self._swapping(before):
                before = self._control()
                while self._swapping(before):
                    if time.monotonic() > deadline:
                        raise StoreTimeout(f"{redact(self.endpoints.query)}: a new version was "
                                           f"still being swapped in after {self.timeout:g}s")
                    time.sleep(GUARD_POLL)
                    before = self._control()
            result = run(before)
            after = self._control()
            if (after.version, after.swapped) == (before.version, before.swapped) \
                    and not self._swapping(after):
                return result
            if time.monotonic() > deadline:
                raise StoreTimeout(f"{redact(self.endpoints.query)}: the version served kept "
                                   f"changing for {self.timeout:g}s")
            log.info("a new version was swapped in during a query: running it again")
            before = after

    def _swapping(self, state: Control) -> bool:
        """A swap marker is there, and not one left behind by a build that died."""
        if state.swapped is None:
            return False
        first = self._swap_seen.get(state.swapped)
        if first is None:
            if len(self._swap_seen) > 100:
                self._swap_seen.clear()
            first = self._swap_seen[state.swapped] = time.monotonic()
        return time.monotonic() - first < self.stale_swap

    def _check_complete(self, headers: dict) -> None:
        # Virtuoso's "anytime" queries return partial results with 200 and say so in
        # a header; partial results must not pass for the answer.
        lower = {k.lower(): v for k, v in headers.items()}
        state = lower.get("x-sql-state")
        if state:
            msg = lower.get("x-sql-message", "")
            if state == "S1TAT":
                raise StoreTimeout(f"{redact(self.endpoints.query)} timed out after "
                                   f"{self.timeout:g}s ({msg})")
            raise StoreError(f"{redact(self.endpoints.query)}: incomplete results "
                             f"({state} {msg})")
        if "x-sparql-maxrows" in lower:
            raise StoreError(f"{redact(self.endpoints.query)} truncated the results at "
                             f"{lower['x-sparql-maxrows']} rows (Virtuoso ResultSetMaxRows)")


def _dataset_defines(default: list[str], named: list[str] | None) -> str:
    """A dataset as Virtuoso pragmas before the query: given as protocol parameters it
    answers with one HTTP header a graph, past what a client reads (http.client: 100)."""
    return "".join([*(f"DEFINE input:default-graph-uri <{g}>\n" for g in default),
                    *(f"DEFINE input:named-graph-uri <{g}>\n" for g in named or [])])


def _is_query_error(text: str) -> bool:
    # Virtuoso answers some query errors (compiler, SQL state 37000/42000/22xxx) with 500.
    return bool(re.match(r"Virtuoso (37000|42000|22\w{3}|42S\d\d|SP\d+)", text))


def _fix_virtuoso_json(body: bytes) -> bytes:
    """Virtuoso JSON results made standard: booleans as 0/1, blank nodes as nodeID://."""
    data = json.loads(body)
    for row in data.get("results", {}).get("bindings", []):
        for value in row.values():
            if value.get("type") == "bnode" and value["value"].startswith("nodeID://"):
                value["value"] = value["value"][len("nodeID://"):]
            elif value.get("datatype") == XSD_BOOLEAN and value.get("value") in ("0", "1"):
                value["value"] = "true" if value["value"] == "1" else "false"
    if "results" not in data and "boolean" not in data:
        raise StoreError("SPARQL JSON results without results or boolean")
    return json.dumps(data).encode()
