"""Floor: read every layer of the GeoPackage with pyogrio and Arrow, nothing else.

``python read_floor.py GPKG``
"""

from __future__ import annotations

import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    (gpkg,) = argv
    phases = Phases()
    with phases("import"):
        import pyogrio
    rows = {}
    with phases("read_arrow"):
        for name, _ in pyogrio.list_layers(gpkg):
            rows[str(name)] = len(pyogrio.read_dataframe(gpkg, layer=name, use_arrow=True))
    report(phases, rows=rows)


if __name__ == "__main__":
    run(main, sys.argv[1:])
