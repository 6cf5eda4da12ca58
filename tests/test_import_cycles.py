"""No import cycles among tracemine's modules: the module-level import graph (imports inside functions and
``if TYPE_CHECKING:`` blocks left out: they run after every module is loaded) has no cycle, and every module
imports in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

import tracemine

PACKAGE = Path(tracemine.__file__).resolve().parent
KNOWN_CYCLES: list[list[str]] = []
"""Cycles left on purpose, each with the reason (none today)."""


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name → file, for every module of ``package``."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (class bodies too; not functions, not
    ``if TYPE_CHECKING:``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _module_level_imports(node.body)
            found += _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            found += _module_level_imports(node.body) + _module_level_imports(node.orelse)
            found += _module_level_imports(node.finalbody)
            for handler in node.handlers:
                found += _module_level_imports(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _module_level_imports(node.body)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    """Module → module it imports at module level. Importing ``a.b.c`` also runs ``a.b``'s ``__init__``:
    those packages are edges too, except the importer's own ancestors (already being imported)."""
    modules = module_names(package)
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        is_package = path.name == "__init__.py"
        own = set(_ancestors(name))
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            for target in targets:
                for dependency in [*_ancestors(target), target]:
                    if dependency in modules and dependency != name and dependency not in own:
                        graph.add_edge(name, dependency)
    return graph


def test_no_import_cycles_at_module_level() -> None:
    graph = import_graph()
    assert len(graph) > 100 and graph.has_edge("tracemine.pipeline", "tracemine.store")  # the graph is real
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert cycles == sorted(sorted(c) for c in KNOWN_CYCLES), cycles


def test_the_graph_sees_cycles_through_packages_but_not_through_functions(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from pkg.sub import inner\n")
    (package / "sub" / "inner.py").write_text("from pkg import top\n")
    (package / "top.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.lazy\n"
                                    "import pkg.sub.inner\n")
    (package / "lazy.py").write_text("def f():\n    import pkg.top\n")
    cycles = sorted(sorted(c) for c in nx.simple_cycles(import_graph(package)))
    assert cycles == [["pkg.sub", "pkg.sub.inner", "pkg.top"], ["pkg.sub.inner", "pkg.top"]]


def test_the_named_cycles_are_gone_even_through_function_level_imports() -> None:
    """backends ↔ pipeline, report ↔ summarise and timewindow → report were cycles through imports inside
    functions too; none of those modules imports the other any more (at any level)."""
    def imports_of(prefix: str) -> set[str]:
        found = set()
        for name, path in module_names().items():
            if name == prefix or name.startswith(prefix + "."):
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                    if isinstance(node, ast.ImportFrom) and node.module:
                        found.add(node.module)
                    elif isinstance(node, ast.Import):
                        found.update(a.name for a in node.names)
        return found

    def uses(prefix: str, other: str) -> bool:
        return any(m == other or m.startswith(other + ".") for m in imports_of(prefix))

    assert not uses("tracemine.backends", "tracemine.pipeline")
    assert not uses("tracemine.summarise", "tracemine.report")
    assert not uses("tracemine.timewindow", "tracemine.report")


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = [n for n in module_names() if not n.endswith("__main__")]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint('ok')\n"
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
