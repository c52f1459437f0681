"""Example queries: the questions the graph answers. The query page offers them,
`dpgkg query` can run them by title, and tests check their answers against the sources.
They live in ``data/queries/*.rq`` (one standalone query per file, titled by its first line)."""

from __future__ import annotations

from dpgkg.sources.data import example_queries

EXAMPLES: list[tuple[str, str]] = list(example_queries())


def find(title_part: str) -> str:
    """The one example whose title contains `title_part` (case-insensitive)."""
    found = [q for t, q in EXAMPLES if title_part.lower() in t.lower()]
    if len(found) != 1:
        raise KeyError(f"{len(found)} examples match {title_part!r}")
    return found[0]
