"""Licences as DCAT-AP and CKAN read them: licence documents, ADMS licence types, and
the licence URLs CKAN's register knows."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from dpgkg.publish.catalogue.vocab import (
    _n,
    _t,
)
from dpgkg.rdf import (
    DCT,
    RDF,
    RDFS,
    SKOS,
    lit,
)
from dpgkg.sources.data import ckan_licences

# CKAN's default licence register knows licences by these URLs (ckan/model/license.py);
# ckanext-dcat fills license_id only when a distribution's dct:license IRI is one of them.
CKAN_LICENCES: dict[str, tuple[str, str]] = ckan_licences()  # data/ckan-licences.csv

ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
LICENCE_TYPE_LABELS = {
    "PublicDomain": "Public domain", "Attribution": "Attribution",
    "ViralEffect-ShareAlike": "Viral effect (share-alike)",
    "NonCommercialUseOnly": "Non-commercial use only", "NoDerivativeWork": "No derivative work",
}
_PUBLIC_DOMAIN = {"CC0-1.0", "Unlicense", "PDDL-1.0", "0BSD", "CC-PDDC"}
_COPYLEFT = ("GPL-", "AGPL-", "LGPL-", "MPL-", "EPL-", "EUPL-", "ODbL-", "GFDL-", "OSL-",
             "CECILL-", "NPOSL-", "CDDL-", "CPAL-", "OFL-", "CERN-OHL-S")
_PERMISSIVE = ("MIT", "BSD-", "Apache-", "ISC", "Zlib", "ODC-By-", "OGL-", "Artistic-",
               "BSL-", "ECL-", "MS-PL", "PostgreSQL", "Python-", "UPL-", "W3C", "X11", "CC-BY-")

# ADMS publisher types for the organisation types (an owner that is a member, or whose
# type data/organisations.csv gives; "community" has no ADMS counterpart)
ADMS_PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
MEMBER_PUBLISHER_TYPES = {"Government": ("NationalAuthority", "National authority"),
                          "Multilateral": ("SupraNationalAuthority", "Supra-national authority"),
                          "Foundation": ("NonProfitOrganisation", "Non-profit organisation"),
                          "Nonprofit": ("NonProfitOrganisation", "Non-profit organisation"),
                          "Company": ("Company", "Company"),
                          "Academic": ("Academia-ScientificOrganisation",
                                       "Academia/Scientific organisation")}


def licence_types(spdx_id: str) -> list[str]:
    """ADMS licence types (local names) an SPDX licence falls under; [] when unsure."""
    if spdx_id in _PUBLIC_DOMAIN:
        return ["PublicDomain"]
    types = []
    if "-NC" in spdx_id:
        types.append("NonCommercialUseOnly")
    if "-ND" in spdx_id:
        types.append("NoDerivativeWork")
    copyleft = "-SA-" in spdx_id or spdx_id.startswith(_COPYLEFT)
    if copyleft:
        types.append("ViralEffect-ShareAlike")
    if copyleft or types or spdx_id.startswith(_PERMISSIVE):
        types.append("Attribution")
    return types


def _spdx_id(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def primary_licence(licences: Iterable[str]) -> str | None:
    """The licence put on distributions (DCAT-AP allows one): one CKAN knows, else the first."""
    ordered = sorted(licences, key=lambda i: (_spdx_id(i) not in CKAN_LICENCES, i))
    return ordered[0] if ordered else None


def _licence_triples(iri: str, label: str | None) -> list[ox.Triple]:
    node = _n(iri)
    out = [_t(node, RDF.type, DCT.LicenseDocument),
           _t(node, DCT.identifier, lit(_spdx_id(iri)))]
    if label:
        out.append(_t(node, DCT.title, lit(label)))
    out += _licence_type_triples(node, _spdx_id(iri))
    return out


def _licence_type_triples(node: ox.NamedNode, spdx_id: str) -> list[ox.Triple]:
    out = []
    for t in licence_types(spdx_id):
        concept = _n(ADMS_LICENCE_TYPE + t)
        out += [_t(node, DCT.type, concept), _t(concept, RDF.type, SKOS.Concept),
                _t(concept, SKOS.prefLabel, lit(LICENCE_TYPE_LABELS[t], lang="en"))]
    return out


def _ckan_licence_triples(spdx_iri: str) -> tuple[ox.NamedNode, list[ox.Triple]] | None:
    known = CKAN_LICENCES.get(_spdx_id(spdx_iri))
    if not known:
        return None
    node = _n(known[0])
    return node, [_t(node, RDF.type, DCT.LicenseDocument), _t(node, DCT.title, lit(known[1])),
                  _t(node, RDFS.seeAlso, _n(spdx_iri)),
                  *_licence_type_triples(node, _spdx_id(spdx_iri))]
