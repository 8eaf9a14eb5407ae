"""The package layout: dependencies run one way (cli -> pipelines -> ngrams -> io -> errors), no cycles.

The imports are read from the source (every ``import`` and ``from ... import``,
at module level or inside a function), so a lazy import counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# layer of each top-level part; a module may import its own part or a lower layer,
# and the three pipelines never import one another
LAYERS = {
    "mintext.errors": 0,
    "mintext.io": 1,
    "mintext.cluster": 1.5,
    "mintext.ngrams": 2,
    "mintext.discovery": 3,
    "mintext.association": 3,
    "mintext.parse": 3,
    "mintext.pretraining": 3.5,  # pretraining builds on parse (checkpoints, tokens) and discovery (lexicons)
    "cli": 4,
}
# mintext/__init__.py names the public API lazily (strings, not imports); cli reads its __version__
FACADE = "mintext"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    paths = [*REPO.joinpath("mintext").rglob("*.py"), *REPO.joinpath("cli").rglob("*.py")]
    return {module_name(p): p for p in paths}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``path`` imports (``from P import m`` counts as P.m when m is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known}


def part_of(name: str) -> str:
    for part in sorted(LAYERS, key=len, reverse=True):
        if name == part or name.startswith(part + "."):
            return part
    return FACADE


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def test_every_module_has_a_layer(graph):
    assert [m for m in graph if part_of(m) == FACADE and m != FACADE] == []


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a higher layer, or of another part of the same layer (one pipeline of another)."""
    wrong = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            source_part, target_part = part_of(module), part_of(target)
            if FACADE in (module, target) or source_part == target_part:
                continue
            if LAYERS[target_part] >= LAYERS[source_part]:
                wrong.append(f"{module} imports {target}")
    return wrong


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every import cycle met by a depth-first walk, as 'a -> b -> a'."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                found.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_imports_run_one_way(graph):
    assert wrong_way(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_checks_see_a_cycle_and_a_wrong_way_import(tmp_path):
    """The checks themselves, on hand-made modules: an io module that imports discovery (wrong way),
    a pair that import each other (a cycle), and two pipelines importing each other."""
    known = {"mintext.io.a", "mintext.io.b", "mintext.discovery.c", "mintext.parse.d"}
    a = tmp_path / "a.py"
    a.write_text("from mintext.io.b import x\ndef f():\n    import mintext.discovery.c\n")
    b = tmp_path / "b.py"
    b.write_text("from mintext.io import a\n")
    graph = {"mintext.io.a": imported_modules(a, "mintext.io.a", known),
             "mintext.io.b": imported_modules(b, "mintext.io.b", known),
             "mintext.discovery.c": {"mintext.parse.d"}, "mintext.parse.d": set()}
    assert graph["mintext.io.a"] == {"mintext.io.b", "mintext.discovery.c"}
    assert graph["mintext.io.b"] == {"mintext.io.a"}
    assert wrong_way(graph) == ["mintext.discovery.c imports mintext.parse.d", "mintext.io.a imports mintext.discovery.c"]
    assert cycles(graph) == ["mintext.io.a -> mintext.io.b -> mintext.io.a"]


def test_packages_say_what_they_do():
    for package in ["mintext", *LAYERS]:
        path = REPO.joinpath(*package.split("."))
        init = path / "__init__.py"
        if path.is_dir():
            assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init} has no docstring"
