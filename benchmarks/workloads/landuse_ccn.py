"""ccn-gis: exact land-use hectares by class for every zone of a file.

``python landuse_ccn.py RASTER ZONES.gpkg AREA_CRS``: the zones read with pyogrio and
Arrow, then ``ccn_gis.io.raster.raster_class_areas`` (exactextract, exact partial
cells). Reports the hectares of each class over all zones.
"""

from __future__ import annotations

import sys

from _common import Phases, report, run


def main(argv: list[str]) -> None:
    raster_path, zones_path, area_crs = argv
    phases = Phases()
    with phases("import"):
        import pyogrio

        from ccn_gis.io.raster import LandUseRaster, raster_class_areas
    with phases("read_zones"):
        zones = pyogrio.read_dataframe(zones_path, use_arrow=True)
        raster = LandUseRaster.open(raster_path)
    with phases("raster_class_areas"):
        table = raster_class_areas(raster, zones.geometry.values,
                                   zone_ids=zones["parcel_id"].astype(str).tolist(),
                                   area_crs=area_crs)
    totals = table.groupby(table["class_code"].fillna("none"))["area_ha"].sum()
    report(phases, zones=len(zones), rows=len(table),
           class_ha={k: round(float(v), 4) for k, v in totals.items()})


if __name__ == "__main__":
    run(main, sys.argv[1:])
