"""Countries: matching free-text names to ISO codes, and the country reference graph."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from pyoxigraph import NamedNode, Triple

from dpgkg.harvest import HarvestContext, HarvestedGraph
from dpgkg.harvest.memo import fingerprint
from dpgkg.harvest.provenance import graph_provenance, source_description
from dpgkg.rdf import DPG, OWL, RDF, SKOS, lit
from dpgkg.sources.data import country_aliases, not_countries

__all__ = ["NOT_COUNTRIES", "CountryMatcher", "country_graph"]

A2 = "ISO3166-1-Alpha-2"
A3 = "ISO3166-1-Alpha-3"

# Columns whose values name a country (official names in the six UN languages, UNTERM
# short and formal names, the CLDR display name, the ISO 4217 country name).
NAME_COLUMNS = (
    "official_name_en", "official_name_fr", "official_name_es", "official_name_ar",
    "official_name_cn", "official_name_ru", "CLDR display name",
    "UNTERM English Short", "UNTERM English Formal", "UNTERM French Short",
    "UNTERM French Formal", "UNTERM Spanish Short", "UNTERM Spanish Formal",
    "UNTERM Russian Short", "UNTERM Russian Formal", "UNTERM Chinese Short",
    "UNTERM Chinese Formal", "UNTERM Arabic Short", "UNTERM Arabic Formal",
    "ISO4217-currency_country_name",
)
LABEL_COLUMNS = {"en": "official_name_en", "fr": "official_name_fr", "es": "official_name_es",
                 "ar": "official_name_ar", "zh": "official_name_cn", "ru": "official_name_ru"}

# Names people write that none of the table's columns has (data/country-aliases.csv), and
# free text that is not a country, reported and never matched (data/not-countries.txt).
ALIASES = country_aliases()
NOT_COUNTRIES = not_countries()


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = text.replace("&", " and ").replace("st.", "saint ")
    text = re.sub(r"\(the\)|\*", " ", text)
    text = re.sub(r"^\s*the\s+", "", text)
    return re.sub(r"[^a-z0-9]+", "", text)


def _key_unicode(name: str) -> str:
    """Key for names in non-Latin scripts (Arabic, Chinese, Russian)."""
    return re.sub(r"[\s().,'’*-]+", "", unicodedata.normalize("NFKC", name).casefold())


class CountryMatcher:
    """Matches free-text country names to ISO 3166 alpha-2 codes.

    ``match(name)`` returns the code or None; names that did not match (including
    "Global" and other non-countries) are counted in ``unmatched``; ``not_countries``
    counts the ones recognised as regions or "worldwide".
    """

    def __init__(self, rows: list[dict]):
        self.codes: set[str] = set()
        self._index: dict[str, str] = {}
        self.unmatched: Counter = Counter()
        self.not_countries: Counter = Counter()
        self._cache: dict[str, str | None] = {}
        # what matching depends on besides the code (a build cache's key)
        self.fingerprint = fingerprint(rows)
        codes_index: dict[str, str] = {}
        for row in rows:
            a2 = (row.get(A2) or "").strip().upper()
            if not re.fullmatch(r"[A-Z]{2}", a2):
                continue
            self.codes.add(a2)
            for col in NAME_COLUMNS:
                value = (row.get(col) or "").strip()
                if value:
                    self._add(value, a2)
                    # "Bolivia (Plurinational State of)" -> also "Bolivia"
                    outside = re.sub(r"\(.*?\)", "", value).strip()
                    if outside and outside != value:
                        self._add(outside, a2, weak=True)
            codes_index[a2.lower()] = a2
            a3 = (row.get(A3) or "").strip().upper()
            if a3:
                codes_index[a3.lower()] = a2
        for alias, a2 in ALIASES.items():
            if a2 in self.codes:
                self._index[_key(alias)] = a2
        self._codes_index = codes_index

    def _add(self, name: str, a2: str, weak: bool = False) -> None:
        for k in {_key(name), _key_unicode(name)}:
            if k and (not weak or k not in self._index):
                self._index.setdefault(k, a2)

    def _lookup(self, name: str) -> str | None:
        for k in (_key(name), _key_unicode(name)):
            if k and k in self._index:
                return self._index[k]
        return None

    def lookup(self, name: str) -> str | None:
        """Like match() but records nothing."""
        text = " ".join((name or "").split())
        if not text:
            return None
        if text in self._cache:
            return self._cache[text]
        found = self._lookup(text)
        if found is None and 2 <= len(text) <= 3 and text.isalpha() and text.isupper():
            found = self._codes_index.get(text.lower())
        if found is None and "(" in text:
            # "Congo (Congo-Brazzaville)", "Czechia (Czech Republic)",
            # "Eswatini (fmr. 'Swaziland')": the name outside, then inside the brackets.
            outside = re.sub(r"\(.*?\)", "", text).strip()
            inside = re.findall(r"\((.*?)\)", text)
            for cand in [outside, *inside]:
                cand = re.sub(r"^(fmr\.?|formerly|former)\s+", "", cand.strip(" '\"")).strip(" '\"")
                found = self._lookup(cand) if cand else None
                if found:
                    break
        if found is None and text.count(",") == 1:
            # "Virgin Islands, British" -> "British Virgin Islands"
            a, b = (p.strip() for p in text.split(","))
            found = self._lookup(f"{b} {a}")
        self._cache[text] = found
        return found

    def match(self, name: str) -> str | None:
        """The alpha-2 code for a free-text name, or None (counted in ``unmatched``)."""
        text = " ".join((name or "").split())
        if not text:
            return None
        found = self.lookup(text)
        if found is None:
            self.unmatched[text] += 1
            if self.is_not_country(text):
                self.not_countries[text] += 1
        return found

    @staticmethod
    def is_not_country(name: str) -> bool:
        return " ".join(name.split()).lower() in NOT_COUNTRIES


def _m49(value: str) -> str | None:
    value = value.strip()
    return value.zfill(3) if value.isdigit() else None


def _flag(value: str) -> bool:
    return value.strip().lower() in ("x", "yes", "true", "1")


def _wikidata(value: str) -> NamedNode | None:
    m = re.search(r"(Q\d+)\s*$", value or "")
    return NamedNode(f"http://www.wikidata.org/entity/{m.group(1)}") if m else None


def country_graph(ctx: HarvestContext, rows: list[dict],
                  path: str = "countries/country-codes.csv") -> HarvestedGraph:
    """id:country/{alpha2} a dpg:Country for every row with an alpha-2 code."""
    graph = ctx.iris.reference_graph("countries")
    triples = graph_provenance(ctx, graph, "countries", path)
    triples += source_description(
        ctx, "countries", "Country codes (datasets/country-codes)",
        "https://github.com/datasets/country-codes",
        "http://spdx.org/licenses/PDDL-1.0")
    seen: set[str] = set()
    for row in rows:
        a2 = (row.get(A2) or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", a2) or a2 in seen:
            continue
        seen.add(a2)
        c = ctx.iris.country(a2)
        t = [Triple(c, RDF.type, DPG.Country), Triple(c, DPG.iso3166Alpha2, lit(a2))]
        for lang, col in LABEL_COLUMNS.items():
            value = (row.get(col) or "").strip()
            if value:
                t.append(Triple(c, SKOS.prefLabel, lit(value, lang=lang)))
        if not (row.get("official_name_en") or "").strip():
            cldr = (row.get("CLDR display name") or "").strip()
            if cldr:
                t.append(Triple(c, SKOS.prefLabel, lit(cldr, lang="en")))
        a3 = (row.get(A3) or "").strip()
        if a3:
            t.append(Triple(c, DPG.iso3166Alpha3, lit(a3)))
        m49 = _m49(row.get("M49") or "")
        if m49:
            t.append(Triple(c, DPG.m49, lit(m49)))
        for col, prop in (("Region Name", DPG.region), ("Sub-region Name", DPG.subRegion)):
            value = (row.get(col) or "").strip()
            if value:
                t.append(Triple(c, prop, lit(value, lang="en")))
        t += [
            Triple(c, DPG.isLeastDevelopedCountry,
                   lit(_flag(row.get("Least Developed Countries (LDC)", "")))),
            Triple(c, DPG.isLandlockedDevelopingCountry,
                   lit(_flag(row.get("Land Locked Developing Countries (LLDC)", "")))),
            Triple(c, DPG.isSmallIslandDevelopingState,
                   lit(_flag(row.get("Small Island Developing States (SIDS)", "")))),
        ]
        wd = _wikidata(row.get("wikidata_id") or "")
        if wd is not None:
            t.append(Triple(c, OWL.sameAs, wd))
        geo = (row.get("Geoname ID") or "").strip()
        if geo.isdigit():
            t.append(Triple(c, OWL.sameAs, NamedNode(f"https://sws.geonames.org/{geo}/")))
        triples += t
    return HarvestedGraph(graph=graph, key="countries", triples=triples)
