"""Which organisation names may denote the same organisation: pure functions that
*propose*; the curated table (``data/organisations.csv``, :mod:`dpgkg.harvest.organisations`)
decides.

Every name is reduced to a few keys, and two names are a candidate pair when one key
agrees:

* ``spelling``: equal once case, spacing, punctuation and accents are folded
  ("OpenStreetMap" / "Open Street Map");
* ``legal form``: equal once a leading "The", legal suffixes (Inc., Ltd, gGmbH, ...) and
  an acronym in parentheses are dropped too ("Jembi Health Systems NPC");
* ``acronym``: an acronym, alone or in parentheses, against the other's acronym in
  parentheses or the initials of its long form ("FAO" / "Food and Agriculture
  Organization (FAO) of the United Nations");
* ``short name``: one name is the other's words with words added before or after
  ("UNICEF" / "UNICEF Ukraine", "Mozilla" / "Mozilla Foundation"), or each word of one
  abbreviates the other's ("eGov Foundation" / "eGovernments Foundation").
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

__all__ = ["Candidate", "NameKeys", "acronyms", "core_words", "fold", "keys", "propose"]

# Legal forms dropped from the end of a name (lower case, punctuation folded away).
LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "gmbh",
        "ggmbh",
        "sa",
        "sas",
        "sac",
        "ag",
        "ab",
        "bv",
        "nv",
        "plc",
        "pty",
        "pvt",
        "private",
        "npc",
        "cic",
        "ev",
        "corp",
        "corporation",
        "co",
        "company",
        "ngo",
        "srl",
        "oy",
        "as",
        "asa",
    }
)
# Words an acronym leaves out ("Food and Agriculture Organization" -> FAO).
_SMALL = frozenset(
    {
        "of",
        "and",
        "the",
        "for",
        "in",
        "on",
        "at",
        "de",
        "du",
        "des",
        "la",
        "le",
        "el",
        "fur",
        "und",
        "a",
        "an",
        "to",
    }
)
_PAREN = re.compile(r"\(\s*([^()]*?)\s*\)")
_WORD = re.compile(r"[a-z0-9]+")


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.lower().replace("&", " and ")


def fold(name: str) -> str:
    """Case, spacing, punctuation and accents folded: 'Open Street-Map' -> 'openstreetmap'."""
    return "".join(_WORD.findall(_ascii(name)))


def _words(text: str) -> list[str]:
    # "e.V." and "I.B.M." are one word each once their dots go
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)
    text = re.sub(r"\b([a-z])\.(?=[a-z]\b)", r"\1", text)
    return _WORD.findall(text)


def core_words(name: str) -> list[str]:
    """The words that name the organisation: no leading "the", no legal suffix, no
    acronym in parentheses."""
    words = _words(_PAREN.sub(" ", _ascii(name)))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words = words[:-1]
    return words


def _looks_like_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return 2 <= len(word) <= 10 and len(letters) >= 2 and " " not in word


def acronyms(name: str) -> set[str]:
    """Acronyms a name gives: in parentheses, the name itself when it is one word written
    with capitals ("FAO", "Norad"), and the initials of its long form."""
    found: set[str] = set()
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    for inner in _PAREN.findall(text):
        if _looks_like_acronym(inner.strip()):
            found.add(fold(inner))
    bare = _PAREN.sub(" ", text).strip()
    if _looks_like_acronym(bare) and sum(c.isupper() for c in bare) >= 2:
        found.add(fold(bare))
    words = core_words(name)
    if len(words) >= 3:
        found.add("".join(w[0] for w in words if w not in _SMALL))
    return found


@dataclass(frozen=True)
class NameKeys:
    name: str
    fold: str
    core: tuple[str, ...]
    acronyms: frozenset[str]
    alone: str | None  # the name as one acronym-like word, when it is one


def keys(name: str) -> NameKeys:
    core = tuple(core_words(name))
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().strip()
    alone = fold(text) if _looks_like_acronym(text) and len(core) == 1 else None
    return NameKeys(name, fold(name), core, frozenset(acronyms(name)), alone)


@dataclass(frozen=True)
class Candidate:
    """Two names that may denote one organisation, and why they were proposed."""

    a: str
    b: str
    reason: str  # "spelling" | "legal form" | "acronym" | "short name"


def _abbreviates(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return (
        len(short) == len(long)
        and short != long
        and all(w.startswith(s) and len(s) >= 3 for s, w in zip(short, long, strict=True))
    )


# Words that say what kind of body, not which: a name made of them alone ("Open Data")
# begins or ends too many others to propose them all.
_GENERIC = frozenset(
    {
        "open",
        "data",
        "digital",
        "health",
        "code",
        "project",
        "foundation",
        "network",
        "lab",
        "labs",
        "team",
        "group",
        "global",
        "international",
        "national",
        "public",
        "community",
        "initiative",
        "tech",
        "technology",
        "research",
        "institute",
        "university",
        "center",
        "centre",
        "government",
        "ministry",
        "office",
        "for",
        "of",
        "and",
        "the",
        "source",
    }
)


def _contains(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """`short` begins or ends `long` and says something: a generic one-word name ("Open")
    would match half the registry."""
    if not short or len(short) >= len(long):
        return False
    if sum(len(w) for w in short) < 3 or all(w in _GENERIC for w in short):
        return False
    n = len(short)
    return long[:n] == short or long[-n:] == short


def propose(names: Iterable[str]) -> list[Candidate]:
    """Candidate pairs among `names` (names already equal by IRI are not compared)."""
    from dpgkg.iris import slugify

    by_slug: dict[str, str] = {}
    for n in sorted(set(names)):
        by_slug.setdefault(slugify(n), n)
    ks = [keys(n) for n in by_slug.values()]
    found: dict[tuple[str, str], str] = {}

    def add(a: NameKeys, b: NameKeys, reason: str) -> None:
        if a.name == b.name:
            return
        pair = (a.name, b.name) if a.name < b.name else (b.name, a.name)
        found.setdefault(pair, reason)

    index: dict[tuple[str, object], list[NameKeys]] = defaultdict(list)
    for k in ks:
        index["fold", k.fold].append(k)
        index["core", k.core].append(k)
        for acr in k.acronyms:
            index["acr", acr].append(k)
        if k.core:
            index["first", k.core[0]].append(k)
            index["last", k.core[-1]].append(k)
        index["len", len(k.core)].append(k)
    for kind, reason in (("fold", "spelling"), ("core", "legal form")):
        for (what, _), group in index.items():
            if what == kind:
                for a, b in combinations(group, 2):
                    add(a, b, reason)
    for k in ks:
        if k.alone:
            for other in index.get(("acr", k.alone), []):
                add(k, other, "acronym")
        for acr in k.acronyms:
            for other in index.get(("acr", acr), []):
                if (
                    other.alone is None
                    and other is not k
                    and _explicit(k, acr)
                    and _explicit(other, acr)
                ):
                    add(k, other, "acronym")
        if not k.core:
            continue
        for other in index.get(("first", k.core[0]), []) + index.get(("last", k.core[-1]), []):
            if _contains(k.core, other.core):
                add(k, other, "short name")
        for other in index.get(("len", len(k.core)), []):
            if _abbreviates(k.core, other.core):
                add(k, other, "short name")
    return [Candidate(a, b, r) for (a, b), r in sorted(found.items())]


def _explicit(k: NameKeys, acr: str) -> bool:
    """Whether the name writes the acronym (in parentheses or alone), not only implies it
    by its initials: two long names with the same initials are not a candidate."""
    text = unicodedata.normalize("NFKD", k.name).encode("ascii", "ignore").decode()
    return k.alone == acr or any(fold(x) == acr for x in _PAREN.findall(text))
