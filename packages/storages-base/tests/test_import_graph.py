"""storages_base's own imports go one way: no module imports, at run time, one that
imports it back (``storage`` uses ``batch``, ``files``, ``preload``; never the reverse).

Imports under ``if TYPE_CHECKING:`` are for annotations only and are left out; imports
inside functions are counted (they run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import storages_base

ROOT = Path(storages_base.__file__).parent
PACKAGE = "storages_base"


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The storages_base modules ``module`` imports at run time."""
    found: set[str] = set()
    here = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from . import names` imports the module names
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {name for name in found if name in modules and name != module}


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in ROOT.rglob("*.py")}
    modules = set(paths)
    return {
        module: _imports(ast.parse(path.read_text()), module, path.name == "__init__.py", modules)
        for module, path in paths.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that starts and ends at the same module."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[module] = 2
        path.pop()
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_storages_base_imports_have_no_cycle() -> None:
    graph = import_graph()

    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_storage_depends_on_its_parts_and_not_the_reverse() -> None:
    graph = import_graph()

    assert {"storages_base.batch", "storages_base.files", "storages_base.preload"} <= graph[
        "storages_base.storage"
    ]
    for part in ("batch", "files", "preload", "content", "manifest"):
        assert "storages_base.storage" not in graph[f"storages_base.{part}"], part


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}

    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_type_checking_imports_are_left_out_and_function_imports_counted() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .storage import BaseStorage\n"
        "def f():\n    from .errors import StorageError\n"
    )
    modules = {"storages_base.storage", "storages_base.errors", "storages_base.files"}
    found = _imports(ast.parse(source), "storages_base.files", False, modules)

    assert found == {"storages_base.errors"}
