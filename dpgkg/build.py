"""The whole pipeline: sources -> harvest -> reason -> validate -> store (swapped in).

`build()` is what `dpgkg build` and the server's first start call. It writes a
new store version and swaps it in only when every step has succeeded, so a
failed build leaves the previous graph serving.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from dpgkg import reasoning
from dpgkg.config import ONTOLOGY_DIR, SHAPES_DIR, Settings
from dpgkg.harvest import HarvestContext, HarvestResult, Problem
from dpgkg.iris import IRIs
from dpgkg.publish.dumps import after_build
from dpgkg.rdf import DCT, DPG, ONTOLOGY_IRI, PROV, RDF, SHAPES_IRI, XSD, lit, parse_into
from dpgkg.sources import locate, read_bytes
from dpgkg.store import open_store
from dpgkg.store.base import StoreWriter

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


def ontology_files() -> list[Path]:
    return sorted(ONTOLOGY_DIR.glob("*.ttl"))


def shapes_files() -> list[Path]:
    return sorted(SHAPES_DIR.glob("*.ttl"))


def harvest_all(settings: Settings, ctx: HarvestContext, progress: Progress | None = None
                ) -> HarvestResult:
    """Read every source and convert it; problems are collected, not raised."""
    from dpgkg.harvest.alliance import harvest_alliance
    from dpgkg.harvest.countries import CountryMatcher, country_graph
    from dpgkg.harvest.licences import LicenceIndex
    from dpgkg.harvest.registry import harvest_registry
    from dpgkg.harvest.sdg import harvest_sdg
    from dpgkg.sources.countries import read_countries

    src = settings.sources
    result = HarvestResult()
    country_rows = read_countries(locate("countries", src))
    matcher = CountryMatcher(country_rows)
    result.graphs.append(country_graph(ctx, country_rows))
    result.extend(harvest_sdg(locate("sdg", src), locate("sdg-ontology", src), ctx))
    result.extend(harvest_alliance(
        {k: locate(k, src) for k in ("members", "recommendations", "roadmap", "compact")}, ctx))
    registry_location = locate("registry", src)
    licences = LicenceIndex.from_registry(registry_location)
    registry = harvest_registry(registry_location, ctx, countries=matcher, licences=licences)
    result.extend(registry)
    result.graphs.append(licences.licence_graph(ctx))
    if matcher.unmatched:
        result.problems.extend(
            Problem(source="registry", field="locations", severity="warning",
                    message=f"country name not matched: {name!r} ({n} records)")
            for name, n in sorted(matcher.unmatched.items()))
    return result


def load_tbox(settings: Settings) -> rdflib.Graph:
    """The ontology plus the SDG ontology: what reasoning compiles into rules."""
    g = rdflib.Graph()
    for f in ontology_files():
        g.parse(f, format="turtle")
    g.parse(data=read_bytes(locate("sdg-ontology", settings.sources)), format="turtle")
    return g


def build(settings: Settings, progress: Progress | None = None,
          validate: bool = True, publish: bool = True) -> BuildReport:
    """Build the graph from the sources into a new store version and swap it in."""
    report = BuildReport()
    step = _Timer(report, progress)
    iris = IRIs(settings.base_iri)
    t0 = time.perf_counter()

    with step("harvest"):
        ctx = HarvestContext(iris)
        harvested = harvest_all(settings, ctx, progress)
    report.problems = harvested.problems
    report.records = sum(1 for g in harvested.graphs if g.key.startswith(
        ("nominees/", "excluded-nominees/")) or (g.key.startswith("archive/")
                                                  and g.subject is not None))
    report.graphs = len(harvested.graphs)

    # Validation needs only the harvested records: its worker processes start now (forked
    # before the store is opened) and work while the graph is loaded and inferred.
    validation = None
    if validate:
        try:
            from dpgkg.validation import start_store_validation
        except ImportError:  # shapes not there yet
            start_store_validation = None
        if start_store_validation is not None:
            advance = progress("records validated", report.records) if progress else None
            validation = start_store_validation(harvested, settings, progress=advance)
    try:
        writer = _load_and_swap(settings, report, harvested, ctx, step, validation)
    finally:
        if validation is not None:
            validation.cancel()
    if publish:
        with step("publish"):  # dumps, VoID counts, change feed of the version just served
            try:
                after_build(settings, report, writer.committed, writer.merged_nt)
            except Exception as exc:  # noqa: BLE001 -- the new graph is served already: warn
                report.problems.append(Problem(source="publish", severity="warning",
                                               message=f"dumps not written: {exc}"))
    report.timings["total"] = time.perf_counter() - t0
    return report


def _load_and_swap(settings: Settings, report: BuildReport, harvested, ctx: HarvestContext,
                   step, validation) -> StoreWriter:
    """Load, infer, add the validation results, describe the build and swap it in;
    returns the writer, which holds the committed version as it staged it in memory."""
    iris = ctx.iris
    store = open_store(settings.store, settings=settings)
    with store.writer() as writer:
        with step("load"):
            for hg in harvested.graphs:
                writer.add_graph(hg.graph, hg.triples)
            for f in ontology_files():
                writer.add_quads(parse_into(f, ox.RdfFormat.TURTLE, ox.NamedNode(ONTOLOGY_IRI)))
            for f in shapes_files():
                writer.add_quads(parse_into(f, ox.RdfFormat.TURTLE, ox.NamedNode(SHAPES_IRI)))

        with step("reason"):
            rules = reasoning.compile_rules(load_tbox(settings))
            inferred_graph = iris.inferred_graph()
            report.inferred = reasoning.materialise(
                writer.query, lambda ts: writer.add_graph(inferred_graph, ts), rules)

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
                          lit(ctx.retrieved.isoformat().replace("+00:00", "Z"), XSD.dateTime)),
                ox.Triple(build_iri, DPG.tripleCount, lit(report.triples)),
                ox.Triple(build_iri, DPG.recordCount, lit(report.records)),
                ox.Triple(build_iri, DCT.identifier, lit(writer.version_id)),
            ])

        with step("swap"):
            report.version = writer.commit()
    return writer
