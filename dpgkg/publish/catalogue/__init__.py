"""The DCAT-AP 3 catalogue of the DPGs, paged with Hydra, and the VoID description.

Framework-free: the web blueprint and tests call `catalogue_page` / `void_description`
and serialise the triples with `serialize`. Every DPG becomes a `dcat:Dataset` (its
own IRI, typed alongside its schema.org class) because harvesters such as CKAN's
ckanext-dcat read only `dcat:Dataset` subjects. Linked nodes are typed explicitly
(`foaf:Agent`, `dct:LicenseDocument`, `skos:Concept`, `dct:MediaType`, `dct:Location`)
since the DCAT-AP shapes check the class of every linked resource.

Modules: :mod:`.vocab` (namespaces, fixed metadata), :mod:`.licences` (licences as
DCAT-AP and CKAN read them), :mod:`.dcat` (datasets and distributions), :mod:`.hydra`
(paging), :mod:`.void` (the whole graph and its dumps), :mod:`.sitemap`.
"""

from __future__ import annotations

from dpgkg.iris import Site
from dpgkg.publish.catalogue.dcat import (
    build_time,
    catalogue_triples,
    dataset_triples,
    distribution_triples,
    dpg_count,
    dpg_iris,
)
from dpgkg.publish.catalogue.hydra import PageInfo, catalogue_page, hydra_triples, page_url
from dpgkg.publish.catalogue.licences import CKAN_LICENCES, licence_types, primary_licence
from dpgkg.publish.catalogue.record import dpg_kinds, dpg_record, is_dpg
from dpgkg.publish.catalogue.sitemap import MAX_SITEMAP_URLS, sitemap_entries
from dpgkg.publish.catalogue.vocab import (
    CATALOGUE_LICENCE,
    CATALOGUE_PREFIXES,
    CATALOGUE_TITLE,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    serialize,
)
from dpgkg.publish.catalogue.void import (
    count_void_statistics,
    graph_dataset_triples,
    void_statistics,
)

__all__ = [
    "CATALOGUE_LICENCE",
    "CATALOGUE_PREFIXES",
    "CATALOGUE_TITLE",
    "CKAN_LICENCES",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_SITEMAP_URLS",
    "PageInfo",
    "Site",
    "build_time",
    "catalogue_page",
    "catalogue_triples",
    "count_void_statistics",
    "dataset_triples",
    "distribution_triples",
    "dpg_count",
    "dpg_iris",
    "dpg_kinds",
    "dpg_record",
    "graph_dataset_triples",
    "hydra_triples",
    "is_dpg",
    "licence_types",
    "page_url",
    "primary_licence",
    "serialize",
    "sitemap_entries",
    "void_statistics",
]
