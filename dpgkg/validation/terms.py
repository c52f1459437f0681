"""pyoxigraph terms as rdflib terms (pySHACL works on rdflib graphs), and the
small report graphs written by hand."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib

from dpgkg.rdf import SH, XSD

_SH = rdflib.Namespace(str(SH))


_XSD_STRING = XSD.string.value


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
