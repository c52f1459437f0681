"""Values every registry record graph shares: names and URLs cleaned the same way, and the
:class:`Directory` of what a record's graph needs to know about the other records
(canonical organisation and sector names, and every contact name, so none reaches free
text)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import quote

from pyoxigraph import NamedNode

from dpgkg.sources.registry import EMAIL, name_key, scrub_text

if TYPE_CHECKING:
    from dpgkg.harvest.organisations import OrganisationTable

_URL_IN_TEXT = re.compile(r"(?:https?|ftp)://[^\s,;<>\"'\]\[{}|\\^`]+", re.IGNORECASE)


_BARE_HOST = re.compile(r"^(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?:[/?#]\S*)?$")


_WEB = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """Trivial variants of a name made equal: Unicode form, spaces, trailing punctuation."""
    text = unicodedata.normalize("NFKC", name)
    text = " ".join(text.split())
    return text.rstrip(" .,;:").strip()


def _valid_iri(text: str) -> NamedNode | None:
    try:
        node = NamedNode(text)
    except ValueError:
        return None
    return node if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) else None


def _encode(url: str) -> str:
    return quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")


def clean_url(value: str | None) -> tuple[list[NamedNode], bool]:
    """The IRIs a URL field holds, and whether something in it could not be used.

    A valid http(s)/ftp IRI is taken as it is; otherwise every URL found in the text is
    taken (percent-encoding spaces and other characters an IRI cannot hold); a bare
    host name (``www.example.org/x``) gets ``https://``. URLs holding an e-mail address
    (mailto: and the like) are never taken.
    """
    text = (value or "").strip()
    if not text:
        return [], False
    if _WEB.match(text) and not EMAIL.search(text) and text.count("://") == 1:
        # One URL; spaces inside its path ("https://x.org/my file.pdf") are encoded,
        # a space before prose ("https://x.org/a (Norwegian only)") ends it.
        rest = text.split(None, 1)[1] if " " in text else ""
        if not rest or (not re.search(r"\s", rest) and re.search(r"[/.]", rest)
                        and not rest.startswith("(")):
            node = _valid_iri(text) or _valid_iri(_encode(text))
            if node is not None:
                return [node], False
    found: list[NamedNode] = []
    for m in _URL_IN_TEXT.finditer(text):
        url = m.group(0).rstrip(".,;:!?")
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1]
        node = _valid_iri(_encode(url))
        if node is not None and not EMAIL.search(url) and node not in found:
            found.append(node)
    if found:
        return found, False
    if _BARE_HOST.match(text) and not EMAIL.search(text):
        node = _valid_iri(_encode("https://" + text))
        if node is not None:
            return [node], False
    return [], True


def _contact_names(record: object) -> tuple[set[str], set[str]]:
    """(contact names given in a record, name keys of its organisations and itself)."""
    contacts: set[str] = set()
    public: set[str] = set()
    if not isinstance(record, dict):
        return contacts, public
    if isinstance(record.get("name"), str):
        public.add(name_key(record["name"]))
    orgs = record.get("organizations")
    for o in orgs if isinstance(orgs, list) else []:
        if not isinstance(o, dict):
            continue
        if isinstance(o.get("name"), str):
            public.add(name_key(o["name"]))
        for key, value in o.items():
            if "contact" in key.lower() and "mail" not in key.lower() and isinstance(value, str):
                value = " ".join(value.split())
                if len(name_key(value)) >= 3:
                    contacts.add(value)
    return contacts, public


class PrivateNames:
    """Contact names to remove from free text; fast on long texts without any of them."""

    _WORD = re.compile(r"\w+")

    def __init__(self, names: list[str]):
        self._by_first: dict[str, list[str]] = {}
        for n in names:
            words = self._WORD.findall(n.lower())
            if words:
                self._by_first.setdefault(words[0], []).append(n)
        self._cache: dict[tuple[str, ...], re.Pattern] = {}

    def _pattern(self, text: str) -> re.Pattern | None:
        words = set(self._WORD.findall(text.lower()))
        cands = tuple(sorted((n for w in words & self._by_first.keys()
                              for n in self._by_first[w]), key=lambda n: (-len(n), n)))
        if not cands:
            return None
        pat = self._cache.get(cands)
        if pat is None:
            pat = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in cands)
                             + r")(?!\w)", re.IGNORECASE)
            self._cache[cands] = pat
        return pat

    def sub(self, replacement: str, text: str) -> str:
        pat = self._pattern(text)
        return pat.sub(replacement, text) if pat is not None else text

    def search(self, text: str) -> bool:
        pat = self._pattern(text)
        return bool(pat is not None and pat.search(text))


def _private_pattern(contacts: set[str], public: set[str]) -> PrivateNames | None:
    """The contact names that are not also the name of an organisation or solution in
    the registry ("Statistics Sweden" is both: an organisation's name)."""
    names = [n for n in contacts if name_key(n) not in public]
    return PrivateNames(names) if names else None


class Directory:
    """What a record's graph needs to know about the other records: canonical names (and
    websites) of organisations and sectors, so the same resource gets the same triples in
    every record graph that mentions it, and every contact name given anywhere, so none
    reaches free text."""

    def __init__(self, organisations: OrganisationTable | None = None) -> None:
        self.organisations = organisations
        self._names: dict[str, Counter] = {}
        self._sites: dict[str, Counter] = {}
        self._sectors: dict[str, Counter] = {}
        self._contacts: set[str] = set()
        self._public: set[str] = set()
        self._pattern: PrivateNames | None | bool = False

    @property
    def private_names(self) -> PrivateNames | None:
        if self._pattern is False:
            self._pattern = _private_pattern(self._contacts, self._public)
        return self._pattern

    def add_record(self, record: dict, iris) -> None:
        if not isinstance(record, dict):
            return
        contacts, public = _contact_names(record)
        self._contacts |= contacts
        self._public |= public
        self._pattern = False
        orgs = record.get("organizations")
        for o in orgs if isinstance(orgs, list) else []:
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                continue
            name = normalise_name(scrub_text(o["name"]))
            if not name:
                continue
            key = self.org_node(iris, name).value
            self._names.setdefault(key, Counter())[name] += 1
            site = o.get("website")
            if isinstance(site, str):
                urls, _ = clean_url(site)
                if urls:
                    self._sites.setdefault(key, Counter())[urls[0].value] += 1
        sectors = record.get("sectors")
        for s in sectors if isinstance(sectors, list) else []:
            if isinstance(s, str) and s.strip():
                label = normalise_name(s)
                self._sectors.setdefault(iris.sector(label).value, Counter())[label] += 1

    def fingerprint(self) -> str:
        """sha256 of all a record's conversion reads here (the organisation table is
        data/, part of the package's own fingerprint)."""
        from dpgkg.harvest.memo import fingerprint

        return fingerprint([self._names, self._sites, self._sectors, sorted(self._contacts),
                            sorted(self._public)])

    @staticmethod
    def _best(counter: Counter | None) -> str | None:
        if not counter:
            return None
        return min(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def org_node(self, iris, name: str) -> NamedNode:
        """The organisation a name denotes: the curated table decides, else the name."""
        if self.organisations is not None:
            return self.organisations.node(iris, name)
        return iris.organisation(name)

    def org_name(self, iri: NamedNode, fallback: str) -> str:
        """The organisation's name: the table's preferred name, else the spelling most
        records write."""
        if self.organisations is not None and self.organisations.find(fallback) is not None:
            return self.organisations.preferred(fallback)
        return self._best(self._names.get(iri.value)) or fallback

    def org_site(self, iri: NamedNode, fallback: NamedNode | None) -> NamedNode | None:
        best = self._best(self._sites.get(iri.value))
        return NamedNode(best) if best else fallback

    def sector_label(self, iri: NamedNode, fallback: str) -> str:
        return self._best(self._sectors.get(iri.value)) or fallback
