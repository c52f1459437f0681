"""The registry's git history -> each record's dates and dated changes (pure functions).

:func:`fold` walks the first-parent line (:mod:`dpgkg.sources.history`) once and keeps,
per record id (the file name), the files it has in each folder. A commit that adds a
record's first file gives ``dct:issued``; the last commit touching any of its files gives
``dct:modified``; a change of where the registry files it (nominee, DPG, archived,
excluded) is a ``dpg:StageChange``; a change of its licences, SDGs or types is a
``dpg:LicenceChange``, ``dpg:SDGChange`` or ``dpg:TypeChange`` with what was added and
removed. Licences are compared normalised (``GPL-3.0`` and ``GPL-3.0-only`` are one
licence), so rewriting an id is no change. A version that is not valid JSON is skipped:
the record keeps what its previous version said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from dpgkg.harvest import HarvestContext, HarvestResult, Problem
from dpgkg.rdf import DCT, DPG, PROV, RDF, SDG, SPDX_LICENSE, XSD, lit
from dpgkg.sources.history import History, folder_of

STAGE_NODES = {"nominee": DPG.NomineeStage, "dpg": DPG.DPGStage,
               "archived": DPG.ArchivedStage, "excluded": DPG.ExcludedStage}
WRITTEN_STAGES = {"dpg": "dpg", "nominee": "nominee", "archive": "archived",
                  "archived": "archived", "excluded": "excluded"}
TYPES = {"software": DPG.Software, "data": DPG.Data, "content": DPG.Content,
         "standard": DPG.Standard, "aimodel": DPG.AIModel}
KINDS = {"stage": DPG.StageChange, "licence": DPG.LicenceChange, "sdg": DPG.SDGChange,
         "type": DPG.TypeChange}
# Which file describes a record that has several: as the registry harvest decides.
DESCRIBING = ("nominees", "archive", "excluded-nominees")


@dataclass
class Event:
    kind: str                      # "stage" | "licence" | "sdg" | "type"
    sha: str
    date: str
    from_stage: str | None = None  # keys of STAGE_NODES
    to_stage: str | None = None
    as_written: str | None = None  # the stage field of the file at that commit
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass
class RecordHistory:
    record_id: str
    issued: tuple[str, str] | None = None      # (date, commit)
    modified: tuple[str, str] | None = None
    events: list[Event] = field(default_factory=list)


@dataclass
class Folded:
    records: dict[str, RecordHistory]
    # (path, blob) -> the last commit whose tree held that blob at that path
    blob_commit: dict[tuple[str, str], str]
    head: str | None


# --------------------------------------------------------------------------- fields

def licence_keys(value, normalise: Callable[[str], str | None]) -> frozenset[str]:
    """Licence ids of a record version (any schema it had), normalised where known."""
    items = value if isinstance(value, list) else [value]
    out = set()
    for item in items:
        raw = item.get("spdx") if isinstance(item, dict) else item
        if isinstance(raw, str) and raw.strip():
            out.add(normalise(raw.strip()) or raw.strip())
    return frozenset(out)


def sdg_numbers(value) -> frozenset[str]:
    """SDG goal numbers of a record version: [3], [[3, "title"]], [{"SDGNumber": 3}]."""
    out = set()
    for item in value if isinstance(value, list) else [value]:
        n = item.get("SDGNumber") if isinstance(item, dict) else (
            item[0] if isinstance(item, list) and item else item)
        try:
            n = int(str(n).strip())
        except ValueError:
            continue
        if 1 <= n <= 17:
            out.add(str(n))
    return frozenset(out)


def type_keys(value) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    return frozenset(t.strip().lower() for t in items if isinstance(t, str) and t.strip())


def _stage(paths: dict[str, dict | None]) -> tuple[str | None, str | None]:
    """(registry stage key, stage as written) of a record with these files."""
    by_folder = _by_folder(paths)
    fields = by_folder.get("nominees")
    if fields is not None and "excluded-nominees" not in by_folder:
        written = fields.get("stage") if isinstance(fields.get("stage"), str) else None
        key = WRITTEN_STAGES.get((written or "nominee").strip().lower(), "nominee")
        return key, written
    for folder, key in (("archive", "archived"), ("excluded-nominees", "excluded")):
        if folder in by_folder:
            f = by_folder[folder] or {}
            return key, f.get("stage") if isinstance(f.get("stage"), str) else None
    return None, None


def _by_folder(paths: dict[str, dict | None]) -> dict[str, dict | None]:
    """Folder (as named now) -> fields of its file; the folder's current name wins."""
    out: dict[str, dict | None] = {}
    for path in sorted(paths, key=lambda p: folder_of(p)[0] != p.split("/")[0]):
        folder = folder_of(path)[0]
        out.setdefault(folder, paths[path])
    return out


# --------------------------------------------------------------------------- the fold

@dataclass
class _State:
    paths: dict[str, str] = field(default_factory=dict)       # path -> blob
    fields: dict[str, dict] = field(default_factory=dict)     # path -> last good fields
    stage: str | None = None
    sets: dict[str, frozenset] = field(default_factory=dict)  # kind -> last known set


def fold(history: History, normalise: Callable[[str], str | None]) -> Folded:
    """Every record's dates and events from the history (oldest commit first)."""
    states: dict[str, _State] = {}
    records: dict[str, RecordHistory] = {}
    blob_commit: dict[tuple[str, str], str] = {}
    previous = None
    for commit in history.commits:
        touched: set[str] = set()
        for ch in commit.changes:
            where = folder_of(ch.path)
            if where is None:
                continue
            rid = where[1]
            st = states.setdefault(rid, _State())
            old = st.paths.pop(ch.path, None)
            if old is not None and previous is not None:
                blob_commit[(ch.path, old)] = previous
            if ch.blob is not None:
                st.paths[ch.path] = ch.blob
                fields = history.blobs.get(ch.blob)
                if fields is not None and "error" not in fields:
                    st.fields[ch.path] = fields
                # malformed (reported by the reader): the path keeps what its previous
                # version said, or says nothing yet
            else:
                st.fields.pop(ch.path, None)
            touched.add(rid)
        for rid in sorted(touched):
            _after(commit.sha, commit.date, states[rid],
                   records.setdefault(rid, RecordHistory(rid)), normalise)
        previous = commit.sha
    for st in states.values():
        for path, blob in st.paths.items():
            blob_commit[(path, blob)] = previous
    return Folded({k: v for k, v in records.items() if v.issued is not None},
                  blob_commit, history.head)


def _after(sha: str, date: str, st: _State, rh: RecordHistory,
           normalise: Callable[[str], str | None]) -> None:
    """Update a record's history after a commit touched its files."""
    rh.modified = (date, sha)
    if not st.paths:
        return
    if rh.issued is None:
        rh.issued = (date, sha)
    present = {p: st.fields.get(p) for p in st.paths}
    stage, written = _stage(present)
    if stage is not None and stage != st.stage:
        rh.events.append(Event("stage", sha, date, from_stage=st.stage, to_stage=stage,
                               as_written=written))
        st.stage = stage
    by_folder = _by_folder(present)
    fields = next((by_folder[f] for f in DESCRIBING if by_folder.get(f) is not None), None)
    if fields is None:
        return
    for kind, now in (("licence", licence_keys(fields.get("license"), normalise)),
                      ("sdg", sdg_numbers(fields.get("SDGs"))),
                      ("type", type_keys(fields.get("type")))):
        before = st.sets.get(kind)
        if before is not None and before != now:
            rh.events.append(Event(kind, sha, date, added=tuple(sorted(now - before)),
                                   removed=tuple(sorted(before - now))))
        st.sets[kind] = now


# --------------------------------------------------------------------------- triples

def _value(kind: str, key: str, is_spdx: Callable[[str], bool]):
    if kind == "sdg":
        return SDG[key]
    if kind == "type":
        return TYPES.get(key) or lit(key)
    return SPDX_LICENSE[key] if is_spdx(key) else lit(key)


def history_triples(ctx: HarvestContext, solution: NamedNode, rh: RecordHistory,
                    is_spdx: Callable[[str], bool]) -> list[Triple]:
    """dct:issued, dct:modified and one prov:Activity per change, on `solution`."""
    out = []
    if rh.issued:
        out.append(Triple(solution, DCT.issued, lit(rh.issued[0], XSD.date)))
    if rh.modified:
        out.append(Triple(solution, DCT.modified, lit(rh.modified[0], XSD.date)))
    for e in rh.events:
        node = ctx.iris.part(solution, f"change-{e.sha[:12]}-{e.kind}")
        out += [Triple(solution, DPG.change, node),
                Triple(node, RDF.type, KINDS[e.kind]),
                Triple(node, RDF.type, PROV.Activity),
                Triple(node, DCT.date, lit(e.date, XSD.date)),
                Triple(node, DPG.commit, ctx.iris.registry_commit(e.sha))]
        if e.kind == "stage":
            if e.from_stage:
                out.append(Triple(node, DPG.fromStage, STAGE_NODES[e.from_stage]))
            out.append(Triple(node, DPG.toStage, STAGE_NODES[e.to_stage]))
            if e.as_written:
                out.append(Triple(node, DPG.stageAsWritten, lit(e.as_written)))
        for props, keys in (((DPG.added, DPG.addedAsWritten), e.added),
                            ((DPG.removed, DPG.removedAsWritten), e.removed)):
            for k in keys:
                v = _value(e.kind, k, is_spdx)
                out.append(Triple(node, props[isinstance(v, Literal)], v))
    return out


def attach_history(result: HarvestResult, history: History, ctx: HarvestContext,
                   normalise: Callable[[str], str | None],
                   is_spdx: Callable[[str], bool]) -> list[Problem]:
    """Add the history's dates and events to the record graphs of `result` and name in
    each graph's provenance the commit its file was read from; returns the problems."""
    return attach_folded(result, fold(history, normalise), history.problems, ctx, is_spdx)


def attach_folded(result: HarvestResult, folded: Folded, problems: list[Problem],
                  ctx: HarvestContext, is_spdx: Callable[[str], bool]) -> list[Problem]:
    """:func:`attach_history` of a history already folded (with the problems met reading
    it)."""
    problems = list(problems)
    unmatched = []
    for hg in result.graphs:
        if hg.source_path is None:
            if hg.key == "registry-source" and folded.head:
                _set_commit(hg, hg.subject, folded.head)
                _set_commit(hg, hg.graph, folded.head)
            continue
        commit = folded.blob_commit.get((hg.source_path, hg.source_blob or ""))
        if commit is None:
            unmatched.append(hg.source_path)
        else:
            _set_commit(hg, hg.graph, commit)
        rid = hg.key.split("/", 1)[1]
        if hg.subject is not None and rid in folded.records:
            hg.triples.extend(history_triples(ctx, hg.subject, folded.records[rid], is_spdx))
    if unmatched:
        problems.append(Problem(
            "history", f"{len(unmatched)} registry files (e.g. {unmatched[0]}) are in no "
            f"commit of the history (last commit {folded.head}): their source commit is "
            "unknown; is the history older than the registry read?", severity="warning"))
    return problems


def _set_commit(hg, node: NamedNode | None, commit: str) -> None:
    if node is None:
        return
    hg.triples[:] = [t for t in hg.triples
                     if not (t.subject == node and t.predicate == DPG.sourceCommit)]
    hg.triples.append(Triple(node, DPG.sourceCommit, lit(commit)))


# --------------------------------------------------------------------------- kept

def folded_to_json(folded: Folded, problems: list[Problem]) -> dict:
    """A fold and the problems met reading its history, as JSON (a build cache keeps it:
    the fold of a head commit never changes)."""
    from dataclasses import asdict

    return {
        "records": {rid: {"issued": rh.issued, "modified": rh.modified,
                          "events": [asdict(e) for e in rh.events]}
                    for rid, rh in folded.records.items()},
        "blob_commit": [[p, b, c] for (p, b), c in folded.blob_commit.items()],
        "head": folded.head,
        "problems": [asdict(p) for p in problems],
    }


def folded_from_json(data: dict) -> tuple[Folded, list[Problem]]:
    """What :func:`folded_to_json` gave (KeyError, TypeError or ValueError when not)."""
    def pair(v) -> tuple[str, str] | None:
        if v is None:
            return None
        date, sha = v
        return str(date), str(sha)

    records = {}
    for rid, r in data["records"].items():
        events = [Event(**{**e, "added": tuple(e["added"]), "removed": tuple(e["removed"])})
                  for e in r["events"]]
        if any(e.kind not in KINDS for e in events):
            raise ValueError("an event of an unknown kind")
        records[str(rid)] = RecordHistory(str(rid), pair(r["issued"]), pair(r["modified"]),
                                          events)
    blob_commit = {(str(p), str(b)): str(c) for p, b, c in data["blob_commit"]}
    head = data["head"]
    if head is not None and not isinstance(head, str):
        raise TypeError("head: a commit expected")
    return (Folded(records, blob_commit, head),
            [Problem(**p) for p in data["problems"]])
