"""No import cycle through the detectors or the provenance index: every ``import`` of unspun's own
modules is read from the source with ``ast`` (those inside functions and ``if TYPE_CHECKING:``
blocks too, since a cycle hidden in a function still ties the modules together), and the module
graph of the whole package must have no cycle that passes through detect/ or provenance/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
CHECKED = ("unspun.detect", "unspun.provenance")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(root: Path = SRC) -> dict[str, Path]:
    """Module name -> source file of every module under ``root``/unspun."""
    return {module_name(path, root): path for path in sorted((root / "unspun").rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """unspun modules that ``name`` imports anywhere in its source. ``from a import b`` counts as
    importing ``a.b`` when that is a module, else ``a``; a package's ``__init__`` that Python runs
    on the way to a submodule is not counted (only what a module names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in known:
                    found.add(submodule)
                elif source in known:
                    found.add(source)
    found.discard(name)
    return found


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    modules = all_modules(root)
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    source = tmp_path / "unspun"
    (source / "detect").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "detect" / "__init__.py").write_text("")
    (source / "detect" / "a.py").write_text("from unspun.detect import b\n")
    (source / "detect" / "b.py").write_text("def f():\n    from unspun.detect.a import x\n")
    (source / "detect" / "c.py").write_text("from . import a\n")
    graph = import_graph(tmp_path)
    assert graph["unspun.detect.c"] == {"unspun.detect.a"}  # a relative import, resolved
    assert cycles(graph) == [["unspun.detect.a", "unspun.detect.b"]]


def test_the_graph_sees_the_package_as_it_is() -> None:
    graph = import_graph()
    # A few edges that exist, read from inside functions and at the top.
    assert "unspun.detect.registry" in graph["unspun.detect.base"]
    assert "unspun.provenance.sqlite" in graph["unspun.provenance.store"]
    assert "unspun.detect.calibration" in graph["unspun.detect.ensemble"]


@pytest.mark.parametrize("package", CHECKED)
def test_no_import_cycle_passes_through(package: str) -> None:
    through = [
        component
        for component in cycles(import_graph())
        if any(name == package or name.startswith(package + ".") for name in component)
    ]
    assert through == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in through)
