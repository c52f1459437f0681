"""The build's validation: every harvested record validated while the build goes on,
the results written into the validation graph."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox

from dpgkg.config import Settings
from dpgkg.incremental import ValidationCache
from dpgkg.rdf import DPG, DPGSH, RDF, SDGO
from dpgkg.validation.batch import Running, start_many, worker_start
from dpgkg.validation.engine import (
    Engine,
    _goal_triples,
    _registry_dir,
    approved_licences,
    schema_approvals,
)
from dpgkg.validation.prestart import portable
from dpgkg.validation.records import _Job
from dpgkg.validation.status import INDICATORS, KEYS, InputError, Outcome


def validate_store_records(writer, harvested, settings: Settings, progress=None) -> dict:
    """Validate every harvested record graph and write the results into the validation
    graph: per record and indicator a ``dpg:ValidationResult`` with
    ``dpg:validatedRecord``, ``dpg:indicator``, ``dpg:status`` and ``dpg:message``.
    Returns counts per indicator and status (and the records failing any indicator)."""
    return start_store_validation(harvested, settings, progress).finish(writer)


@dataclass
class StoreValidation:
    """The build's validation, running: `finish(writer)` waits for it and writes the
    results (see :func:`validate_store_records`); `cancel()` stops it."""

    running: Running
    settings: Settings
    cache: ValidationCache | None = None
    jobs: list | None = None
    keys: list | None = None

    def finish(self, writer) -> dict:
        outcomes = self.running.result()
        if self.cache is not None:
            outcomes = self.cache.merge(self.jobs, self.keys, outcomes, _cached_outcome)
        counts = _write_results(writer, outcomes, self.settings)
        if self.cache is not None:
            counts["cache"] = self.cache.summary()
        return counts

    def save(self) -> None:
        """Keep the outcomes for the next build (once its version is swapped in)."""
        if self.cache is not None:
            self.cache.save()

    def cancel(self) -> None:
        self.running.cancel()


def _cached_outcome(job: _Job, indicators: dict) -> Outcome:
    return Outcome(source=job.source, indicators=indicators, subject=job.subject)


def start_store_validation(harvested, settings: Settings, progress=None,
                           cache: bool | None = None, prestarted=None) -> StoreValidation:
    """Start validating the harvested records (worker processes forked now, fed from a
    thread), so the build can load and infer meanwhile.

    `cache`: True takes the outcome of every record validated unchanged before from the
    build cache beside the store (:mod:`dpgkg.incremental`) and validates only the rest;
    False validates every record and writes the cache afresh; None uses no cache.
    `prestarted` (:class:`dpgkg.validation.prestart.Prestarted`, forked before the
    harvest) validates a few records; it is ended when it is not used."""
    reference = []
    goals = []
    for hg in harvested.graphs:
        if hg.key == "licences":
            reference.extend(hg.triples)
        elif not hg.key.startswith(("nominees/", "archive/", "excluded-nominees/")):
            goals.extend(t for t in hg.triples
                         if t.predicate == RDF.type and t.object == SDGO.Goal)
    reference += goals or _goal_triples(settings)
    reg = _registry_dir(settings, None)
    # approvals the schema gives but the licence page does not (see schema_only_licences)
    approvals = schema_approvals(settings, reg, approved_licences(settings, reg))
    jobs = [_Job(source=hg.key, triples=list(hg.triples), subject=hg.subject.value)
            for hg in harvested.graphs
            if hg.subject is not None and hg.key.startswith(
                ("nominees/", "archive/", "excluded-nominees/"))]
    if cache is None:
        return StoreValidation(start_many(jobs, _engine(settings, reg, reference, approvals),
                                          progress=progress), settings)
    store_cache = ValidationCache.open(settings.store, [*reference, *approvals], use=cache)
    keys, todo = store_cache.split(jobs)
    if progress is not None and len(todo) < len(jobs):
        progress(len(jobs) - len(todo))  # the records whose outcome is reused
    if prestarted is not None and (not todo or len(todo) >= FEW or not portable(
            [*reference, *approvals, *(t for j in todo for t in j.triples)])):
        prestarted.cancel()
        prestarted = None
    if not todo:  # nothing to validate: the shapes are not even read
        running = Running(list)
    elif prestarted is not None:
        running = prestarted.run(todo, reference, approvals, progress)
    elif len(todo) < FEW:
        running = _in_background(todo, (settings, reg, reference, approvals), progress)
    else:
        running = start_many(todo, _engine(settings, reg, reference, approvals),
                             progress=progress)
    return StoreValidation(running, settings, store_cache, jobs, keys)


# Fewer records than this (the changed records of an incremental build) are validated in
# one forked process that also reads the shapes, while the build loads and infers.
FEW = 96
_BACKGROUND: dict = {}


def _in_background(todo: list[_Job], engine_args: tuple, progress=None) -> Running:
    import multiprocessing as mp

    _BACKGROUND.update(todo=todo, engine_args=engine_args)
    # forked now, before the build opens its store; started as start_many's workers are
    pool = mp.get_context("fork").Pool(1, initializer=worker_start)
    pending = pool.apply_async(_validate_in_background)

    def cancel() -> None:
        pool.terminate()
        pool.join()
        _BACKGROUND.clear()

    def result() -> list[Outcome]:
        try:
            rows = pending.get()
        finally:
            cancel()
        if progress is not None:
            progress(len(rows))
        return [Outcome(source=src, indicators=ind, subject=subj,
                        error=InputError(*err) if err else None)
                for src, ind, subj, err in rows]

    return Running(result, cancel)


def _validate_in_background() -> list[tuple]:
    from dpgkg.validation.batch import _prepare_and_validate

    eng = _engine(*_BACKGROUND["engine_args"])
    outs = _prepare_and_validate(_BACKGROUND["todo"], eng, None, False)
    return [(o.source, o.indicators, o.subject,
             None if o.error is None else (o.error.source, o.error.message, o.error.line,
                                           o.error.field)) for o in outs]


def _engine(settings: Settings, reg, reference: list, approvals: list) -> Engine:
    eng = Engine(settings, reg, reference=reference)
    eng.set_reference(reference, approvals)
    return eng


def _write_results(writer, outcomes: list[Outcome], settings: Settings) -> dict:
    from dpgkg.iris import IRIs
    from dpgkg.rdf import DCT, PROV, lit

    iris = IRIs(settings.base_iri)
    graph = iris.validation_graph()
    triples: list[ox.Triple] = [
        ox.Triple(graph, RDF.type, PROV.Entity),
        ox.Triple(graph, DCT.title, lit("Validation of the registry records against the "
                                        "DPG Standard shapes")),
    ]
    counts: dict[str, Counter] = {k: Counter() for k in KEYS}
    failing = Counter()
    # ~60k triples at 1x, written as N-Triples lines (each term as pyoxigraph writes it)
    # and parsed by the store: ~5x faster than making each term and triple in Python.
    # The same few terms in every result are written once.
    a, result, validated, indicator, status, source_file, message = (str(t) for t in (
        RDF.type, DPG.ValidationResult, DPG.validatedRecord, DPG.indicator, DPG.status,
        DPG.sourceFile, DPG.message))
    indicators = {k: str(DPG[f"Indicator{k}"] if k in INDICATORS else (
        DPGSH.RegistryGroup if k == "registry" else DPGSH.StructureGroup)) for k in KEYS}
    structure = str(DPGSH.StructureGroup)
    statuses: dict[str, str] = {}
    lines: list[str] = []
    for o in outcomes:
        record = str(ox.NamedNode(o.subject))
        folder, rid = o.source.split("/", 1)
        source = str(ox.Literal(f"{o.source}.json"))
        for k, v in o.indicators.items():
            counts[k][v["status"]] += 1
            node = str(iris.part(graph, f"{folder}-{rid}-{k}"))
            ind = indicators.get(k) or indicators.setdefault(k, structure)
            st = statuses.get(v["status"]) or statuses.setdefault(v["status"],
                                                                  str(lit(v["status"])))
            lines += [f"{node} {a} {result} .", f"{node} {validated} {record} .",
                      f"{node} {indicator} {ind} .", f"{node} {status} {st} .",
                      f"{node} {source_file} {source} ."]
            for m in dict.fromkeys(f"{m['severity']}: {m['message']}" for m in v["messages"]):
                lines.append(f"{node} {message} {ox.Literal(m)} .")
        if not o.conforms:
            failing[folder] += 1
    writer.add_graph(graph, triples)
    if lines:
        writer.add_graph_nt(graph, "\n".join(lines).encode())
    return {
        "records": len(outcomes),
        "not_conforming": dict(failing),
        "by_indicator": {k: dict(c) for k, c in counts.items()},
    }
