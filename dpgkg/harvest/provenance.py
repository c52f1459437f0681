"""PROV-O triples that a named graph carries about itself."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Triple

from dpgkg.harvest import HarvestContext
from dpgkg.rdf import DCAT, DCT, DPG, PROV, RDF, XSD, lit


def generation_time(ctx: HarvestContext) -> Literal:
    """The build's time as an xsd:dateTime: each graph's prov:generatedAtTime when made."""
    return lit(ctx.retrieved.isoformat().replace("+00:00", "Z"), XSD.dateTime)


def graph_provenance(
    ctx: HarvestContext,
    graph: NamedNode,
    source: str,
    path: str,
    describes: NamedNode | None = None,
) -> list[Triple]:
    """Say that `graph` was derived from source `source` (a name: 'registry', 'sdg') at `path`."""
    triples = [
        Triple(graph, RDF.type, PROV.Entity),
        Triple(graph, RDF.type, DPG.RecordGraph),
        Triple(graph, PROV.wasDerivedFrom, ctx.iris.source(source)),
        Triple(graph, DPG.sourcePath, lit(path)),
        Triple(graph, PROV.generatedAtTime, generation_time(ctx)),
    ]
    if ctx.commit:
        triples.append(Triple(graph, DPG.sourceCommit, lit(ctx.commit)))
    if describes is not None:
        triples.append(Triple(graph, DPG.describes, describes))
    return triples


def source_description(ctx: HarvestContext, source: str, title: str, url: str,
                       licence: str | None = None) -> list[Triple]:
    """Describe one upstream source (a prov:Entity and dcat:Dataset)."""
    s = ctx.iris.source(source)
    triples = [
        Triple(s, RDF.type, PROV.Entity),
        Triple(s, RDF.type, DCAT.Dataset),
        Triple(s, DCT.title, lit(title, lang="en")),
        Triple(s, DCAT.accessURL, NamedNode(url)),
    ]
    if licence:
        triples.append(Triple(s, DCT.license, NamedNode(licence)))
    if ctx.commit:
        triples.append(Triple(s, DPG.sourceCommit, lit(ctx.commit)))
    return triples
