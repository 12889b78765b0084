"""ccn-gis: every figure of ``stats`` (province, units, clusters) from the file, cold.

``python stats_ccn.py GPKG OUT.json``: ``load_dataset`` (read, validate, normalise),
then ``figures_json`` for the three levels, written to OUT.json.
"""

from __future__ import annotations

import json
import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    gpkg, out = argv
    phases = Phases()
    with phases("import"):
        from ccn_gis import load_dataset
        from ccn_gis.figures import figures_json
    with phases("load_dataset"):
        dataset = load_dataset(gpkg)
    figures = {}
    for by in ("province", "admin", "cluster"):
        with phases(f"figures_{by}"):
            figures[by] = figures_json(dataset, by=by)
    with phases("write_json"):
        with open(out, "w", encoding="utf-8") as f:
            json.dump(figures, f, ensure_ascii=False)
    report(phases, province=figures["province"], units=len(figures["admin"]),
           clusters=len(figures["cluster"]), warnings=len(dataset.warnings))


if __name__ == "__main__":
    run(main, sys.argv[1:])
