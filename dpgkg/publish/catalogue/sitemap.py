"""The sitemap: the page of every resource minted under the base."""

from __future__ import annotations

from dpgkg.iris import Site
from dpgkg.rdf import (
    sparql_prefixes,
)
from dpgkg.store.base import Store

SITEMAP_QUERY = sparql_prefixes() + """
SELECT ?s (MAX(?t) AS ?modified) WHERE {
  { SELECT DISTINCT ?s { GRAPH ?g { ?s a ?type } FILTER(isIRI(?s)
      && STRSTARTS(STR(?s), "%(base)s") && !CONTAINS(STR(?s), "#")
      && !STRSTARTS(STR(?s), "%(base)sgraph/") && !STRSTARTS(STR(?s), "%(base)sbuild/")
      && !STRSTARTS(STR(?s), "%(base)ssource/")) } }
  OPTIONAL { ?s dct:modified ?t }
} GROUP BY ?s ORDER BY ?s
"""


MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit for one file


def sitemap_entries(store: Store, *, base_iri: str, root: str | None = None
                    ) -> list[tuple[str, str | None]]:
    """(page URL, last modification date) of every resource minted under the base."""
    site = Site(base_iri, root)
    out = []
    for row in store.select(SITEMAP_QUERY % {"base": site.iris.base}):
        page = site.page(row["s"].value)
        if page:
            modified = row.get("modified")
            out.append((page, modified.value[:10] if modified is not None else None))
    return out[:MAX_SITEMAP_URLS]
