"""The whole pipeline: sources -> harvest -> reason -> validate -> store (swapped in).

`build()` is what `dpgkg build` and the server's first start call. It writes a
new store version and swaps it in only when every step has succeeded, so a
failed build leaves the previous graph serving.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from dpgkg import reasoning
from dpgkg.config import ONTOLOGY_DIR, SHAPES_DIR, Settings, asset_files
from dpgkg.harvest import HarvestContext, HarvestResult, Problem
from dpgkg.harvest.provenance import generation_time
from dpgkg.incremental import (
    cache_root,
    graph_digests,
    keep_generation_times,
    keep_records,
    record_memo,
)
from dpgkg.iris import IRIs
from dpgkg.publish.dumps import change_counts, dumps_root, publish_dumps, publishing
from dpgkg.rdf import DCT, DPG, ONTOLOGY_IRI, PROV, RDF, SHAPES_IRI, lit, parse_into
from dpgkg.sources import locate, named, read_bytes
from dpgkg.sources.data import alliance_locations, organisation_rows
from dpgkg.store import open_store
from dpgkg.store.base import NoGraph, Store, StoreWriter

log = logging.getLogger(__name__)

# progress(step) announces a step; progress(step, total) opens a bar for it and
# returns a function that advances it (or None for no bar).
Progress = Callable[..., Callable[[int], None] | None]


@dataclass
class BuildReport:
    version: str = ""
    records: int = 0
    graphs: int = 0
    triples: int = 0
    inferred: int = 0
    problems: list[Problem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    def summary(self) -> dict:
        reasons = Counter(p.message.split(":")[0] for p in self.skipped)
        return {
            "version": self.version,
            "records": self.records,
            "graphs": self.graphs,
            "triples": self.triples,
            "inferred": self.inferred,
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(reasons),
            "warnings": len(self.warnings),
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
            **self.extra,
        }


class _Timer:
    def __init__(self, report: BuildReport, progress: Progress | None):
        self.report, self.progress = report, progress

    def __call__(self, step: str):
        timer = self

        class _Step:
            def __enter__(self):
                if timer.progress:
                    timer.progress(step)
                self.t0 = time.perf_counter()

            def __exit__(self, *exc):
                timer.report.timings[step] = time.perf_counter() - self.t0
                return False

        return _Step()


class ShrinkRefused(Exception):
    """The new version lost more than the share allowed of what the served one holds."""

    def __init__(self, losses: dict[str, tuple[int, int]], served: str, limit: float,
                 report: BuildReport):
        self.losses, self.served, self.limit, self.report = losses, served, limit, report
        super().__init__(str(self))

    def __str__(self) -> str:
        lost = ", ".join(f"{what} {old} -> {new} (-{_share(old, new):.0%})"
                         for what, (old, new) in self.losses.items())
        return (f"the new graph has lost more than {self.limit:.0%} (DPGKG_MAX_SHRINK) of "
                f"what version {self.served} serves: {lost}; it was not swapped in. If the "
                "sources really shrank, build again with --allow-shrink")


def _share(old: int, new: int) -> float:
    return (old - new) / old if old else 0.0


_SOLUTIONS = f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{DPG.Solution.value}> }}"
_SERVED_BUILD = (f"SELECT ?t ?r {{ ?b <{DPG.tripleCount.value}> ?t ; "
                 f"<{DPG.recordCount.value}> ?r }} ORDER BY DESC(?t) LIMIT 1")
_TRIPLES = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"


def _count(results) -> int:
    row = next(iter(results), None)
    return int(row["n"].value) if row is not None and row["n"] is not None else 0


def check_shrink(store: Store, writer: StoreWriter, report: BuildReport, settings: Settings,
                 allow_shrink: bool) -> dict | None:
    """Solutions, records and triples of the version served and of the new one
    ({what: [served, new]}, None when nothing is served yet); raises ShrinkRefused when
    one of them fell by more than ``settings.max_shrink`` and not `allow_shrink`."""
    try:
        served = store.version()
        old_solutions = _count(store.query(_SOLUTIONS))
        row = next(iter(store.query(_SERVED_BUILD)), None)
        if row is not None:
            old_triples, old_records = int(row["t"].value), int(row["r"].value)
        else:  # a graph not made by a build (a hand-loaded store): count what it has
            old_triples, old_records = _count(store.query(_TRIPLES)), None
    except NoGraph:
        return None
    finally:
        store.close()
    counts = {"solutions": (old_solutions, _count(writer.query(_SOLUTIONS))),
              "records": (old_records, report.records),
              "triples": (old_triples, report.triples)}
    counts = {k: v for k, v in counts.items() if v[0] is not None}
    losses = {k: v for k, v in counts.items() if _share(*v) > settings.max_shrink}
    if losses and not allow_shrink:
        raise ShrinkRefused(losses, served, settings.max_shrink, report)
    if losses:
        report.problems.append(Problem(
            source="build", severity="warning", message="allowed to shrink (--allow-shrink): "
            + ", ".join(f"{k} {o} -> {n}" for k, (o, n) in losses.items())))
    return {k: list(v) for k, v in counts.items()}


def ontology_files() -> list[Path]:
    return asset_files(ONTOLOGY_DIR, "*.ttl")


def shapes_files() -> list[Path]:
    return asset_files(SHAPES_DIR, "*.ttl")


def harvest_all(settings: Settings, ctx: HarvestContext, progress: Progress | None = None,
                cache: bool | None = None, memo=None, notes: dict | None = None
                ) -> HarvestResult:
    """Read every source and convert it; problems are collected, not raised.

    `cache`: True takes what the organisation table leaves unsettled from the build cache
    beside the store when the names are unchanged, False computes it and writes the cache
    afresh, None uses none. `memo`: the registry records converted by earlier builds
    (:func:`dpgkg.incremental.record_memo`). `notes` (the build summary's) is told
    whether the history's fold was reused."""
    from dpgkg.harvest.alliance import harvest_alliance
    from dpgkg.harvest.countries import CountryMatcher, country_graph
    from dpgkg.harvest.licences import LicenceIndex
    from dpgkg.harvest.organisations import OrganisationTable, organisation_graph, reconcile
    from dpgkg.harvest.registry import harvest_registry
    from dpgkg.harvest.sdg import harvest_sdg
    from dpgkg.incremental import reconcile_problems
    from dpgkg.sources.countries import read_countries

    result = HarvestResult()
    with named("countries"):
        country_rows = read_countries(locate("countries", settings))
    matcher = CountryMatcher(country_rows)
    result.graphs.append(country_graph(ctx, country_rows))
    with named("sdg"):
        result.extend(harvest_sdg(locate("sdg", settings), locate("sdg-ontology", settings),
                                  ctx))
    # The alliance's tables and the organisation table are this project's own facts:
    # data/, never a sources directory.
    organisations = OrganisationTable(organisation_rows())
    names: Counter = Counter()
    result.extend(harvest_alliance(alliance_locations(), ctx, organisations, names))
    registry_location = locate("registry", settings)
    with named("registry"):
        licences = LicenceIndex.from_registry(registry_location)
        registry = harvest_registry(registry_location, ctx, countries=matcher,
                                    licences=licences, organisations=organisations,
                                    organisation_names=names, memo=memo)
    result.extend(registry)
    result.problems.extend(_history(settings, registry, ctx, licences, cache, notes))
    _schema_approvals(settings, licences)
    result.graphs.append(licences.licence_graph(ctx))
    result.graphs.append(organisation_graph(organisations, ctx))
    # the table's own problems, and how many candidate pairs it does not settle yet
    if cache is None:
        result.problems.extend(reconcile(organisations, names).problems)
    else:
        result.problems.extend(reconcile_problems(organisations, names, settings.store,
                                                  use=cache))
    if matcher.unmatched:
        result.problems.extend(
            Problem(source="registry", field="locations", severity="warning",
                    message=f"country name not matched: {name!r} ({n} records)")
            for name, n in sorted(matcher.unmatched.items()))
    return result


def organisation_reconciliation(settings: Settings):
    """What data/organisations.csv makes of every organisation name the registry and the
    member list write (`dpgkg organisations`): merged groups, units, unsettled pairs."""
    from dpgkg.harvest.organisations import OrganisationTable, reconcile, record_names
    from dpgkg.sources.reference import read_csv_rows
    from dpgkg.sources.registry import open_registry

    names: Counter = Counter()
    for row in read_csv_rows(alliance_locations()["members"]):
        names.update(n for n in (row.values.get("name"), row.values.get("predecessor")) if n)
    with named("registry"):
        snap = open_registry(locate("registry", settings))
    for rf in snap.files:
        names.update(record_names(rf.record))
    return reconcile(OrganisationTable(organisation_rows()), names)
def _schema_approvals(settings: Settings, licences) -> None:
    """What validation takes as approved, the licence graph says is approved: the licences
    the registry's nominee schema accepts beyond its approved-licence page (OGL-UK-3.0)."""
    import json

    from dpgkg.sources import registry_file
    from dpgkg.validation.engine import schema_only_licences

    with named("registry nominee-schema.json"):
        schema = json.loads(registry_file("nominee-schema.json", settings))
    for lid, sections in schema_only_licences(schema, licences).items():
        for section in sections:
            licences.approved.setdefault(section, set()).add(lid)


def _history(settings: Settings, registry: HarvestResult, ctx: HarvestContext,
             licences, cache: bool | None = None, notes: dict | None = None) -> list[Problem]:
    """Dates and changes from the registry's git history onto the record graphs; without
    a history, one warning that they are unknown. A history that cannot be read or is not
    the registry stops the build (SourceError) before the store is touched."""
    from dpgkg.harvest.history import attach_folded, fold
    from dpgkg.incremental import history_fold
    from dpgkg.sources.history import head_commit, open_history, read_history

    if not settings.history:
        return [Problem(source="history", severity="warning", message=(
            "no registry history given (--history PATH|URL, DPGKG_HISTORY): records' dates "
            "(dct:issued, dct:modified) and stage changes are unknown and left out"))]
    with named("history"):
        repo = open_history(settings.history, settings.cache_dir)
        head = head_commit(repo)

    def normalise(raw: str) -> str | None:
        return licences.normalise(raw, record_use=False)[0]

    def compute() -> tuple:
        with named("history"):
            history = read_history(repo, settings.history, settings.cache_dir)
        return fold(history, normalise), history.problems

    folded, problems, how = history_fold(settings.store, head, compute, use=bool(cache))
    if notes is not None:
        notes["history_fold"] = how
    return attach_folded(registry, folded, problems, ctx,
                         lambda key: licences.info(key) is not None)


def _sdg_ontology(settings: Settings) -> bytes:
    with named("sdg-ontology"):
        return read_bytes(locate("sdg-ontology", settings))


def load_tbox(settings: Settings) -> rdflib.Graph:
    """The ontology plus the SDG ontology: what reasoning compiles into rules."""
    g = rdflib.Graph()
    for f in ontology_files():
        g.parse(f, format="turtle")
    g.parse(data=_sdg_ontology(settings), format="turtle")
    return g


def build(settings: Settings, progress: Progress | None = None,
          validate: bool = True, publish: bool = True, allow_shrink: bool = False,
          full: bool = False) -> BuildReport:
    """Build the graph from the sources into a new store version and swap it in.

    Records validated unchanged by an earlier build into this store keep their outcome
    (the build cache, :mod:`dpgkg.incremental`) unless `full`; the graph and dumps are
    the same either way.

    With `publish`, the dumps, VoID counts and change feed entry of the new version are
    written before it is swapped in. A version that has lost more than
    ``settings.max_shrink`` of the solutions, records or triples of the one served is
    not swapped in (:class:`ShrinkRefused`) unless `allow_shrink`.
    """
    # The harvest and the staged store make millions of small objects that live until the
    # build ends and hold no reference cycles to speak of: the collector's full passes
    # over them cost ~0.3 s of every build (~10% of one that changed a record) for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(settings, progress, validate, publish, allow_shrink, full)
    finally:
        if collecting:
            gc.enable()


def _build(settings: Settings, progress: Progress | None, validate: bool, publish: bool,
           allow_shrink: bool, full: bool) -> BuildReport:
    report = BuildReport()
    step = _Timer(report, progress)
    iris = IRIs(settings.base_iri)
    t0 = time.perf_counter()

    # An incremental build validates few records: the process that will is forked now,
    # while this one is small, and reads the shapes during the harvest.
    prestarted = None
    if validate and not full and cache_root(settings.store) is not None:
        from dpgkg.validation.engine import _registry_dir
        from dpgkg.validation.prestart import Prestarted

        prestarted = Prestarted(settings, _registry_dir(settings, None))
    try:
        return _harvest_and_swap(settings, progress, validate, publish, allow_shrink, full,
                                 report, step, iris, t0, prestarted)
    finally:
        if prestarted is not None:
            prestarted.cancel()


def _harvest_and_swap(settings: Settings, progress: Progress | None, validate: bool,
                      publish: bool, allow_shrink: bool, full: bool, report: BuildReport,
                      step, iris: IRIs, t0: float, prestarted) -> BuildReport:
    with step("harvest"):
        ctx = HarvestContext(iris)
        memo = record_memo(settings.store, use=not full)
        harvested = harvest_all(settings, ctx, progress, cache=not full, memo=memo,
                                notes=report.extra)
        if memo is not None:
            report.extra["harvest_cache"] = memo.summary()
        digests = graph_digests(harvested.graphs)
        if settings.store:  # graphs unchanged keep the time the version served gives
            served = open_store(settings.store, settings=settings)
            try:
                report.extra["generation_times_kept"] = keep_generation_times(
                    harvested.graphs, digests, generation_time(ctx), served,
                    dumps_root(settings.store))
            finally:
                served.close()
    report.problems = harvested.problems
    report.records = sum(1 for g in harvested.graphs if g.key.startswith(
        ("nominees/", "excluded-nominees/")) or (g.key.startswith("archive/")
                                                  and g.subject is not None))
    report.graphs = len(harvested.graphs)

    # Validation needs only the harvested records: its worker processes start now (forked
    # before the store is opened) and work while the graph is loaded and inferred.
    validation = None
    if validate:
        from dpgkg.validation import start_store_validation

        advance = progress("records validated", report.records) if progress else None
        validation = start_store_validation(harvested, settings, progress=advance,
                                            cache=not full, prestarted=prestarted)
    try:
        _load_and_swap(settings, report, harvested, ctx, step, validation, publish,
                       allow_shrink, full, digests)
        if validation is not None:
            validation.save()  # only once the version is served
        keep_records(settings.store, memo)
    finally:
        if validation is not None:
            validation.cancel()
    report.timings["total"] = time.perf_counter() - t0
    return report


def _load_and_swap(settings: Settings, report: BuildReport, harvested, ctx: HarvestContext,
                   step, validation, publish: bool, allow_shrink: bool, full: bool = False,
                   digests: dict | None = None) -> StoreWriter:
    """Load, infer, add the validation results, describe the build, check it against
    the version served, publish its dumps and swap it in (written as its difference from
    the version served, when the build cache holds that one and not `full`); returns
    the writer."""
    from dpgkg.incremental import compiled_rules, keep_baseline, served_baseline

    iris = ctx.iris
    store = open_store(settings.store, settings=settings)
    with store.writer() as writer, (publishing(settings.store, writer.version_id)
                                    if publish else contextlib.nullcontext()):
        tracked = hasattr(writer, "start_from") and cache_root(settings.store) is not None
        if tracked:
            writer.keep_staged = True
            baseline = None if full else served_baseline(settings.store)
            if baseline is not None:
                writer.start_from(*baseline)
        with step("load"):
            # one call for every graph: each call is a transaction of its own
            writer.add_quads(ox.Quad(t.subject, t.predicate, t.object, hg.graph)
                             for hg in harvested.graphs for t in hg.triples)
            for f in ontology_files():
                writer.add_quads(parse_into(f, ox.RdfFormat.TURTLE, ox.NamedNode(ONTOLOGY_IRI)))
            for f in shapes_files():
                writer.add_quads(parse_into(f, ox.RdfFormat.TURTLE, ox.NamedNode(SHAPES_IRI)))

        with step("reason"):
            inferred_graph = iris.inferred_graph()
            add = lambda ts: writer.add_graph(inferred_graph, ts)
            if settings.reasoner == "owlrl":
                report.inferred = reasoning.materialise_owlrl(writer.query, add,
                                                              load_tbox(settings))
            elif settings.reasoner == "fast":
                rules, how = compiled_rules(
                    settings.store, _sdg_ontology(settings),
                    lambda: reasoning.compile_rules(load_tbox(settings)), use=not full)
                report.extra["rules"] = how
                report.inferred = reasoning.materialise(writer.query, add, rules,
                                                        graph=inferred_graph.value)
            else:
                raise ValueError(f"reasoner {settings.reasoner!r}: expected one of "
                                 f"{', '.join(reasoning.REASONERS)}")

        if validation is not None:
            with step("validate"):  # what is left of it: it started after the harvest
                report.extra["validation"] = validation.finish(writer)

        with step("describe"):
            build_iri = iris.build(writer.version_id)
            n = next(iter(writer.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")))
            report.triples = int(n["n"].value)
            writer.add_graph(iris.reference_graph("build"), [
                ox.Triple(build_iri, RDF.type, PROV.Activity),
                ox.Triple(build_iri, PROV.endedAtTime,
                          generation_time(ctx)),
                ox.Triple(build_iri, DPG.tripleCount, lit(report.triples)),
                ox.Triple(build_iri, DPG.recordCount, lit(report.records)),
                ox.Triple(build_iri, DCT.identifier, lit(writer.version_id)),
            ])

        with step("check"):
            report.extra["shrink"] = check_shrink(store, writer, report, settings,
                                                  allow_shrink)

        def before_swap(version: str, staged, merged_nt) -> None:
            with step("publish"):  # dumps, VoID counts, change feed of the new version
                difference = getattr(writer, "written_difference", None)
                entry = publish_dumps(settings, version, staged, merged_nt, difference,
                                      digests)
            if entry is not None:
                report.extra["changes"] = change_counts(entry)

        with step("swap"):  # the new version written to the store, published, swapped in
            report.version = writer.commit(before_swap=before_swap if publish else None)
        # publishing runs beside the writing of the version (see EmbeddedWriter.commit):
        # "swap" is what the swap took beyond it
        report.timings["swap"] = max(0.0, report.timings["swap"]
                                     - report.timings.get("publish", 0.0))
        if tracked:
            report.extra["store_delta"] = writer.delta
            keep_baseline(settings.store, report.version, writer.staged_nquads)
    return writer
