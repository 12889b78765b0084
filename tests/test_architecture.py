"""The shape of the house: imports point one way, no circle, and files read in one sitting.

The import graph is read from the source (every ``import`` and ``from … import``,
including those under ``TYPE_CHECKING`` and inside functions), not from what Python
happens to have imported, so that a type-only circle fails as surely as a real one.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"ccn_gis": ROOT / "src" / "ccn_gis", "ccn_gis_api": ROOT / "api"}
"""Each first-party package and the folder it is installed from (pyproject's package-dir)."""
VENDORED = (ROOT / "api" / "static" / "vendor",)
"""Third-party code shipped as it came, not ours to split."""

MAX_LINES = 600
"""The longest a module may be: a few hundred lines, read in one sitting (STYLE.md)."""

BASE = frozenset({
    "ccn_gis.problems",
    "ccn_gis.language",
    "ccn_gis.errors",
    "ccn_gis.model",
    "ccn_gis.formats",
    "ccn_gis.texts",
})
"""The ground floor of ``ccn_gis``: these import no module of ours but each other."""

NOT_DOMAIN = ("ccn_gis.io", "ccn_gis.cli", "ccn_gis.cli_users", "ccn_gis.notebook")
"""The parts of ``ccn_gis`` that are io or interfaces; everything else is the domain."""
FACADE = "ccn_gis"
"""The package itself: it gathers the public names (``load_dataset`` among them) in one
place for users, so it is an interface, not domain code."""
ABOVE_THE_DOMAIN = ("ccn_gis.io", "ccn_gis_api", "fastapi", "starlette")
"""What the domain must not import: storage and the web."""


@cache
def modules() -> dict[str, Path]:
    """Every first-party module by dotted name (a package by its own name)."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            if any(path.is_relative_to(v) for v in VENDORED):
                continue
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported_names(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """The dotted names ``module`` imports anywhere in ``source``, relative imports resolved.

    A ``from a import b`` gives ``a.b``: the module ``b`` of package ``a``, or the name
    ``b`` of module ``a`` (:func:`_first_party` tells which).

    Examples
    --------
    >>> sorted(imported_names("p.m", "from . import q\\nif X:\\n    from .r import s"))
    ['p.q', 'p.r.s']
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _imports_of(module: str) -> set[str]:
    path = modules()[module]
    return imported_names(module, path.read_text(encoding="utf-8"),
                          is_package=path.name == "__init__.py")


def _first_party(name: str) -> str | None:
    """The first-party module that ``name`` is, or is inside of; None for a third party."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module → the first-party modules it imports (itself left out)."""
    graph = {}
    for module in modules():
        targets = {_first_party(name) for name in _imports_of(module)}
        graph[module] = frozenset(t for t in targets if t is not None and t != module)
    return graph


def import_cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Every circle of ``graph``: one per strongly connected component of two or more
    modules, as a path that starts and ends at its first module (Tarjan's algorithm).

    Examples
    --------
    >>> import_cycles({"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset({"a"})})
    [['a', 'b', 'a']]
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(_one_circle(graph, c) for c in components)


def _one_circle(graph: dict[str, frozenset[str]], component: set[str]) -> list[str]:
    """A shortest circle through the first module of ``component``, to name in a message."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{sorted(component)} is not strongly connected")


def test_the_graph_sees_every_kind_of_import():
    """Type-only, function-level, relative and plain imports are all edges of the graph."""
    source = """
import ccn_gis.crs
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from ccn_gis.validation import Problem
from .store import LayerStore
from .. import model
def later():
    from ccn_gis.settings import check_settings
"""
    names = imported_names("ccn_gis.io.gpkg", source)
    assert {"ccn_gis.crs", "ccn_gis.validation", "ccn_gis.io.store", "ccn_gis.model",
            "ccn_gis.settings"} <= {_first_party(n) for n in names}
    assert len(import_graph()) > 40
    assert "ccn_gis.problems" in import_graph()["ccn_gis.errors"]


def test_no_import_circle():
    """No module imports, even only for type checking, a module that imports it back."""
    cycles = import_cycles(import_graph())
    assert not cycles, "import circles: " + "; ".join(" → ".join(c) for c in cycles)


def test_base_modules_import_only_base_modules():
    """The errors, problems, languages, vocabularies and number formats are the ground
    floor: every other module may import them because they import nothing above them."""
    graph = import_graph()
    assert BASE <= set(graph), f"base modules not found: {sorted(BASE - set(graph))}"
    above = {m: sorted(graph[m] - BASE) for m in sorted(BASE) if graph[m] - BASE}
    assert not above, f"base modules importing modules above them: {above}"


def _python_files() -> list[str]:
    return sorted(
        p.relative_to(ROOT).as_posix()
        for folder in (ROOT / "src", ROOT / "api")
        for p in folder.rglob("*.py")
        if not any(p.is_relative_to(v) for v in VENDORED)
    )


@pytest.mark.parametrize("name", list(_python_files()))
def test_every_module_reads_in_one_sitting(name):
    """No Python file of src/ or api/ is longer than :data:`MAX_LINES` lines."""
    lines = len((ROOT / name).read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (at most {MAX_LINES})"


def _is_domain(module: str) -> bool:
    if module == FACADE or not module.startswith("ccn_gis."):
        return False
    return not any(module == part or module.startswith(f"{part}.") for part in NOT_DOMAIN)


def test_the_domain_imports_no_storage_and_no_web():
    """Domain modules import neither :mod:`ccn_gis.io` nor the web (FastAPI, Starlette,
    the API): the domain takes frames and geometries, and knows no files and no HTTP."""
    found = {}
    for module in modules():
        if not _is_domain(module):
            continue
        bad = sorted(n for n in _imports_of(module) if any(n == a or n.startswith(f"{a}.")
                                             for a in ABOVE_THE_DOMAIN))
        if bad:
            found[module] = bad
    assert not found, f"domain modules importing io or the web: {found}"
