"""Read the registry's git history: commits in, the few fields dates and changes need out.

``dpgkg build --history PATH|URL`` names a clone of github.com/DPGAlliance/publicgoods-
candidates (a working tree or a bare repository), a git bundle of it, or a git URL.
A bundle or URL is mirrored once into the cache directory and fetched again on later
builds. Reading uses pygit2 (libgit2: tree diffs in C, fast enough to walk the whole
history in well under a second); only a bundle needs the ``git`` program, because
libgit2 cannot read bundles.

The history read is the main branch's first-parent line: each commit there is one
change of the registry as published (a merged pull request, or a direct push), dated
by its commit time in UTC. For every commit the changed record files are kept (path,
new blob), and for every blob of a record only ``stage``, ``license``, ``SDGs`` and
``type`` are read: contact names and e-mail addresses are never even parsed out.

Both are immutable (a commit's first-parent diff, a blob's fields), so they are cached
by SHA in ``<cache>/history.sqlite``: a rebuild after new commits diffs and parses only
those.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from dpgkg.problems import Problem
from dpgkg.sources import SourceError, is_url

# Record folders of the registry, with the names they had earlier (renamed in 2019-12
# "candidates -> nominees" and 2021-05 "renamed folders"), mapped to what they are now.
FOLDERS = {
    "candidates": "nominees", "nominees": "nominees", "archive": "archive",
    "screening": "digitalpublicgoods", "digitalpublicgoods": "digitalpublicgoods",
    "excluded": "excluded-nominees", "excluded-nd": "excluded-nominees",
    "excluded-nominees": "excluded-nominees",
}
# Folders whose files are nominee-format records (their fields are read).
RECORD_FOLDERS = {"nominees", "archive", "excluded-nominees"}
CACHE_VERSION = "1"
GIT_URL_PREFIXES = ("http://", "https://", "git://", "ssh://", "file://", "git@")


@dataclass(frozen=True)
class Change:
    path: str              # as written in that commit: "candidates/dhis2.json"
    blob: str | None       # the new blob's SHA; None: the file was deleted


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str              # commit time, UTC, ISO date
    changes: tuple[Change, ...]


@dataclass
class History:
    """The first-parent line, oldest first, and the fields of each record blob."""

    location: str
    commits: list[Commit] = field(default_factory=list)
    # blob SHA -> {"stage", "license", "SDGs", "type"} as read, or {"error": message}
    blobs: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    read: int = 0          # commits diffed in this run (not from the cache)

    @property
    def head(self) -> str | None:
        return self.commits[-1].sha if self.commits else None


def folder_of(path: str) -> tuple[str, str] | None:
    """(folder as it is called now, record id) of a record file path, else None."""
    parts = path.split("/")
    if len(parts) != 2 or not parts[1].endswith(".json") or parts[0] not in FOLDERS:
        return None
    return FOLDERS[parts[0]], parts[1][:-5]


def blob_sha(data: bytes) -> str:
    """The git blob SHA of a file's content (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _pygit2():
    try:
        import pygit2
    except ImportError as exc:  # a declared dependency: an incomplete install
        raise SourceError("--history", "pygit2 is not installed (pip install pygit2)",
                          "history") from exc
    return pygit2


def is_git_url(location: str) -> bool:
    return is_url(location) or location.startswith(GIT_URL_PREFIXES)


def open_history(location: str, cache_dir: str | Path):
    """The pygit2 repository of `location`: a clone used where it is, or a mirror of a
    bundle or URL in the cache (created, else fetched). SourceError when it is not a git
    repository, cannot be fetched, or is not the registry."""
    pygit2 = _pygit2()
    if is_git_url(location):
        repo = _mirror(location, cache_dir, bundle=False)
    else:
        path = Path(location)
        if not path.exists():
            raise SourceError(location, "no such file or directory", "history")
        if path.is_file():
            repo = _mirror(str(path.resolve()), cache_dir, bundle=True)
        else:
            found = pygit2.discover_repository(str(path))
            if found is None or Path(found).resolve() not in (
                    (path / ".git").resolve(), path.resolve()):
                raise SourceError(location, "not a git repository (give a clone or a bundle "
                                  "of the registry, or its git URL)", "history")
            repo = pygit2.Repository(found)
    _check_registry(repo, location)
    return repo


def _mirror(location: str, cache_dir: str | Path, *, bundle: bool):
    pygit2 = _pygit2()
    key = hashlib.sha256(location.encode()).hexdigest()[:16]
    target = Path(cache_dir) / f"history-mirror-{key}.git"
    refspec = "+refs/heads/*:refs/heads/*"
    if bundle:
        git = shutil.which("git")
        if git is None:
            raise SourceError(location, "reading a git bundle needs the git program "
                              "(apt-get install git), or give a clone", "history")
        # A bundle is a file: the same bytes as the last fetch's hold nothing new, and
        # running git for them costs a build ~0.1 s.
        digest = hashlib.sha256(Path(location).read_bytes()).hexdigest()
        fetched = target / "dpgkg-bundle.sha256"
        if (target / "HEAD").exists() and fetched.exists() and \
                fetched.read_text().strip() == digest:
            return pygit2.Repository(str(target))
        if not target.exists():
            out = subprocess.run([git, "clone", "--quiet", "--mirror", location, str(target)],
                                 capture_output=True, text=True, check=False)
        else:
            out = subprocess.run([git, "-C", str(target), "fetch", "--quiet", location,
                                  refspec], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            if not (target / "HEAD").exists():
                shutil.rmtree(target, ignore_errors=True)
            why = (out.stderr.strip().splitlines() or ["git failed"])[-1]
            raise SourceError(location, f"not a git bundle of the registry ({why})", "history")
        fetched.write_text(digest + "\n")
        return pygit2.Repository(str(target))
    try:
        if not target.exists():
            return pygit2.clone_repository(location, str(target), bare=True)
        repo = pygit2.Repository(str(target))
        repo.remotes["origin"].fetch([refspec])
        return repo
    except (pygit2.GitError, KeyError, ValueError) as exc:
        if not (target / "HEAD").exists():
            shutil.rmtree(target, ignore_errors=True)
        raise SourceError(location, f"cannot fetch the git repository: {exc}",
                          "history") from exc


def _check_registry(repo, location: str) -> None:
    if repo.head_is_unborn:
        raise SourceError(location, "the git repository has no commits", "history")
    tree = repo.head.peel().tree
    if "nominees" not in tree or "nominee-schema.json" not in tree:
        raise SourceError(location, "not the DPG registry's history: its last commit has "
                          "no nominees/ and nominee-schema.json", "history")


# --------------------------------------------------------------------------- reading

def _fields(data: bytes) -> dict:
    """Only what history needs from one record version (never names or e-mails)."""
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return {"error": f"not UTF-8 text: {exc.reason}"}
    except json.JSONDecodeError as exc:
        return {"error": f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"}
    if not isinstance(obj, dict):
        return {"error": f"a record must be a JSON object, not {type(obj).__name__}"}
    return {k: obj.get(k) for k in ("stage", "license", "SDGs", "type")}


class _Cache:
    """Commit diffs and blob fields by SHA, in one SQLite file (both are immutable)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
        if row is None or row[0] != CACHE_VERSION:
            self.db.executescript("DROP TABLE IF EXISTS commits; DROP TABLE IF EXISTS blobs;")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)",
                            (CACHE_VERSION,))
        self.db.execute("CREATE TABLE IF NOT EXISTS commits (sha TEXT PRIMARY KEY, "
                        "date TEXT, changes TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS blobs (sha TEXT PRIMARY KEY, "
                        "fields TEXT)")

    def commits(self) -> dict[str, tuple[str, str]]:
        return {sha: (date, changes) for sha, date, changes
                in self.db.execute("SELECT sha, date, changes FROM commits")}

    def blobs(self) -> dict[str, dict]:
        return {sha: json.loads(f) for sha, f in self.db.execute("SELECT sha, fields FROM blobs")}

    def save(self, commits: list[tuple[str, str, str]], blobs: dict[str, dict]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO commits VALUES (?, ?, ?)", commits)
            self.db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in blobs.items()])

    def close(self) -> None:
        self.db.close()


def _first_parent_line(repo) -> list:
    line = []
    commit = repo.head.peel()
    while True:
        line.append(commit)
        if not commit.parent_ids:
            break
        commit = repo[commit.parent_ids[0]]
    line.reverse()
    return line


def _utc_date(commit) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(commit.commit_time, UTC).date().isoformat()


def _diff(repo, commit) -> list[Change]:
    pygit2 = _pygit2()
    if commit.parent_ids:
        diff = repo.diff(repo[commit.parent_ids[0]].tree, commit.tree)
    else:
        diff = commit.tree.diff_to_tree(swap=True)
    out = []
    for d in diff.deltas:
        if d.status == pygit2.GIT_DELTA_DELETED:
            if folder_of(d.old_file.path):
                out.append(Change(d.old_file.path, None))
            continue
        if d.status == pygit2.GIT_DELTA_RENAMED and folder_of(d.old_file.path):
            out.append(Change(d.old_file.path, None))
        if folder_of(d.new_file.path):
            out.append(Change(d.new_file.path, str(d.new_file.id)))
    return out


def read_history(repo, location: str, cache_dir: str | Path) -> History:
    """The first-parent line of `repo`'s HEAD with its record changes and blob fields,
    diffing and parsing only what the cache does not hold yet."""
    cache = _Cache(Path(cache_dir) / "history.sqlite")
    try:
        known_commits, blobs = cache.commits(), cache.blobs()
        history = History(location=location, blobs=blobs)
        new_commits: list[tuple[str, str, str]] = []
        new_blobs: dict[str, dict] = {}
        for c in _first_parent_line(repo):
            sha = str(c.id)
            if sha in known_commits:
                date, raw = known_commits[sha]
                changes = tuple(Change(p, b) for p, b in json.loads(raw))
            else:
                date, changes = _utc_date(c), tuple(_diff(repo, c))
                new_commits.append((sha, date, json.dumps([[x.path, x.blob] for x in changes])))
                history.read += 1
            for ch in changes:
                folder = folder_of(ch.path)
                if (ch.blob is not None and ch.blob not in blobs and folder is not None
                        and folder[0] in RECORD_FOLDERS):
                    blobs[ch.blob] = new_blobs[ch.blob] = _fields(repo[ch.blob].data)
            history.commits.append(Commit(sha, date, changes))
        if new_commits or new_blobs:
            cache.save(new_commits, new_blobs)
    finally:
        cache.close()
    for c in history.commits:
        for ch in c.changes:
            err = history.blobs.get(ch.blob or "", {}).get("error")
            if err:
                history.problems.append(Problem(
                    f"history commit {c.sha} {ch.path}", f"{err}: this version skipped",
                    severity="warning"))
    return history


def head_commit(repo) -> str:
    """The SHA of the commit `repo`'s HEAD is (what its first-parent line ends with)."""
    return str(repo.head.peel().id)


def load_history(location: str, cache_dir: str | Path) -> History:
    """Open (mirror or fetch) and read the registry's history at `location`."""
    return read_history(open_history(location, cache_dir), location, cache_dir)
