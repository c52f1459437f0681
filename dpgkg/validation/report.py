"""Reports for people: per input and indicator (text), per indicator over a registry
(table), and the merged SHACL report graph."""

from __future__ import annotations

import re
from collections import Counter

import rdflib

from dpgkg.config import SHAPES_DIR, asset_files
from dpgkg.rdf import DPG, DPGSH, SH
from dpgkg.validation.engine import Engine
from dpgkg.validation.status import KEYS, Outcome
from dpgkg.validation.terms import _SH, _empty_report


def indicator_labels(eng: Engine | None = None) -> dict[str, str]:
    """Indicator key -> the label of its property group in the shapes."""
    if eng is not None:
        shapes = eng.shapes
    else:  # the shapes alone: no reference data is needed for labels
        shapes = rdflib.Graph()
        for f in asset_files(SHAPES_DIR, "*.ttl"):
            shapes.parse(f, format="turtle")
    out = {}
    for group in shapes.subjects(rdflib.RDF.type, _SH.PropertyGroup):
        ind = shapes.value(group, rdflib.URIRef(DPG.forIndicator.value))
        key = (str(ind).rsplit("#Indicator", 1)[-1] if ind is not None else
               "registry" if str(group).endswith("RegistryGroup") else "structure")
        label = shapes.value(group, rdflib.RDFS.label)
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
