"""The change feed as a paged ActivityStreams 2.0 OrderedCollection.

Laid out as the IIIF Change Discovery API 1.0 lays out its feeds: the collection
(``/changes``) names its `first` and `last` pages; each OrderedCollectionPage has
`partOf`, `next`, `prev` and its `orderedItems`, oldest first, so a page once full
never changes and a harvester reads from `last` backwards to what it has seen (or
asks for ``?since=``). Each activity is one named graph of one build: Create,
Update (`changed`: "content" or "provenance") or Delete, with a stable id
(``<root>changes/<version>/<16 hex of sha256(graph IRI)>``) and, as its object's
`url`, where the graph's current content is served as N-Quads. Framework-free and
file-free: the view hands in the builds' summaries and a reader of their entries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode

from dpgkg.rdf import DPG

AS2 = "https://www.w3.org/ns/activitystreams"
AS2_MEDIA_TYPE = "application/activity+json"
AS2_PROFILE = f'application/ld+json; profile="{AS2}"'
# AS2's own context, and the two terms of ours an activity uses.
CONTEXT = [AS2, {"dpg": DPG.base, "changed": "dpg:changed",
                 "describes": {"@id": "dpg:describes", "@type": "@id"}}]
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
AS_TYPES = {"added": "Create", "changed": "Update", "removed": "Delete"}
VERSION = re.compile(r"\d{8}T\d{6}\d*Z")
BAD_SINCE = ("since must be a build version (like 20261207T193921300605Z) or an ISO 8601 "
             "date or date-time (like 2026-12-01 or 2026-12-01T12:00:00Z)")


class BadSince(ValueError):
    """`since` is neither a build version nor an ISO 8601 date or date-time."""


@dataclass(frozen=True)
class Since:
    """Builds after `version`, or built at or after `instant`."""

    text: str
    version: str | None = None
    instant: datetime | None = None

    def keeps(self, summary: dict) -> bool:
        if self.version is not None:
            return summary["version"] > self.version
        return built_time(summary) >= self.instant


def parse_since(text: str) -> Since:
    """A build version (strictly after it), a date (from its start, UTC) or a date-time
    (at or after it; UTC when it names no offset). Raises BadSince."""
    text = text.strip()
    if VERSION.fullmatch(text):
        return Since(text, version=text)
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            instant = datetime(d.year, d.month, d.day, tzinfo=UTC)
        else:
            instant = datetime.fromisoformat(text)
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
    except ValueError:
        raise BadSince(BAD_SINCE) from None
    return Since(text, instant=instant)


def version_time(version: str) -> datetime:
    """The time in a version id (``20261207T193921300605Z``: to the microsecond)."""
    for fmt, n in (("%Y%m%dT%H%M%S%f", 21), ("%Y%m%dT%H%M%S", 15)):
        try:
            return datetime.strptime(version[:n], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime(1970, 1, 1, tzinfo=UTC)


def built_time(summary: dict) -> datetime:
    """When a build ran (its `built`, else the time in its version id)."""
    built = summary.get("built")
    if built:
        try:
            t = datetime.fromisoformat(built)
            return t if t.tzinfo else t.replace(tzinfo=UTC)
        except ValueError:
            pass
    return version_time(summary["version"])


def _published(summary: dict) -> str:
    return built_time(summary).isoformat().replace("+00:00", "Z")


def graph_key(graph: str) -> str:
    """The last segment of an activity's id: 16 hex digits of sha256(graph IRI)."""
    return hashlib.sha256(graph.encode()).hexdigest()[:16]


def item_count(summary: dict) -> int:
    return sum(summary.get(k, 0) for k in ("added", "changed", "provenance", "removed"))


class FeedURLs:
    """The feed's URLs under the site's public root (ending in "/")."""

    def __init__(self, root: str, since: Since | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE):
        self.root, self.since, self.page_size = root, since, page_size

    def _query(self, **params) -> str:
        pairs = [("since", self.since.text)] if self.since else []
        pairs += [(k, v) for k, v in params.items() if v is not None]
        if self.page_size != DEFAULT_PAGE_SIZE:
            pairs.append(("page_size", self.page_size))
        return "?" + urlencode(pairs) if pairs else ""

    def collection(self) -> str:
        return f"{self.root}changes" + self._query()

    def page(self, n: int) -> str:
        return f"{self.root}changes" + self._query(page=n)

    def activity(self, version: str, graph: str) -> str:
        return f"{self.root}changes/{version}/{graph_key(graph)}"

    def graph(self, graph: str) -> str:
        return f"{self.root}changes/graph?iri={quote(graph, safe='')}"


def activities(entry: dict, urls: FeedURLs) -> list[dict]:
    """The activities of one build's feed entry, in the order of their graphs' IRIs."""
    summary = {"version": entry["version"], "built": entry.get("built")}
    published = _published(summary)
    items = []
    for kind, as_type in AS_TYPES.items():
        for it in entry.get(kind, []):
            graph = it["graph"]
            obj: dict = {"id": graph}
            if as_type != "Delete":
                obj["url"] = {"type": "Link", "href": urls.graph(graph),
                              "mediaType": "application/n-quads"}
            if it.get("resource"):
                obj["describes"] = it["resource"]
            what = it.get("changed", "content")  # entries before format 2: content
            done = f"changed ({what})" if kind == "changed" else kind
            activity = {"id": urls.activity(entry["version"], graph), "type": as_type,
                        "summary": f"build {entry['version']}: {graph} {done}",
                        "published": published, "endTime": published, "object": obj}
            if kind == "changed":
                activity["changed"] = what
            items.append(activity)
    items.sort(key=lambda a: a["object"]["id"])
    return items


class Feed:
    """The pages of the feed of `summaries` (oldest build first, as read from disk)
    whose entries `read_entry(version)` gives."""

    def __init__(self, summaries: list[dict], read_entry: Callable[[str], dict | None],
                 urls: FeedURLs):
        self.urls = urls
        since = urls.since
        self.builds = [s for s in summaries if since is None or since.keeps(s)]
        self.read_entry = read_entry
        self.total = sum(item_count(s) for s in self.builds)
        self.last = max(1, -(-self.total // urls.page_size))

    def _ref(self, n: int) -> dict:
        return {"id": self.urls.page(n), "type": "OrderedCollectionPage"}

    def collection(self) -> dict:
        doc = {"@context": CONTEXT, "id": self.urls.collection(), "type": "OrderedCollection",
               "summary": "What each build of the graph added, changed and removed, one "
                          "activity per named graph, oldest first",
               "totalItems": self.total, "first": self._ref(1), "last": self._ref(self.last)}
        if self.builds:
            doc["updated"] = _published(self.builds[-1])
        return doc

    def page(self, n: int) -> dict | None:
        """Page `n` (from 1), None past the last page."""
        if not 1 <= n <= self.last:
            return None
        start, size = (n - 1) * self.urls.page_size, self.urls.page_size
        items: list[dict] = []
        offset = 0
        for s in self.builds:
            count = item_count(s)
            if offset + count > start and offset < start + size:
                entry = self.read_entry(s["version"]) or {"version": s["version"]}
                acts = activities(entry, self.urls)
                items += acts[max(0, start - offset): start + size - offset]
            offset += count
            if offset >= start + size:
                break
        doc = {"@context": CONTEXT, "id": self.urls.page(n), "type": "OrderedCollectionPage",
               "partOf": {"id": self.urls.collection(), "type": "OrderedCollection",
                          "totalItems": self.total},
               "first": self._ref(1), "last": self._ref(self.last), "startIndex": start}
        if n > 1:
            doc["prev"] = self._ref(n - 1)
        if n < self.last:
            doc["next"] = self._ref(n + 1)
        doc["orderedItems"] = items
        return doc


def find_activity(entry: dict | None, key: str, urls: FeedURLs) -> dict | None:
    """The activity `<version>/<key>` of a build's entry, with its context; or None."""
    if entry is None:
        return None
    for a in activities(entry, urls):
        if a["id"].rsplit("/", 1)[-1] == key:
            return {"@context": CONTEXT, **a}
    return None
