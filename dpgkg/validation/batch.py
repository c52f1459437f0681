"""Many records: batches of one pySHACL run each, over worker processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.validation.engine import Engine, _registry_dir, shared_engine
from dpgkg.validation.records import _Job, _record_job, _validate_jobs
from dpgkg.validation.status import InputError, Outcome, _answers

_POOL: dict = {}


def _prepare_and_validate(items: list, eng: Engine, prepare, keep_report: bool
                          ) -> list[Outcome]:
    """Turn items into jobs (``prepare``; an :class:`InputError` gives an error outcome)
    and validate them in one pySHACL run; outcomes in the order of the items."""
    slots: list = []
    jobs: list[_Job] = []
    for it in items:
        try:
            job = it if prepare is None else prepare(it, eng)
        except InputError as exc:
            slots.append(Outcome(source=exc.source, error=exc))
            continue
        slots.append(job)
        jobs.append(job)
    done: dict[int, Outcome] = {}
    for run in _disjoint_runs(jobs):
        done.update(zip(map(id, run), _validate_jobs(run, eng, keep_report)))
    return [done[id(s)] if isinstance(s, _Job) else s for s in slots]


def _job_keys(job: _Job) -> set[str]:
    """What must not be shared with another job of the same run: its solutions (their
    records' parts are hash IRIs of them), or every subject when it has none."""
    _, solutions = _answers(job.triples)
    if solutions:
        return solutions
    return {t.subject.value for t in job.triples if isinstance(t.subject, ox.NamedNode)}


def _disjoint_runs(jobs: list[_Job]) -> list[list[_Job]]:
    """Split jobs into runs whose resources do not collide (two inputs describing the
    same solution are validated apart, so results are never filed under the wrong one)."""
    runs: list[list[_Job]] = []
    keys: list[set[str]] = []
    for j in jobs:
        k = _job_keys(j)
        for run, used in zip(runs, keys):
            if not (k & used):
                run.append(j)
                used |= k
                break
        else:
            runs.append([j])
            keys.append(set(k))
    return runs


def _pool_run(i: int) -> list[tuple]:
    outs = _prepare_and_validate(_POOL["chunks"][i], _POOL["engine"], _POOL["prepare"], False)
    return [(o.source, o.indicators, o.subject,
             None if o.error is None else (o.error.source, o.error.message, o.error.line,
                                           o.error.field)) for o in outs]


def validate_many(items: list, eng: Engine, workers: int | None = None, batch: int = 48,
                  keep_report: bool = False, prepare=None, progress=None) -> list[Outcome]:
    """Validate many records in batches (one pySHACL run per batch), over `workers`
    processes (fork) when there are enough of them to pay for it. `items` are jobs, or
    anything `prepare(item, engine)` turns into one (then that work is parallel too).
    `progress(n)` is called with the number of records each finished batch held."""
    return start_many(items, eng, workers, batch, keep_report, prepare, progress).result()


class Running:
    """Validation started by :func:`start_many`: `result()` waits for the outcomes,
    `cancel()` ends the worker processes."""

    def __init__(self, run, cancel=lambda: None):
        self._run, self._cancel = run, cancel

    def result(self) -> list[Outcome]:
        return self._run()

    def cancel(self) -> None:
        self._cancel()


def worker_start() -> None:
    """What a forked validation worker sets first: the default SIGTERM (the pool ends
    it with it; the CLI's handler, which unwinds the build, is not the worker's to run),
    and the garbage collector on (a build turns it off in its own process; pySHACL's
    graphs make reference cycles)."""
    import gc

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gc.enable()


def start_many(items: list, eng: Engine, workers: int | None = None, batch: int = 48,
               keep_report: bool = False, prepare=None, progress=None) -> Running:
    """:func:`validate_many`, started: with worker processes, they are forked now (so a
    caller can start them before it opens anything that must not be forked, such as a
    store) and fed from a thread while the caller goes on."""
    tick = progress or (lambda n: None)
    if not items:
        return Running(list)
    eng.shapes_graph()           # build the shapes before forking
    chunks = [items[i:i + batch] for i in range(0, len(items), batch)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(items) >= 4 * batch else 1
    if workers <= 1 or len(chunks) == 1 or keep_report:
        def serial() -> list[Outcome]:
            out = []
            for c in chunks:
                out += _prepare_and_validate(c, eng, prepare, keep_report)
                tick(len(c))
            return out
        return Running(serial)
    import multiprocessing as mp
    import threading

    _POOL.update(chunks=chunks, engine=eng, prepare=prepare)
    # The workers take the default SIGTERM: the pool ends them with it, and the CLI's
    # handler (which unwinds the build) is not theirs to run.
    pool = mp.get_context("fork").Pool(workers, initializer=worker_start)
    parts: list = []
    failed: list[BaseException] = []

    def feed() -> None:
        try:
            for i, part in enumerate(pool.imap(_pool_run, range(len(chunks)), chunksize=1)):
                parts.append(part)
                tick(len(chunks[i]))
        except BaseException as exc:  # noqa: BLE001 - handed to result()
            failed.append(exc)

    feeder = threading.Thread(target=feed, name="validation-feed", daemon=True)
    feeder.start()

    def result() -> list[Outcome]:
        try:
            feeder.join()
        finally:
            cancel()
        if failed:
            raise failed[0]
        return [Outcome(source=src, indicators=ind, subject=subj,
                        error=InputError(*err) if err else None)
                for part in parts for src, ind, subj, err in part]

    def cancel() -> None:
        pool.terminate()
        pool.join()
        _POOL.clear()

    return Running(result, cancel)


def _prepare_registry_file(rf, eng: Engine) -> _Job:
    return _record_job(rf, eng, True)


def validate_registry(location: str | Path | None = None, settings: Settings | None = None,
                      workers: int | None = None) -> list[Outcome]:
    """Validate every record of a registry directory (or archive, or legacy list); a
    record that cannot be read gives an outcome with ``error`` set."""
    from dpgkg.sources.registry import read_registry

    settings = settings or Settings()
    if location is None:
        reg = _registry_dir(settings, None)
        if reg is None:
            raise InputError("registry", "no registry found: pass --sources DIR")
        location = reg
    eng = shared_engine(settings, location if Path(str(location)).is_dir() else None)
    files, problems = read_registry(str(location))
    errors = [Outcome(source=p.source, error=InputError(p.source, p.message, field=p.field))
              for p in problems if p.severity == "error"]
    return errors + validate_many(files, eng, workers, prepare=_prepare_registry_file)
