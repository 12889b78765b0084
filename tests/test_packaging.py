"""Every package the code imports is declared in pyproject.toml, in the part a user installs.

The test environment holds every extra (and the test tools pull in more), so a missing
declaration does not show in the other tests: ``import yaml`` once worked here only
because schemathesis, a test tool, brings PyYAML, while ``scripts/run.sh`` installs
``.[server]`` and its server failed to start on a fresh machine.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCAL = {"ccn_gis", "ccn_gis_api", "__future__"}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


@functools.cache
def _installed_closure(requirements: tuple[str, ...]) -> frozenset[str]:
    """The declared distributions and everything they require (their own extras aside),
    worked out once per part."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = _name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for text in md.requires(requirement.name) or []:
            found = Requirement(text)
            if found.marker is None or found.marker.evaluate({"extra": ""}):
                todo.append(found)
    return frozenset(seen)


@functools.cache
def _distributions() -> dict[str, list[str]]:
    """The installed distributions by the top-level module they provide, looked up once."""
    return md.packages_distributions()


def _imported(path: Path) -> set[str]:
    """Top-level names of the modules ``path`` imports (at any depth), stdlib aside."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - LOCAL - set(sys.stdlib_module_names)


def _extras(*names: str) -> list[str]:
    return [r for n in names for r in PROJECT["optional-dependencies"][n]]


# what a user installs to run each part: the library alone, the server, the notebooks
PARTS = {
    "src/ccn_gis/notebook.py": PROJECT["dependencies"] + _extras("notebooks"),
    "src/ccn_gis/notebook": PROJECT["dependencies"] + _extras("notebooks"),  # as a package
    "src/ccn_gis/cli.py": PROJECT["dependencies"] + _extras("server"),  # `serve` needs it
    "src/ccn_gis": PROJECT["dependencies"],
    "api": PROJECT["dependencies"] + _extras("server"),
}


def _part(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    return next(p for p in PARTS if relative == p or relative.startswith(p + "/"))


@pytest.mark.parametrize("path", sorted([*(ROOT / "src" / "ccn_gis").rglob("*.py"),
                                         *(ROOT / "api").rglob("*.py")]),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_are_declared(path):
    declared = _installed_closure(tuple(PARTS[_part(path)]))
    distributions = _distributions()
    missing = {
        module: distributions.get(module, [module])
        for module in _imported(path)
        if not {_name(d) for d in distributions.get(module, [module])} & declared
    }
    assert not missing, (f"{path.relative_to(ROOT)} imports {missing}, which "
                         f"pyproject.toml does not declare for {_part(path)}")
