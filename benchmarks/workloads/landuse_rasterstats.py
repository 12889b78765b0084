"""Baseline: land-use hectares by class with ``rasterstats.zonal_stats(categorical=True)``.

``python landuse_rasterstats.py RASTER ZONES.gpkg`` (in the baselines' environment):
the zones file given as a path (rasterstats reads it with fiona), cells counted by their
centre (not exact), hectares = count x cell area.
"""

from __future__ import annotations

import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    raster_path, zones_path = argv
    phases = Phases()
    with phases("import"):
        import rasterio
        from rasterstats import zonal_stats
    with rasterio.open(raster_path) as src:
        cell_ha = abs(src.transform.a * src.transform.e) / 10_000.0
        codes = {}
    with open(raster_path.removesuffix(".tif") + ".classes.csv", encoding="utf-8") as f:
        next(f)
        for line in f:
            value, code = line.split(",")[:2]
            codes[int(value)] = code
    with phases("zonal_stats"):
        stats = zonal_stats(zones_path, raster_path, categorical=True)
    totals: dict[str, float] = {}
    for counts in stats:
        for value, count in counts.items():
            code = codes.get(int(value), str(value))
            totals[code] = totals.get(code, 0.0) + count * cell_ha
    report(phases, zones=len(stats), class_ha={k: round(v, 4) for k, v in totals.items()})


if __name__ == "__main__":
    run(main, sys.argv[1:])
