"""The examples of the docstrings (``>>>``) of ``ccn_gis`` and ``ccn_gis_api`` run and hold.

One test per module that has examples, run by :mod:`doctest` in the repository's root,
so that an example may open the sample as ``layers/thai_binh.gpkg``. Only an example
that needs a running server is marked ``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"ccn_gis": ROOT / "src" / "ccn_gis", "ccn_gis_api": ROOT / "api"}
"""Each first-party package and the folder it is installed from (pyproject's package-dir)."""
OPTIONS = doctest.ELLIPSIS
"""``...`` in an expected output stands for any text (a path, a long WKT)."""


def _modules_with_examples() -> list[str]:
    """The dotted name of every module whose source holds a ``>>>`` example."""
    found = []
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            if ">>>" not in path.read_text(encoding="utf-8"):
                continue
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found.append(".".join(parts))
    return found


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples(name, monkeypatch):
    """Every example of module ``name`` gives the output its docstring shows."""
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report: list[str] = []
    for test in finder.find(module, name):
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{name}: {results.failed} example(s) failed\n" + "".join(report)
