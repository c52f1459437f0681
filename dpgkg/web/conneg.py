"""Content negotiation: a small pure Accept parser and the choice among offers.

No Flask here, so the table test can call it directly and every view (SPARQL,
resources, catalogue) negotiates the same way.
"""

from __future__ import annotations

from functools import lru_cache


def _specificity(media_range: str, params: bool) -> int:
    if media_range == "*/*":
        return 0
    if media_range.endswith("/*"):
        return 1
    return 3 if params else 2


def _parse(header: str) -> list[tuple[str, float, int, int]]:
    """(media range, q, specificity, position) for each well-formed entry."""
    out = []
    for pos, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mt = fields[0].lower()
        if not mt:
            continue
        if mt == "*":  # some old clients send a bare "*"
            mt = "*/*"
        if mt.count("/") != 1 or mt.startswith("*/") and mt != "*/*":
            continue
        q, params = 1.0, False
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
            elif name.strip():
                params = True
        out.append((mt, q, _specificity(mt, params), pos))
    return out


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q, most preferred first.

    Sorted by q, then specificity (type/sub;param > type/sub > type/* > */*), then
    the order the client wrote them. Parameters other than q are dropped from the
    media type; malformed entries are skipped; a missing header is ``*/*``.
    """
    if header is None or not header.strip():
        return [("*/*", 1.0)]
    entries = _parse(header)
    entries.sort(key=lambda e: (-e[1], -e[2], e[3]))
    return [(mt, q) for mt, q, _, _ in entries]


def _matches(media_range: str, offer: str) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return offer.split("/", 1)[0] == media_range[:-2]
    return media_range == offer


def negotiate(accept_header: str | None, offers: list[str] | tuple[str, ...]) -> str | None:
    """The offer (a media type) the client prefers, or None if it accepts none of them.

    The first offer is the default for a missing header or ``*/*``. Each offer takes
    the q of the most specific range matching it (RFC 9110 12.5.1); ties go to the
    range the client wrote first, then to the server's order.
    """
    return _negotiate(accept_header, tuple(offers))


# Clients send a handful of distinct Accept headers; bounded, so odd ones cannot grow it.
@lru_cache(maxsize=512)
def _negotiate(accept_header: str | None, offers: tuple[str, ...]) -> str | None:
    if not offers:
        return None
    if accept_header is None or not accept_header.strip():
        return offers[0]
    entries = _parse(accept_header)
    if not entries:  # nothing we could read: as if no preference was given
        return offers[0]
    best: tuple | None = None
    best_offer = None
    for i, offer in enumerate(offers):
        o = offer.lower()
        matching = [e for e in entries if _matches(e[0], o)]
        if not matching:
            continue
        _, q, spec, pos = max(matching, key=lambda e: (e[2], -e[3]))
        if q <= 0:
            continue
        # Exact ranges beat wildcards at equal q so "*/*" does not override a named type.
        key = (q, spec >= 2, -pos if spec >= 2 else 0, -i)
        if best is None or key > best:
            best, best_offer = key, offer
    return best_offer
