"""Records and graphs validated in one pySHACL run, results filed per record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from dpgkg.config import Settings
from dpgkg.validation.engine import Engine, shared_engine
from dpgkg.validation.schema import schema_errors
from dpgkg.validation.status import InputError, Outcome, _answers, summarise
from dpgkg.validation.terms import _SH


def _record_file(record: dict, screening: dict | None, record_id: str | None, folder: str,
                 source: str):
    from dpgkg.iris import slugify
    from dpgkg.sources.registry import RegistryFile

    rid = record_id
    if not rid:
        name = record.get("name") if isinstance(record, dict) else None
        rid = slugify(name) if isinstance(name, str) and name.strip() else "record"
    return RegistryFile(folder=folder, record_id=rid, path=source, record=record,
                        screening=screening, screening_path=source if screening else None,
                        default_stage=None)


def _split_legacy(obj: dict) -> tuple[dict, dict | None]:
    """A legacy-API object (nominee and screening fields side by side) -> the two."""
    from dpgkg.sources.registry import SCREENING_SECTIONS

    record = {k: v for k, v in obj.items() if k not in SCREENING_SECTIONS and k != "id"}
    screening = {k: v for k, v in obj.items() if k in SCREENING_SECTIONS}
    if screening:
        screening["name"] = obj.get("name")
        return record, screening
    return record, None


@dataclass
class _Job:
    """One record to validate: its triples and what the summary needs besides SHACL."""

    source: str
    triples: list
    extra: list[dict] = field(default_factory=list)   # schema errors, harvest errors
    subject: str | None = None


def _record_job(rf, engine_: Engine, check_schema: bool = True) -> _Job:
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.registry import record_to_graph
    from dpgkg.iris import IRIs

    extra = schema_errors(rf.record, rf.screening, engine_, rf.folder) if check_schema else []
    ctx = HarvestContext(IRIs(engine_.settings.base_iri))
    hg, problems = record_to_graph(rf, ctx, engine_.licences)
    if hg is None:
        msg = "; ".join(p.message for p in problems) or "record could not be converted"
        fld = next((p.field for p in problems if p.field), None)
        raise InputError(rf.path, msg, field=fld)
    return _Job(source=rf.path, triples=list(hg.triples), extra=extra,
                subject=hg.subject.value if hg.subject is not None else None)


def validate_record(record: dict, screening: dict | None = None, *,
                    record_id: str | None = None, folder: str = "nominees",
                    source: str = "<record>", settings: Settings | None = None,
                    registry: str | Path | None = None, check_schema: bool = True) -> Outcome:
    """Validate one registry-format record (with its screening answers, if any).

    ``record`` may also hold the screening sections side by side (the legacy API form);
    they are split off when ``screening`` is not given. Raises :class:`InputError` when
    the record cannot be read (not an object, no name).
    """
    if not isinstance(record, dict):
        raise InputError(source, f"a record must be a JSON object, not {type(record).__name__}")
    if screening is None:
        record, screening = _split_legacy(record)
    elif isinstance(screening, dict) and "name" not in screening:
        screening = {"name": record.get("name"), **screening}
    eng = shared_engine(settings, registry)
    rf = _record_file(record, screening, record_id, folder, source)
    return _validate_jobs([_record_job(rf, eng, check_schema)], eng)[0]


def validate_graph(triples, source: str = "<graph>", settings: Settings | None = None,
                   registry: str | Path | None = None) -> Outcome:
    """Validate RDF (pyoxigraph triples or quads, or an rdflib graph) as it is."""
    if isinstance(triples, rdflib.Graph):
        data = triples.serialize(format="nt").encode()
        triples = [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)] if data \
            else []
    else:
        triples = [t.triple if isinstance(t, ox.Quad) else t for t in triples]
    eng = shared_engine(settings, registry)
    return _validate_jobs([_Job(source=source, triples=triples)], eng)[0]


def _validate_jobs(jobs: list[_Job], eng: Engine, keep_report: bool = True) -> list[Outcome]:
    """One pySHACL run over the union of the jobs' graphs; results filed per job."""
    if not jobs:
        return []
    graph = eng.data_graph([t for j in jobs for t in j.triples])
    results, report = eng.run(graph)
    if len(jobs) == 1:
        per_job = [results]
    else:
        owners: dict[str, set[int]] = {}
        for i, j in enumerate(jobs):
            for t in j.triples:
                if isinstance(t.subject, ox.NamedNode):
                    owners.setdefault(t.subject.value, set()).add(i)
        per_job = [[] for _ in jobs]
        for r in results:
            who = owners.get(r["value"] or "") or owners.get(r["focus"]) or set()
            if not who and r["focus"]:
                who = owners.get(r["focus"].split("#", 1)[0], set())
            for i in who:
                per_job[i].append(r)
    outcomes = []
    for j, rs in zip(jobs, per_job):
        answers, solutions = _answers(j.triples)
        indicators = summarise(rs, answers, has_solution=bool(solutions), extra=j.extra)
        rep = None
        if keep_report:
            rep = report if len(jobs) == 1 else _sub_report(report, rs)
        outcomes.append(Outcome(source=j.source, indicators=indicators, report=rep,
                                subject=j.subject or (min(solutions) if solutions else None)))
    return outcomes


def _sub_report(report: rdflib.Graph, results: list[dict]) -> rdflib.Graph:
    g = rdflib.Graph()
    for p, ns in report.namespaces():
        g.bind(p, ns)
    root = rdflib.BNode()
    g.add((root, rdflib.RDF.type, _SH.ValidationReport))
    conforms = not any(r["severity"] == "Violation" for r in results)
    g.add((root, _SH.conforms, rdflib.Literal(conforms)))
    todo = [r["_node"] for r in results]
    for n in todo:
        g.add((root, _SH.result, n))
    seen = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for p, o in report.predicate_objects(n):
            g.add((n, p, o))
            if isinstance(o, rdflib.BNode):
                todo.append(o)
    return g
