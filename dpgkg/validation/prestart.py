"""A validation process forked when an incremental build starts: it reads the shapes
while the build harvests, and validates the few records that changed once the harvest
hands them over (as N-Triples).

Forked before the harvest, it copies a small process, not one holding the whole harvest,
and the shapes (pySHACL's slowest part for a few records) are ready when the records
are. It validates with the Engine :func:`dpgkg.validation.results._engine` makes: the
same shapes and the same reference triples, so the same outcomes.
"""

from __future__ import annotations

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.validation.batch import Running, worker_start
from dpgkg.validation.status import InputError, Outcome

_WARM: dict = {}


def _nt(triples: list) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""


def _triples(data: bytes) -> list:
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES)) if data else []


def _warm() -> None:
    """The worker's first work: the shapes read and built (an error kept for the task)."""
    from dpgkg.validation.engine import Engine

    worker_start()
    try:
        settings, reg = _WARM["args"]
        eng = Engine(settings, reg, reference=[])
        eng.shapes_graph()
        _WARM["engine"] = eng
    except Exception as exc:  # noqa: BLE001 - raised by the task, in the build
        _WARM["error"] = exc


def _started() -> None:
    """A first task, so that the pool forks its worker at once."""


def _validate(jobs: list[tuple], reference: bytes, approvals: bytes) -> list[tuple]:
    from dpgkg.validation.batch import _prepare_and_validate
    from dpgkg.validation.records import _Job

    if "error" in _WARM:
        raise _WARM["error"]
    eng = _WARM["engine"]
    eng.set_reference(_triples(reference), _triples(approvals))
    todo = [_Job(source=src, triples=_triples(nt), extra=extra, subject=subject)
            for src, nt, extra, subject in jobs]
    outs = _prepare_and_validate(todo, eng, None, False)
    return [(o.source, o.indicators, o.subject,
             None if o.error is None else (o.error.source, o.error.message, o.error.line,
                                           o.error.field)) for o in outs]


class Prestarted:
    """The forked process: `run(...)` hands it the records, `cancel()` ends it."""

    def __init__(self, settings: Settings, reg) -> None:
        import multiprocessing as mp

        from pebble import ProcessPool

        _WARM.clear()
        _WARM["args"] = (settings, reg)
        # pebble, not multiprocessing.Pool: a TERM sent to the build's process group kills
        # the worker while it waits for work, holding the Pool's queue lock, and the Pool's
        # terminate() then waits for that lock forever (the build never ended); pebble's
        # stop() ends its workers whatever they hold.
        self.pool = ProcessPool(max_workers=1, initializer=_warm, context=mp.get_context("fork"))
        self.pool.schedule(_started)  # forked now, while the build is small

    def run(self, todo: list, reference: list, approvals: list, progress=None) -> Running:
        """Validate `todo` (jobs whose triples hold no blank node) against `reference`
        and `approvals` (likewise)."""
        pending = self.pool.schedule(_validate, args=(
            [(j.source, _nt(j.triples), j.extra, j.subject) for j in todo],
            _nt(reference), _nt(approvals)))

        def result() -> list[Outcome]:
            try:
                rows = pending.result()
            finally:
                self.cancel()
            if progress is not None:
                progress(len(rows))
            return [Outcome(source=src, indicators=ind, subject=subj,
                            error=InputError(*err) if err else None)
                    for src, ind, subj, err in rows]

        return Running(result, self.cancel)

    def cancel(self) -> None:
        self.pool.stop()
        self.pool.join()


def portable(triples: list) -> bool:
    """Whether triples read back from N-Triples are the same terms (no blank node)."""
    return not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
                   for t in triples)
