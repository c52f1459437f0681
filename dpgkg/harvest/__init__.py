"""Record -> triples. Pure functions, one module per source kind.

Every harvester returns a :class:`HarvestResult`: one :class:`HarvestedGraph` per
unit that can be replaced on its own (a registry record, a reference table), and
the problems met on the way. A problem names the file and the field; it never
stops the rest of the harvest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyoxigraph import NamedNode, Triple

from dpgkg.iris import IRIs
from dpgkg.problems import Problem

__all__ = ["HarvestContext", "HarvestResult", "HarvestedGraph", "Problem"]


@dataclass
class HarvestedGraph:
    graph: NamedNode
    key: str                   # stable key for the change feed: "nominees/kobotoolbox"
    triples: list[Triple]
    subject: NamedNode | None = None   # the main resource the graph describes, if one
    source_path: str | None = None     # a registry file's path ("nominees/x.json")...
    source_blob: str | None = None     # ...and the git blob SHA of what was read


@dataclass
class HarvestResult:
    graphs: list[HarvestedGraph] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: HarvestResult) -> None:
        self.graphs.extend(other.graphs)
        self.problems.extend(other.problems)


@dataclass(frozen=True)
class HarvestContext:
    """What every harvester needs besides its input: where IRIs live and when this is."""

    iris: IRIs
    retrieved: datetime = field(default_factory=lambda: datetime.now(UTC))
    commit: str | None = None  # source commit, when known
