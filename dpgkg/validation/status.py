"""Per indicator, a record's status: the indicator keys, the outcome of one input,
and the rules that turn SHACL results and screening answers into statuses."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib

from dpgkg.rdf import DPG, RDF
from dpgkg.validation.terms import _empty_report, _report_jsonld

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


_SOLUTION_CLASSES = {DPG.Solution.value, DPG.DigitalPublicGood.value, DPG.Nominee.value,
                     DPG.ArchivedSolution.value, DPG.ExcludedSolution.value}


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
