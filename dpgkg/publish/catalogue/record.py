"""One DPG's DCAT description at its own URL (`/catalog/dpg/<id>`): the catalogue, the
DPG's dcat:Dataset with its distributions, and its dcat:CatalogRecord where the date the
record last changed is known. A harvester fetches one DPG without paging the catalogue."""

from __future__ import annotations

import pyoxigraph as ox

from dpgkg.iris import Site, is_iri
from dpgkg.publish.catalogue.dcat import catalogue_triples, dataset_triples, distribution_triples
from dpgkg.publish.catalogue.vocab import _n, _t
from dpgkg.rdf import DCAT, DPG
from dpgkg.store.base import Store


def is_dpg(store: Store, iri: str) -> bool:
    if not is_iri(iri) or any(ch in iri for ch in '<>"{}|^`\\ \n\r\t'):
        return False
    return store.ask(f"ASK {{ <{iri}> a <{DPG.DigitalPublicGood.value}> }}")


def dpg_kinds(store: Store) -> dict[str, bool]:
    """Every DPG's IRI -> whether it is software (it has CodeMeta): what a resource's
    `Link: rel="describedby"` names, read in one query (the web layer keeps it per store
    version instead of asking two questions per page)."""
    rows = store.select(f"""SELECT ?s ?software WHERE {{ ?s a <{DPG.DigitalPublicGood.value}>
        BIND(EXISTS {{ ?s a <http://schema.org/SoftwareSourceCode> }} AS ?software) }}""")
    return {r["s"].value: r["software"].value == "true" for r in rows}


def dpg_record(
    store: Store, *, base_iri: str, iri: str, root: str | None = None
) -> list[ox.Triple] | None:
    """The DCAT record document of the DPG `iri`; None when `iri` is no DPG."""
    if not is_dpg(store, iri):
        return None
    site = Site(base_iri, root)
    return [
        *catalogue_triples(store, site),
        _t(site.catalogue_iri(), DCAT.dataset, _n(iri)),
        *dataset_triples(store, site, [iri]),
        *distribution_triples(store, site, [iri]),
    ]
