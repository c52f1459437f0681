"""The catalogue paged with Hydra: page size and number, links to the other pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox

from dpgkg.iris import Site
from dpgkg.publish.catalogue.dcat import (
    _cached_dpg_iris,
    catalogue_triples,
    dataset_triples,
    distribution_triples,
)
from dpgkg.publish.catalogue.vocab import (
    DEFAULT_PAGE_SIZE,
    HYDRA,
    MAX_PAGE_SIZE,
    _n,
    _t,
)
from dpgkg.rdf import (
    DCAT,
    RDF,
    lit,
)
from dpgkg.store.base import Store


@dataclass(frozen=True)
class PageInfo:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


def page_url(url: str, page: int, size: int) -> str:
    """`url` (the catalogue as requested, no query) with paging parameters."""
    return f"{url}?{urlencode({'page': page, 'page_size': size})}"


def hydra_triples(cat: ox.NamedNode, url: str, info: PageInfo) -> list[ox.Triple]:
    """A hydra:PartialCollectionView, as ckanext-dcat's RDF harvester follows it."""
    view = _n(page_url(url, info.number, info.size))
    out = [_t(cat, RDF.type, HYDRA.Collection),
           _t(cat, HYDRA.totalItems, lit(info.total)),
           _t(cat, HYDRA.view, view),
           _t(view, RDF.type, HYDRA.PartialCollectionView),
           _t(view, HYDRA.itemsPerPage, lit(info.size)),
           _t(view, HYDRA.totalItems, lit(info.total)),
           _t(view, HYDRA.first, _n(page_url(url, 1, info.size))),
           _t(view, HYDRA.last, _n(page_url(url, info.last, info.size)))]
    if info.number < info.last:
        out.append(_t(view, HYDRA.next, _n(page_url(url, info.number + 1, info.size))))
    if info.number > 1:
        out.append(_t(view, HYDRA.previous,
                      _n(page_url(url, min(info.number - 1, info.last), info.size))))
    return out


def catalogue_page(store: Store, *, base_iri: str, root: str | None = None,
                   url: str | None = None, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE,
                   graph_dataset: list[ox.Triple] | None = None) -> tuple[list[ox.Triple],
                                                                          PageInfo]:
    """One page of the catalogue as triples, and where it is among the pages.

    `root` is the site root answering the request (documents' URLs), `url` the catalogue URL
    as requested (paging links); both default to the public site. `graph_dataset`: the
    description of the whole graph and its dumps (page 1 only).
    """
    site = Site(base_iri, root)
    url = url or site.url("catalog")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    everything = _cached_dpg_iris(store)
    info = PageInfo(max(1, int(page)), page_size, len(everything))
    chosen = everything[(info.number - 1) * page_size: info.number * page_size]
    cat = site.catalogue_iri()
    triples = catalogue_triples(store, site)
    triples += [_t(cat, DCAT.dataset, _n(i)) for i in chosen]
    triples += dataset_triples(store, site, chosen)
    triples += distribution_triples(store, site, chosen)
    if info.number == 1 and graph_dataset:
        triples += graph_dataset
        for t in graph_dataset:
            if t.predicate == RDF.type and t.object == DCAT.Dataset:
                triples.append(_t(cat, DCAT.dataset, t.subject))
    triples += hydra_triples(cat, url, info)
    return triples, info
