"""The benchmark scripts import each other downward only: the shared data helpers live in
benchmarks/shared_data.py, and no chain of imports between scripts comes back to where it started
(so each script can be read, and run, without loading the others)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
# The provenance benchmarks that once imported each other in a loop to share helpers.
PROVENANCE = ("claims_eval", "headline_trace", "provenance_recall", "train_reranker")


def benchmark_imports() -> dict[str, set[str]]:
    """Script name -> the other benchmark scripts it imports anywhere (functions included)."""
    scripts = {path.stem: path for path in BENCHMARKS.glob("*.py")}
    graph = {}
    for name, path in scripts.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
        graph[name] = {other for other in found if other in scripts and other != name}
    return graph


def looping(graph: dict[str, set[str]]) -> list[str]:
    """Scripts from which a chain of imports leads back to themselves."""

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for step in graph[start]:
            if step == target or (step not in seen and reaches(step, target, seen | {step})):
                return True
        return False

    return sorted(name for name in graph if reaches(name, name, {name}))


def test_no_benchmark_import_loops():
    assert looping(benchmark_imports()) == []


def test_provenance_benchmarks_share_helpers_through_one_module():
    graph = benchmark_imports()
    for name in PROVENANCE:
        assert graph[name] <= {"shared_data"}, (name, graph[name])
    assert graph["shared_data"] == set()


def test_the_loop_check_can_fail(tmp_path, monkeypatch):
    for name, body in (("a", "import b\n"), ("b", "from a import x\n")):
        (tmp_path / f"{name}.py").write_text(body)
    (tmp_path / "c.py").write_text("import a\n")
    monkeypatch.setattr(sys.modules[__name__], "BENCHMARKS", tmp_path)
    graph = benchmark_imports()
    assert graph == {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert looping(graph) == ["a", "b"]
