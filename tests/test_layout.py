"""The code layout: no import cycle inside dpgkg (between modules, or between its parts
such as sources/ and harvest/), and no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "dpgkg"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The dpgkg modules `name` imports (anywhere in it, lazily too), with the packages
    whose __init__ such an import runs; imports under `if TYPE_CHECKING:` never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for stmt in node.body for n in ast.walk(stmt)}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            subs = {f"{base}.{a.name}" for a in node.names} & modules.keys()
            found |= subs
            if len(subs) < len(node.names):
                found.add(base)
    deps = set()
    for d in found:
        parts = d.split(".")
        for i in range(1, len(parts) + 1):
            m = ".".join(parts[:i])
            # importing a.b.c runs a/__init__ and a/b/__init__; a module's own packages
            # are already being imported when it runs
            if m in modules and m != name and not name.startswith(m + "."):
                deps.add(m)
    return deps


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_import_graph_is_read():
    graph = _graph()
    # a sample the checks below rely on: lazy and package imports are seen
    assert "dpgkg.config" in graph["dpgkg.cli"]
    assert "dpgkg.harvest.registry" in graph["dpgkg.build"]  # imported inside a function
    assert "dpgkg.harvest" in graph["dpgkg.validation.records"]  # runs harvest/__init__
    assert "dpgkg.sources" in graph["dpgkg.harvest.registry"]


def test_no_import_cycle_between_modules():
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles in dpgkg: {cycles}"


def test_no_import_cycle_between_parts():
    """sources -> harvest -> ... -> web: a part never imports one that imports it."""
    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    parts: dict[str, set[str]] = {}
    for name, deps in _graph().items():
        parts.setdefault(part(name), set()).update(part(d) for d in deps if part(d) != part(name))
    cycles = _cycles(parts)
    assert not cycles, f"import cycles between parts of dpgkg: {cycles}"


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_over_500_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by responsibility): {long}"
