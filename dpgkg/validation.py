"""Validate records against the DPG Standard (``shapes/*.ttl``) and say, per indicator,
whether they pass.

Inputs (:func:`validate_paths`): registry-format JSON (a nominee record alone, a record
with its screening answers side by side like the legacy API, a legacy API list, or a
directory laid out like the registry), JSON-LD, Turtle, or a directory of them.
Registry JSON is first checked against the registry's own JSON Schemas
(``nominee-schema.json``, ``screening-schema.json``); each schema error is filed under the
indicator its field concerns. The record is then converted by the harvester
(:func:`dpgkg.harvest.registry.record_to_graph`) and validated with pySHACL.

Speed. pySHACL spends its time per shape and per focus node, not per triple, so:

* the shapes graph is parsed and its shapes built once per process (:class:`Engine`,
  cached at module level) and reused by every run;
* the data graph of a run is the record's own triples plus only the reference triples
  they point at (the SDG goal, the licences, the ontology's class hierarchy), never the
  whole reference graphs;
* many records are validated in batches (one pySHACL run over the union of their
  graphs: the indicator shapes target the indicator resources, so one run handles every
  record's answers), spread over two processes for the whole registry; each result is
  filed under the record whose resource it is about.

Output per input (:class:`Outcome`)::

    {"conforms": bool, "indicators": {"1": {"status": "pass|fail|not-applicable|
     not-answered", "messages": [...]}, ..., "9c": {...}, "registry": {...},
     "structure": {...}}}

and the SHACL report graph (Turtle or JSON-LD). Status: ``fail`` when a Violation (or
a schema error) concerns the indicator; else ``not-answered`` for 3-9c when the record
has no screening answers at all; else ``not-applicable`` for 4, 6, 9a, 9b, 9c when the
answer to the condition question is not "Yes"; else ``pass`` (Warnings are listed as
messages but do not fail an indicator).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from dpgkg.config import SHAPES_DIR, Settings
from dpgkg.rdf import DPG, DPGSH, RDF, RDFS, SDGO, SH, SKOS, XSD

__all__ = [
    "CONDITIONS",
    "INDICATORS",
    "KEYS",
    "Engine",
    "InputError",
    "Outcome",
    "engine",
    "validate_data",
    "validate_graph",
    "validate_paths",
    "validate_record",
    "validate_registry",
    "validate_store_records",
]

INDICATORS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "9a", "9b", "9c")
KEYS = (*INDICATORS, "registry", "structure")
SCREENED = INDICATORS[2:]
# Conditional indicators: the screening property whose "Yes" makes them apply.
CONDITIONS = {
    "4": "mandatoryDepsCreateMoreRestrictions",
    "6": "collectsNonPII",
    "9a": "collectsPII",
    "9b": "collectStoreDistribute",
    "9c": "userInteraction",
}
STATUSES = ("pass", "fail", "not-applicable", "not-answered")

# Nominee-schema fields filed under an indicator; every other field is "registry".
NOMINEE_FIELD_KEY = {"license": "2", "SDGs": "1"}
SCREENING_SECTION_KEY = {
    "clearOwnership": "3", "platformIndependence": "4", "documentation": "5", "NonPII": "6",
    "privacy": "7", "standards": "8", "doNoHarm.preventHarm": "9",
    "doNoHarm.dataPrivacySecurity": "9a", "doNoHarm.inappropriateIllegalContent": "9b",
    "doNoHarm.protectionFromHarassment": "9c",
}
JSON_SUFFIXES = (".json",)
JSONLD_SUFFIXES = (".jsonld", ".json-ld")
TURTLE_SUFFIXES = (".ttl", ".turtle")

_SOLUTION_CLASSES = {DPG.Solution.value, DPG.DigitalPublicGood.value, DPG.Nominee.value,
                     DPG.ArchivedSolution.value, DPG.ExcludedSolution.value}
_SH = rdflib.Namespace(str(SH))
_XSD_STRING = XSD.string.value


class InputError(Exception):
    """An input that could not be read: where, and why."""

    def __init__(self, source: str, message: str, line: int | None = None,
                 field: str | None = None):
        self.source, self.message, self.line, self.field = source, message, line, field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


# --------------------------------------------------------------------------- outcome

@dataclass
class Outcome:
    """The validation of one input (a record, a graph file), or why it could not be read."""

    source: str
    indicators: dict = field(default_factory=dict)
    report: rdflib.Graph | None = None
    error: InputError | None = None
    subject: str | None = None          # the solution IRI, for records

    @property
    def conforms(self) -> bool:
        return self.error is None and all(v["status"] != "fail"
                                          for v in self.indicators.values())

    def summary(self, with_source: bool = False) -> dict:
        if self.error is not None:
            out = {"conforms": False, "error": str(self.error)}
        else:
            out = {"conforms": self.conforms, "indicators": self.indicators}
        return {"source": self.source, **out} if with_source else out

    def failing(self) -> list[str]:
        return [k for k, v in self.indicators.items() if v["status"] == "fail"]

    def report_text(self, fmt: str = "turtle") -> str:
        graph = self.report if self.report is not None else _empty_report()
        if fmt in ("json-ld", "jsonld"):
            return _report_jsonld(graph)
        return graph.serialize(format="turtle")


def _empty_report() -> rdflib.Graph:
    g = rdflib.Graph()
    r = rdflib.BNode()
    g.add((r, rdflib.RDF.type, _SH.ValidationReport))
    g.add((r, _SH.conforms, rdflib.Literal(True)))
    return g


def _report_jsonld(graph: rdflib.Graph) -> str:
    return _nt_to_jsonld(graph)


def _nt_to_jsonld(graph: rdflib.Graph) -> str:
    """Expanded JSON-LD (flattened node objects) of a small graph, written by hand so no
    JSON-LD processor (and no context loading) is involved."""
    nodes: dict[str, dict] = {}

    def ref(term) -> dict:
        if isinstance(term, rdflib.BNode):
            return {"@id": f"_:{term}"}
        if isinstance(term, rdflib.URIRef):
            return {"@id": str(term)}
        out: dict = {"@value": str(term)}
        if term.language:
            out["@language"] = term.language
        elif term.datatype and str(term.datatype) != _XSD_STRING:
            out["@type"] = str(term.datatype)
        return out

    for s, p, o in sorted(graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        sid = ref(s)["@id"]
        node = nodes.setdefault(sid, {"@id": sid})
        if p == rdflib.RDF.type:
            node.setdefault("@type", []).append(str(o))
        else:
            node.setdefault(str(p), []).append(ref(o))
    return json.dumps(list(nodes.values()), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- terms

def _to_rdflib(term):
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dt = term.datatype.value
        if dt == _XSD_STRING:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(dt))
    raise TypeError(f"unsupported term {term!r}")


def _triple_to_rdflib(t) -> tuple:
    return (_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object))


def _plain(term) -> str:
    return str(term) if term is not None else ""


# --------------------------------------------------------------------------- engine

def _sources_dir(settings: Settings | None) -> Path | None:
    from dpgkg.sources import DEFAULT_SOURCES

    if settings is not None and settings.sources:
        return Path(settings.sources)
    return DEFAULT_SOURCES if DEFAULT_SOURCES.is_dir() else None


def _registry_dir(settings: Settings | None, registry: str | Path | None) -> Path | None:
    if registry is not None:
        p = Path(registry)
        return p if p.is_dir() else None
    src = _sources_dir(settings)
    if src is not None and (src / "registry").is_dir():
        return src / "registry"
    return None


def _goal_triples(sources: Path | None) -> list:
    """``sdg:N a sdgo:Goal, skos:Concept`` for the goals of the UN SDG KOS (read from the
    sources; the 17 goal IRIs themselves when the KOS file is not there)."""
    kos = sources / "sdg" / "sdg-kos-goals-targets-indicators.ttl" if sources else None
    goals: list[ox.NamedNode] = []
    if kos is not None and kos.is_file():
        for q in ox.parse(path=str(kos), format=ox.RdfFormat.TURTLE):
            if q.predicate == RDF.type and q.object == SDGO.Goal:
                goals.append(q.subject)
    if not goals:
        goals = [ox.NamedNode(f"http://metadata.un.org/sdg/{n}") for n in range(1, 18)]
    out = []
    for g in goals:
        out.append(ox.Triple(g, RDF.type, SDGO.Goal))
        out.append(ox.Triple(g, RDF.type, SKOS.Concept))
    return out


def schema_only_licences(registry: Path | None, index) -> dict[str, list[str]]:
    """Licence ids the registry's nominee schema accepts but its approved-licence page
    (help-center/licenses.md) does not list, with the types they are taken as approved
    for: an OSI-approved one for software, any other for data and content. (In the
    registry this is OGL-UK-3.0, an Open Definition conformant data licence.)"""
    if registry is None or not (registry / "nominee-schema.json").is_file():
        return {}
    try:
        schema = json.loads((registry / "nominee-schema.json").read_text(encoding="utf-8"))
        enum = schema["properties"]["license"]["items"]["properties"]["spdx"]["enum"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    approved = set().union(*index.approved.values()) if index.approved else set()
    out: dict[str, list[str]] = {}
    for raw in enum:
        current, _ = index.normalise(raw, record_use=False)
        if current is None or current in approved:
            continue
        info = index.info(current)
        out[current] = ["Software"] if info is not None and info.osi else ["Data", "Content"]
    return out


def _licence_triples(registry: Path | None) -> tuple[list, object]:
    """The licence resources of every SPDX licence (dpg:osiApproved, ...) with
    dpg:approvedFor from the registry's approved list, plus the schema-only approvals."""
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.licences import LicenceIndex, _table
    from dpgkg.iris import IRIs

    if registry is not None:
        index = LicenceIndex.from_registry(str(registry))
    else:
        index = LicenceIndex()
    index.used |= set(_table())
    triples = list(index.licence_graph(HarvestContext(IRIs())).triples)
    for lid, sections in schema_only_licences(registry, index).items():
        for section in sections:
            triples.append(ox.Triple(ox.NamedNode(f"http://spdx.org/licenses/{lid}"),
                                     DPG.approvedFor, DPG[section]))
    return triples, index


def _ontology_triples() -> list:
    """The class and property hierarchy of the ontology (so sh:targetClass dpg:Solution
    finds a resource typed only dpg:DigitalPublicGood)."""
    from dpgkg.config import ONTOLOGY_DIR

    keep = {RDFS.subClassOf, RDFS.subPropertyOf}
    out = []
    for f in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        for q in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE):
            if q.predicate in keep and isinstance(q.object, ox.NamedNode) and isinstance(
                    q.subject, ox.NamedNode):
                out.append(ox.Triple(q.subject, q.predicate, q.object))
    return out


class Engine:
    """The shapes (built once) and the reference data a record is validated against."""

    def __init__(self, settings: Settings | None = None, registry: str | Path | None = None,
                 reference: list | None = None):
        self.settings = settings or Settings()
        self.registry = _registry_dir(self.settings, registry)
        self.sources = _sources_dir(self.settings)
        self.shapes = rdflib.Graph(store="SimpleMemory")
        for f in sorted(SHAPES_DIR.glob("*.ttl")):
            self.shapes.parse(f, format="turtle")
        self.shape_key = self._shape_keys()
        if reference is None:
            licences, self.licences = _licence_triples(self.registry)
            reference = licences + _goal_triples(self.sources)
        else:
            self.licences = None
        self._ref: dict[str, list[tuple]] = {}
        for t in reference:
            if isinstance(t.subject, ox.NamedNode):
                self._ref.setdefault(t.subject.value, []).append(_triple_to_rdflib(t))
        self._hierarchy = [_triple_to_rdflib(t) for t in _ontology_triples()]
        self._shapes_graph = None     # pyshacl ShapesGraph, built on first run
        self._schemas: tuple | None = None

    # -- shapes
    def _shape_keys(self) -> dict:
        """Shape node -> indicator key ('1'..'9c', 'registry', 'structure'), by sh:group."""
        group_key = {}
        for group in self.shapes.subjects(rdflib.RDF.type, _SH.PropertyGroup):
            ind = self.shapes.value(group, rdflib.URIRef(DPG.forIndicator.value))
            if ind is not None:
                group_key[group] = str(ind).rsplit("#Indicator", 1)[-1]
            elif str(group).endswith("RegistryGroup"):
                group_key[group] = "registry"
            else:
                group_key[group] = "structure"
        return {s: group_key.get(g, "structure")
                for s, g in self.shapes.subject_objects(_SH.group)}

    def shapes_graph(self):
        from pyshacl.shapes_graph import ShapesGraph

        _speed_up_pyshacl()
        if self._shapes_graph is None:
            sg = ShapesGraph(self.shapes)
            _ = sg.shapes          # harvest the shapes once
            self._shapes_graph = sg
        return self._shapes_graph

    # -- JSON schemas
    def schemas(self):
        """(nominee validator, screening validator), None where the schema is missing."""
        if self._schemas is None:
            import jsonschema

            out = []
            for name in ("nominee-schema.json", "screening-schema.json"):
                path = self.registry / name if self.registry is not None else None
                if path is None or not path.is_file():
                    out.append(None)
                    continue
                schema = json.loads(path.read_text(encoding="utf-8"))
                cls = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
                out.append(cls(schema))
            self._schemas = tuple(out)
        return self._schemas

    # -- data graphs
    def data_graph(self, triples) -> rdflib.Graph:
        """A run's data graph: the triples plus the reference triples they point at."""
        g = rdflib.Graph()
        add = g.add
        seen_ref: set[str] = set()
        for t in triples:
            add(_triple_to_rdflib(t))
            o = t.object
            if isinstance(o, ox.NamedNode) and o.value not in seen_ref:
                seen_ref.add(o.value)
                for rt in self._ref.get(o.value, ()):
                    add(rt)
        for t in self._hierarchy:
            add(t)
        return g

    def run(self, graph: rdflib.Graph) -> tuple[list[dict], rdflib.Graph]:
        """pySHACL over one data graph: (results as dicts, report graph)."""
        from pyshacl import Validator
        from pyshacl.graph_abstraction import DataGraph

        dg = DataGraph.from_rdflib(graph)
        v = Validator(dg, shacl_graph=self.shapes,
                      options={"inplace": True, "allow_warnings": True, "advanced": False})
        v.shacl_graph = self.shapes_graph()
        _conforms, report, _text = v.run()
        return self._results(report), report

    def _results(self, report: rdflib.Graph) -> list[dict]:
        out = []
        results = [r for root in report.subjects(rdflib.RDF.type, _SH.ValidationReport)
                   for r in report.objects(root, _SH.result)]
        for r in results:
            shape = report.value(r, _SH.sourceShape)
            key = self.shape_key.get(shape)
            if key is None:      # a blank property shape: its group is on the node
                key = self.shape_key.get(self._owner(shape), "structure")
            sev = report.value(r, _SH.resultSeverity)
            messages = [m for m in report.objects(r, _SH.resultMessage)]
            text = next((str(m) for m in messages if getattr(m, "language", None) == "en"),
                        str(messages[0]) if messages else "does not conform")
            path = report.value(r, _SH.resultPath)
            out.append({
                "key": key,
                "severity": str(sev).rsplit("#", 1)[-1] if sev is not None else "Violation",
                "message": text,
                "focus": _plain(report.value(r, _SH.focusNode)),
                "value": _node_text(report.value(r, _SH.value)),
                "path": _path_text(report, path),
                "shape": str(shape) if isinstance(shape, rdflib.URIRef) else None,
                "_node": r,
            })
        return out

    def _owner(self, shape):
        for s in self.shapes.subjects(_SH.property, shape):
            return s
        return None


def _node_text(term) -> str | None:
    if term is None:
        return None
    return str(term)


def _path_text(report: rdflib.Graph, path) -> str | None:
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return _curie(str(path))
    inv = report.value(path, _SH.inversePath)
    if inv is not None:
        return "^" + _curie(str(inv))
    items = list(rdflib.collection.Collection(report, path)) if (
        path, rdflib.RDF.first, None) in report else []
    if items:
        return "/".join(_curie(str(i)) for i in items)
    return None


def _curie(iri: str) -> str:
    from dpgkg.rdf import PREFIXES

    for p, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{p}:{iri[len(ns):]}"
    return f"<{iri}>"


class _ParamSet(set):
    """pySHACL's list of constraint parameters as a set (it only tests membership, and
    appends in advanced/JS mode)."""

    def append(self, item) -> None:
        self.add(item)

    def copy(self) -> _ParamSet:
        return _ParamSet(self)


def _speed_up_pyshacl() -> None:
    """Two patches of pySHACL (kept in this function; a pySHACL upgrade may need them
    revisited). First, pySHACL looks each shape predicate up in a *list* of ~40
    constraint parameters, for every shape evaluation (nested sh:node/sh:or/sh:not
    shapes are evaluated once per value node): a third of the run time is rdflib term
    comparisons. Giving it the same parameters as a set (its module-level cache, filled
    on first use) removes that cost without changing what is validated."""
    import pyshacl.shape as shape_module
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.constraint_component import ConstraintComponent

    params = getattr(shape_module, "CONSTRAINT_PARAMS", (None, None))[0]
    if not isinstance(params, _ParamSet):
        shape_module.CONSTRAINT_PARAMS = (_ParamSet(ALL_CONSTRAINT_PARAMETERS),
                                          CONSTRAINT_PARAMETERS_MAP)
    # pySHACL also writes a text description of every result it makes, including the
    # many that sh:not and sh:or make and throw away (a "No" to a condition): a tenth
    # of the time. Only its text report shows them; the results are read from the report
    # graph here, which does not carry them.
    ConstraintComponent.make_v_result_description = _no_description


def _no_description(self, *args, **kwargs) -> str:
    return ""


_ENGINES: dict[tuple, Engine] = {}


def engine(settings: Settings | None = None, registry: str | Path | None = None) -> Engine:
    """The cached engine for these sources (shapes and reference data loaded once)."""
    settings = settings or Settings()
    key = (settings.sources, str(registry) if registry else None)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(settings, registry)
    return _ENGINES[key]


# --------------------------------------------------------------------------- statuses

def _answers(triples) -> tuple[dict[str, dict[str, set[str]]], set[str]]:
    """({indicator: {property local name: values}} of the screening answers,
    solution IRIs) found in a record's triples."""
    answer_of: dict[str, str] = {}
    props: dict[str, dict[str, set[str]]] = {}
    solutions: set[str] = set()
    prefix = DPG.Indicator1.value[:-1]          # ...ontology#Indicator
    for t in triples:
        p = t.predicate
        if p == DPG.answersIndicator and isinstance(t.object, ox.NamedNode):
            answer_of[t.subject.value] = t.object.value.replace(prefix, "")
        elif p == RDF.type and t.object.value in _SOLUTION_CLASSES:
            solutions.add(t.subject.value)
    dpg = str(DPG)
    for t in triples:
        s = t.subject.value if isinstance(t.subject, ox.NamedNode) else None
        if s in answer_of and t.predicate.value.startswith(dpg) and isinstance(
                t.object, ox.Literal):
            props.setdefault(answer_of[s], {}).setdefault(
                t.predicate.value[len(dpg):], set()).add(t.object.value)
    for ind in answer_of.values():
        props.setdefault(ind, {})
    return props, solutions


def summarise(results: list[dict], answers: dict, has_solution: bool = True,
              extra: list[dict] | None = None) -> dict:
    """The per-indicator summary of one record (or one graph)."""
    msgs: dict[str, list[dict]] = {k: [] for k in KEYS}
    for r in [*(extra or []), *results]:
        m = {k: v for k, v in r.items() if k != "key" and not k.startswith("_")
             and v is not None}
        msgs.setdefault(r["key"], []).append(m)
    out = {}
    screened = bool(answers)
    for k in KEYS:
        ms = msgs.get(k, [])
        if any(m["severity"] == "Violation" for m in ms):
            status = "fail"
        elif k in SCREENED and (not screened or not has_solution):
            status = "not-answered"
        elif k in CONDITIONS and "Yes" not in answers.get(k, {}).get(CONDITIONS[k], ()):
            status = "not-applicable"
        elif not has_solution and k in ("1", "2", "registry"):
            status = "not-answered"
        else:
            status = "pass"
        out[k] = {"status": status, "messages": ms}
    return out


# --------------------------------------------------------------------------- schema check

def _field_text(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _error_message(err) -> str:
    if err.validator == "enum":
        values = err.validator_value
        if len(values) <= 6:
            return f"{err.instance!r} is not one of {', '.join(map(repr, values))}"
        return (f"{err.instance!r} is not one of the {len(values)} accepted values of the "
                "registry's schema")
    return err.message


def schema_errors(record: dict | None, screening: dict | None, engine_: Engine,
                  folder: str = "nominees") -> list[dict]:
    """The registry JSON Schema errors of a record and its screening answers, each filed
    under the indicator its field concerns ('registry' for name, description, ...)."""
    nominee_v, screening_v = engine_.schemas()
    out: list[dict] = []
    if record is not None and nominee_v is not None:
        for err in nominee_v.iter_errors(record):
            path = list(err.absolute_path)
            if err.validator == "required":
                missing = [p for p in err.validator_value
                           if isinstance(err.instance, dict) and p not in err.instance]
                for m in missing:
                    if m == "stage" and folder != "nominees":
                        continue       # the folder gives archived/excluded records' stage
                    fld = _field_text([*path, m])
                    out.append({"key": NOMINEE_FIELD_KEY.get(str(([*path, m])[0]), "registry"),
                                "severity": "Violation", "field": fld, "source": "schema",
                                "message": f"{fld}: required by the registry's nominee "
                                           "schema but missing"})
                continue
            top = str(path[0]) if path else ""
            fld = _field_text(path) or "(record)"
            out.append({"key": NOMINEE_FIELD_KEY.get(top, "registry"), "severity": "Violation",
                        "field": fld, "source": "schema",
                        "message": f"{fld}: {_error_message(err)}"})
    if screening is not None and screening_v is not None:
        for err in screening_v.iter_errors(screening):
            path = [str(p) if not isinstance(p, int) else p for p in err.absolute_path]
            names = [path + [m] for m in err.validator_value
                     if isinstance(err.instance, dict) and m not in err.instance] \
                if err.validator == "required" else [path]
            for p in names:
                section = ".".join(str(x) for x in p[:2]) if p and p[0] == "doNoHarm" \
                    else (str(p[0]) if p else "")
                key = SCREENING_SECTION_KEY.get(section, "registry")
                fld = _field_text(p) or "(screening answers)"
                msg = (f"{fld}: required by the registry's screening schema but missing"
                       if err.validator == "required" else f"{fld}: {_error_message(err)}")
                out.append({"key": key, "severity": "Violation", "field": fld,
                            "source": "schema", "message": msg})
    return out


# --------------------------------------------------------------------------- records

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
    eng = engine(settings, registry)
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
    eng = engine(settings, registry)
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


# --------------------------------------------------------------------------- many records

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
    pool = mp.get_context("fork").Pool(workers, initializer=signal.signal,
                                       initargs=(signal.SIGTERM, signal.SIG_DFL))
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
    eng = engine(settings, location if Path(str(location)).is_dir() else None)
    files, problems = read_registry(str(location))
    errors = [Outcome(source=p.source, error=InputError(p.source, p.message, field=p.field))
              for p in problems if p.severity == "error"]
    return errors + validate_many(files, eng, workers, prepare=_prepare_registry_file)


# --------------------------------------------------------------------------- inputs

def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _read_limited(path: str, limit: int) -> bytes:
    if _is_url(path):
        import urllib.request

        req = urllib.request.Request(path, headers={"User-Agent": "dpgkg-validate"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                data = resp.read(limit + 1)
        except OSError as exc:
            raise InputError(path, f"could not be fetched: {exc}") from exc
    else:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise InputError(path, f"could not be read: {exc.strerror or exc}") from exc
        if size > limit:
            raise InputError(path, f"file is {size} bytes, above the limit of {limit} bytes "
                             "(settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise InputError(path, f"could not be read: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise InputError(path, f"input is larger than the limit of {limit} bytes "
                         "(settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)")
    return data


def _load_json(data: bytes, source: str):
    if not data.strip():
        raise InputError(source, "empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not UTF-8 text: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"not valid JSON: {exc.msg} (line {exc.lineno}, "
                         f"column {exc.colno})", line=exc.lineno) from exc


def _remote_contexts(obj, found: list[str], depth: int = 0) -> None:
    """Every @context (anywhere in the document) that names a remote document."""
    if depth > 50:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "@context":
                for c in v if isinstance(v, list) else [v]:
                    if isinstance(c, str):
                        found.append(c)
                    elif isinstance(c, dict):
                        if isinstance(c.get("@import"), str):
                            found.append(c["@import"])
                        _remote_contexts(c, found, depth + 1)
            else:
                _remote_contexts(v, found, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            _remote_contexts(v, found, depth + 1)


def _is_jsonld(obj) -> bool:
    if isinstance(obj, dict):
        return any(k in obj for k in ("@context", "@graph", "@id", "@type"))
    return isinstance(obj, list) and bool(obj) and all(
        isinstance(x, dict) and ("@id" in x or "@type" in x or "@context" in x) for x in obj)


def _parse_rdf(data: bytes, fmt, source: str) -> list:
    try:
        return [q.triple for q in ox.parse(data, format=fmt)]
    except SyntaxError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "offset", None)
        where = f" (line {line}, column {col})" if line else ""
        raise InputError(source, f"{fmt.name.replace('_', '-')} syntax error{where}: {exc.msg}",
                         line=line) from exc
    except (ValueError, OSError) as exc:
        raise InputError(source, f"could not be parsed as {fmt.name}: {exc}") from exc


def _jsonld_triples(obj, data: bytes, source: str) -> list:
    remote: list[str] = []
    _remote_contexts(obj, remote)
    if remote:
        raise InputError(source, "JSON-LD with a remote @context "
                         f"({', '.join(sorted(set(remote))[:3])}) is refused: remote contexts "
                         "are never fetched; inline the context", field="@context")
    return _parse_rdf(data, ox.RdfFormat.JSON_LD, source)


def _jobs_for_file(path: str, eng: Engine, limit: int, folder: str = "nominees"
                   ) -> list:
    """The jobs of one file (a legacy list gives several; its unreadable items give
    error outcomes in their place)."""
    data = _read_limited(path, limit)
    lower = path.lower().split("?", 1)[0]
    kind = "turtle" if lower.endswith(TURTLE_SUFFIXES) else (
        "jsonld" if lower.endswith(JSONLD_SUFFIXES) else "json")
    stem = Path(lower).stem if not _is_url(path) else None
    return _jobs_for_data(data, kind, path, eng, folder, stem)


def _jobs_for_data(data: bytes, kind: str, path: str, eng: Engine, folder: str = "nominees",
                   stem: str | None = None) -> list:
    """The jobs of one input held in memory; `kind` is 'turtle', 'jsonld' or 'json'
    (registry JSON, or JSON-LD recognised by its keys)."""
    if kind == "turtle":
        if not data.strip():
            raise InputError(path, "empty file")
        return [_Job(source=path, triples=_parse_rdf(data, ox.RdfFormat.TURTLE, path))]
    obj = _load_json(data, path)
    if kind == "jsonld" or _is_jsonld(obj):
        return [_Job(source=path, triples=_jsonld_triples(obj, data, path))]
    if isinstance(obj, dict) and isinstance(obj.get("dpgs"), list):
        obj = obj["dpgs"]
    if isinstance(obj, list):           # the legacy API list
        jobs: list = []        # a bad item is reported, the others still validated
        for i, item in enumerate(obj):
            src = f"{path}[{i}]"
            try:
                if not isinstance(item, dict):
                    raise InputError(src, "a record must be a JSON object, not "
                                     f"{type(item).__name__}")
                jobs.append(_legacy_job(item, src, eng, folder))
            except InputError as exc:
                jobs.append(Outcome(source=src, error=exc))
        if not jobs:
            raise InputError(path, "an empty list: no record to validate")
        return jobs
    if not isinstance(obj, dict):
        raise InputError(path, f"a record must be a JSON object, not {type(obj).__name__}")
    return [_legacy_job(obj, path, eng, folder, record_id=stem)]


def _legacy_job(obj: dict, source: str, eng: Engine, folder: str,
                record_id: str | None = None) -> _Job:
    from dpgkg.iris import slugify

    record, screening = _split_legacy(obj)
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        got = "missing" if name is None else f"{type(name).__name__} {name!r}"[:80]
        raise InputError(source, f"the record needs a name (a non-empty string); got {got}",
                         field="name")
    if "id" in obj and isinstance(obj["id"], str) and re.match(r"^[a-z0-9-]+$", obj["id"]):
        record_id = obj["id"]
    if record_id is None or not re.match(r"^[A-Za-z0-9._-]+$", record_id):
        record_id = slugify(name)
    rf = _record_file(record, screening, record_id, folder, source)
    return _record_job(rf, eng)


def _looks_like_registry(d: Path) -> bool:
    return any((d / f).is_dir() for f in ("nominees", "archive", "excluded-nominees"))


def _inputs_in_dir(d: Path) -> list[str]:
    suffixes = (*JSON_SUFFIXES, *JSONLD_SUFFIXES, *TURTLE_SUFFIXES)
    return [str(p) for p in sorted(d.rglob("*")) if p.is_file()
            and p.name.lower().endswith(suffixes) and not p.name.startswith(".")
            and not p.name.endswith(("-schema.json",))]


def validate_paths(paths, settings: Settings | None = None,
                   registry: str | Path | None = None, workers: int | None = None,
                   keep_report: bool = True) -> list[Outcome]:
    """Validate each path or URL; a directory gives one outcome per record/file in it.

    An input that cannot be read gives an outcome with ``error`` set (the others are
    still validated).
    """
    settings = settings or Settings()
    eng = engine(settings, registry)
    limit = settings.max_body_bytes
    outcomes: list[Outcome] = []
    pending: list = []                # jobs, or registry files still to convert
    order: list[object] = []          # those, or Outcomes (errors), in input order

    def add_file(path: str, folder: str = "nominees") -> None:
        try:
            for j in _jobs_for_file(path, eng, limit, folder):
                order.append(j)
                if isinstance(j, _Job):
                    pending.append(j)
        except InputError as exc:
            order.append(Outcome(source=exc.source, error=exc))

    for raw in paths:
        path = str(raw)
        if not _is_url(path) and Path(path).is_dir():
            d = Path(path)
            if _looks_like_registry(d):
                from dpgkg.sources.registry import read_registry

                files, problems = read_registry(str(d))
                for p in problems:
                    if p.severity == "error":
                        order.append(Outcome(source=str(d / p.source), error=InputError(
                            str(d / p.source), p.message, field=p.field)))
                for rf in files:
                    rf.path = str(d / rf.path)
                    order.append(rf)
                    pending.append(rf)
            else:
                files = _inputs_in_dir(d)
                if not files:
                    order.append(Outcome(source=path, error=InputError(
                        path, "no .json, .jsonld or .ttl file in this directory")))
                for f in files:
                    add_file(f)
        elif not _is_url(path) and not Path(path).exists():
            order.append(Outcome(source=path, error=InputError(path, "no such file")))
        else:
            add_file(path)
    done = {id(j): o for j, o in zip(pending, validate_many(
        pending, eng, workers, keep_report=keep_report and len(pending) <= 64,
        prepare=_prepare_any))}
    for item in order:
        outcomes.append(item if isinstance(item, Outcome) else done[id(item)])
    return outcomes


def validate_data(data: bytes, kind: str = "json", source: str = "<input>",
                  settings: Settings | None = None, registry: str | Path | None = None,
                  record_id: str | None = None) -> list[Outcome]:
    """Validate one input held in memory (a request body) like a file of that `kind`
    ('json', 'jsonld', 'turtle') given to :func:`validate_paths`, in this process.

    Raises :class:`InputError` when the input cannot be read; a legacy API list gives
    one outcome per record (an unreadable item an outcome with ``error`` set).
    """
    settings = settings or Settings()
    limit = settings.max_body_bytes
    if len(data) > limit:
        raise InputError(source, f"input is larger than the limit of {limit} bytes "
                         "(settings.max_body_bytes, DPGKG_MAX_BODY_BYTES)")
    eng = engine(settings, registry)
    jobs = _jobs_for_data(data, kind, source, eng, stem=record_id)
    pending = [j for j in jobs if isinstance(j, _Job)]
    done = dict(zip(map(id, pending), validate_many(
        pending, eng, workers=1, keep_report=len(pending) <= 64, prepare=_prepare_any)))
    return [done[id(j)] if isinstance(j, _Job) else j for j in jobs]


def _prepare_any(item, eng: Engine) -> _Job:
    return item if isinstance(item, _Job) else _record_job(item, eng, True)


# --------------------------------------------------------------------------- the build

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

    def finish(self, writer) -> dict:
        return _write_results(writer, self.running.result(), self.settings)

    def cancel(self) -> None:
        self.running.cancel()


def start_store_validation(harvested, settings: Settings, progress=None) -> StoreValidation:
    """Start validating the harvested records (worker processes forked now, fed from a
    thread), so the build can load and infer meanwhile."""
    reference = []
    goals = []
    for hg in harvested.graphs:
        if hg.key == "licences":
            reference.extend(hg.triples)
        elif not hg.key.startswith(("nominees/", "archive/", "excluded-nominees/")):
            goals.extend(t for t in hg.triples
                         if t.predicate == RDF.type and t.object == SDGO.Goal)
    reference += goals or _goal_triples(_sources_dir(settings))
    reg = _registry_dir(settings, None)
    eng = Engine(settings, reg, reference=reference)
    # approvals the schema gives but the licence page does not (see schema_only_licences)
    from dpgkg.harvest.licences import LicenceIndex

    index = LicenceIndex.from_registry(str(reg)) if reg is not None else LicenceIndex()
    for lid, sections in schema_only_licences(reg, index).items():
        for s in sections:
            t = _triple_to_rdflib(ox.Triple(ox.NamedNode(f"http://spdx.org/licenses/{lid}"),
                                            DPG.approvedFor, DPG[s]))
            eng._ref.setdefault(str(t[0]), []).append(t)

    jobs = [_Job(source=hg.key, triples=list(hg.triples), subject=hg.subject.value)
            for hg in harvested.graphs
            if hg.subject is not None and hg.key.startswith(
                ("nominees/", "archive/", "excluded-nominees/"))]
    return StoreValidation(start_many(jobs, eng, progress=progress), settings)


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
    for o in outcomes:
        record = ox.NamedNode(o.subject)
        folder, rid = o.source.split("/", 1)
        for k, v in o.indicators.items():
            counts[k][v["status"]] += 1
            node = iris.part(graph, f"{folder}-{rid}-{k}")
            ind = DPG[f"Indicator{k}"] if k in INDICATORS else (
                DPGSH.RegistryGroup if k == "registry" else DPGSH.StructureGroup)
            triples += [
                ox.Triple(node, RDF.type, DPG.ValidationResult),
                ox.Triple(node, DPG.validatedRecord, record),
                ox.Triple(node, DPG.indicator, ind),
                ox.Triple(node, DPG.status, lit(v["status"])),
                ox.Triple(node, DPG.sourceFile, lit(f"{o.source}.json")),
            ]
            for m in dict.fromkeys(f"{m['severity']}: {m['message']}" for m in v["messages"]):
                triples.append(ox.Triple(node, DPG.message, lit(m)))
        if not o.conforms:
            failing[folder] += 1
    writer.add_graph(graph, triples)
    return {
        "records": len(outcomes),
        "not_conforming": dict(failing),
        "by_indicator": {k: dict(c) for k, c in counts.items()},
    }


# --------------------------------------------------------------------------- reports

def indicator_labels(eng: Engine | None = None) -> dict[str, str]:
    """Indicator key -> the label of its property group in the shapes."""
    eng = eng or engine()
    out = {}
    for group in eng.shapes.subjects(rdflib.RDF.type, _SH.PropertyGroup):
        ind = eng.shapes.value(group, rdflib.URIRef(DPG.forIndicator.value))
        key = (str(ind).rsplit("#Indicator", 1)[-1] if ind is not None else
               "registry" if str(group).endswith("RegistryGroup") else "structure")
        label = eng.shapes.value(group, rdflib.RDFS.label)
        out[key] = re.sub(r"^[0-9a-c]+\.\s*", "", str(label)) if label else key
    return out


def text_report(outcomes: list[Outcome], labels: dict[str, str] | None = None,
                verbose: bool = True) -> str:
    """A readable report: per input, its status, then per indicator its messages."""
    labels = labels or indicator_labels()
    lines: list[str] = []
    for o in outcomes:
        if o.error is not None:
            lines.append(f"{o.source}: cannot be read: {o.error.message}"
                         + (f" (line {o.error.line})" if o.error.line else "")
                         + (f" [field {o.error.field}]" if o.error.field else ""))
            continue
        failing = o.failing()
        head = "conforms" if not failing else "does not conform (fails " + ", ".join(
            failing) + ")"
        lines.append(f"{o.source}: {head}")
        for k in KEYS:
            v = o.indicators.get(k)
            if v is None:
                continue
            name = labels.get(k, k)
            status = v["status"].upper() if v["status"] == "fail" else v["status"]
            lines.append(f"  {k:<10}{name[:52]:<53}{status}")
            if verbose:
                for m in v["messages"]:
                    where = m.get("value") or m.get("field") or m.get("focus") or ""
                    where = f"  [{where}]" if where else ""
                    lines.append(f"      {m['severity']}: {m['message']}{where}")
    return "\n".join(lines) + ("\n" if lines else "")


def registry_table(outcomes: list[Outcome], labels: dict[str, str] | None = None) -> str:
    """Per indicator, how many records pass, fail, are not applicable, not answered."""
    labels = labels or indicator_labels()
    counts = {k: Counter() for k in KEYS}
    for o in outcomes:
        for k, v in o.indicators.items():
            counts[k][v["status"]] += 1
    head = f"{'indicator':<10}{'':<44}{'pass':>7}{'fail':>7}{'n.a.':>7}{'not answered':>14}"
    rows = [head, "-" * len(head)]
    for k in KEYS:
        c = counts[k]
        rows.append(f"{k:<10}{labels.get(k, k)[:42]:<44}{c['pass']:>7}{c['fail']:>7}"
                    f"{c['not-applicable']:>7}{c['not-answered']:>14}")
    readable = [o for o in outcomes if o.error is None]
    rows.append("")
    rows.append(f"{len(readable)} records, {sum(1 for o in readable if o.conforms)} conform, "
                f"{sum(1 for o in readable if not o.conforms)} do not"
                + (f"; {len(outcomes) - len(readable)} could not be read"
                   if len(readable) < len(outcomes) else ""))
    return "\n".join(rows) + "\n"


def merged_report(outcomes: list[Outcome]) -> rdflib.Graph:
    g = rdflib.Graph()
    g.bind("sh", str(SH))
    g.bind("dpg", str(DPG))
    g.bind("dpgsh", str(DPGSH))
    for o in outcomes:
        if o.report is not None:
            g += o.report
    if not len(g):
        g = _empty_report()
    return g
