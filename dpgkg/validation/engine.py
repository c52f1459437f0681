"""The validation engine: the shapes (built once per process) and the reference
triples a record's data graph is completed with; one pySHACL run over a data graph."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import rdflib

from dpgkg.config import SHAPES_DIR, Settings, asset_files
from dpgkg.rdf import DPG, RDF, RDFS, SDGO, SKOS
from dpgkg.validation import pyshacl_compat
from dpgkg.validation.status import InputError
from dpgkg.validation.terms import _SH, _plain, _triple_to_rdflib


def _sources_dir(settings: Settings | None) -> Path | None:
    """The sources directory given, or None for the public sources (never a guess)."""
    if settings is not None and settings.sources:
        return Path(settings.sources)
    return None


def _registry_dir(settings: Settings | None, registry: str | Path | None) -> Path | None:
    if registry is not None:
        p = Path(registry)
        return p if p.is_dir() else None
    src = _sources_dir(settings)
    if src is not None and (src / "registry").is_dir():
        return src / "registry"
    return None


def _goal_triples(settings: Settings) -> list:
    """``sdg:N a sdgo:Goal, skos:Concept`` for the goals of the UN SDG KOS (read from the
    sources; unreadable is a SourceError, a KOS without goals an InputError)."""
    from dpgkg.sources import locate, named, read_bytes

    with named("sdg"):
        kos = read_bytes(locate("sdg", settings))
    goals = [q.subject for q in ox.parse(kos, format=ox.RdfFormat.TURTLE)
             if q.predicate == RDF.type and q.object == SDGO.Goal]
    if not goals:
        raise InputError("sdg", "the SDG KOS names no sdgo:Goal")
    out = []
    for g in goals:
        out.append(ox.Triple(g, RDF.type, SDGO.Goal))
        out.append(ox.Triple(g, RDF.type, SKOS.Concept))
    return out


def schema_only_licences(schema: dict, index) -> dict[str, list[str]]:
    """Licence ids the registry's nominee schema accepts but its approved-licence page
    (help-center/licenses.md) does not list, with the types they are taken as approved
    for: an OSI-approved one for software, any other for data and content. (In the
    registry this is OGL-UK-3.0, an Open Definition conformant data licence.)"""
    try:
        enum = schema["properties"]["license"]["items"]["properties"]["spdx"]["enum"]
    except (KeyError, TypeError):
        raise InputError("nominee-schema.json", "no properties.license.items.properties."
                                                "spdx.enum: not the registry's schema") from None
    approved = set().union(*index.approved.values()) if index.approved else set()
    out: dict[str, list[str]] = {}
    for raw in enum:
        current, _ = index.normalise(raw, record_use=False)
        if current is None or current in approved:
            continue
        info = index.info(current)
        out[current] = ["Software"] if info is not None and info.osi else ["Data", "Content"]
    return out


def _registry_json(rel: str, settings: Settings, registry: Path | None) -> dict:
    from dpgkg.sources import registry_file

    try:
        return json.loads(registry_file(rel, settings, registry))
    except ValueError as exc:
        raise InputError(rel, f"not JSON: {exc}") from None


def approved_licences(settings: Settings, registry: Path | None):
    """The registry's approved-licence list (help-center/licenses.md) as a LicenceIndex;
    missing is an error: without it no licence is approved and indicator 2 fails."""
    from dpgkg.harvest.licences import LicenceIndex
    from dpgkg.sources import registry_file
    from dpgkg.sources.registry import LICENCES_PAGE

    page = registry_file(LICENCES_PAGE, settings, registry).decode("utf-8")
    index = LicenceIndex.from_markdown(page)
    if not index.approved:
        raise InputError(LICENCES_PAGE, "no approved licence found in it")
    return index


def schema_approvals(settings: Settings, registry: Path | None, index) -> list:
    """dpg:approvedFor triples of the licences only the nominee schema accepts."""
    schema = _registry_json("nominee-schema.json", settings, registry)
    return [ox.Triple(ox.NamedNode(f"http://spdx.org/licenses/{lid}"), DPG.approvedFor,
                      DPG[section])
            for lid, sections in schema_only_licences(schema, index).items()
            for section in sections]


def _licence_triples(settings: Settings, registry: Path | None) -> tuple[list, object]:
    """The licence resources of every SPDX licence (dpg:osiApproved, ...) with
    dpg:approvedFor from the registry's approved list, plus the schema-only approvals."""
    from dpgkg.harvest import HarvestContext
    from dpgkg.harvest.licences import _table
    from dpgkg.iris import IRIs

    index = approved_licences(settings, registry)
    index.used |= set(_table())
    triples = list(index.licence_graph(HarvestContext(IRIs())).triples)
    return triples + schema_approvals(settings, registry, index), index


def _ontology_triples() -> list:
    """The class and property hierarchy of the ontology (so sh:targetClass dpg:Solution
    finds a resource typed only dpg:DigitalPublicGood)."""
    from dpgkg.config import ONTOLOGY_DIR

    keep = {RDFS.subClassOf, RDFS.subPropertyOf}
    out = []
    for f in asset_files(ONTOLOGY_DIR, "*.ttl"):
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
        for f in asset_files(SHAPES_DIR, "*.ttl"):
            self.shapes.parse(f, format="turtle")
        self.shape_key = self._shape_keys()
        if reference is None:
            licences, self.licences = _licence_triples(self.settings, self.registry)
            reference = licences + _goal_triples(self.settings)
        else:
            self.licences = None
        self._ref: dict[str, list[tuple]] = {}
        for t in reference:
            if isinstance(t.subject, ox.NamedNode):
                self._ref.setdefault(t.subject.value, []).append(_triple_to_rdflib(t))
        self._hierarchy = [_triple_to_rdflib(t) for t in _ontology_triples()]
        self._shapes_graph = None     # pyshacl ShapesGraph, built on first run
        self._schemas: tuple | None = None

    def set_reference(self, reference: list, approvals: list = ()) -> None:
        """The reference triples records are validated with: `reference` (as given to
        the constructor) and the approvals the registry's schema adds."""
        self._ref = {}
        for t in reference:
            if isinstance(t.subject, ox.NamedNode):
                self._ref.setdefault(t.subject.value, []).append(_triple_to_rdflib(t))
        for triple in approvals:
            t = _triple_to_rdflib(triple)
            self._ref.setdefault(str(t[0]), []).append(t)

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

        pyshacl_compat.apply_patches()
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
                schema = _registry_json(name, self.settings, self.registry)
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
            messages = sorted(report.objects(r, _SH.resultMessage), key=str)
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
        # The report graph is a set: order the results so every report reads the same
        # from run to run.
        out.sort(key=_result_order)
        return out

    def _owner(self, shape):
        for s in self.shapes.subjects(_SH.property, shape):
            return s
        return None


def _result_order(r: dict) -> tuple:
    return tuple(r[k] or "" for k in ("key", "focus", "path", "shape", "value", "severity",
                                        "message"))


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


_ENGINES: dict[tuple, Engine] = {}


def shared_engine(settings: Settings | None = None, registry: str | Path | None = None) -> Engine:
    """The cached engine for these sources (shapes and reference data loaded once)."""
    settings = settings or Settings()
    key = (settings.sources, str(registry) if registry else None)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(settings, registry)
    return _ENGINES[key]
