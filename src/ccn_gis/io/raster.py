"""Land-use rasters: opening a GeoTIFF with its class table, and exact zonal class areas.

Zonal areas use exactextract, which reads only the windows the zones need and weighs
every cell by the exact fraction of it that a zone covers. Zones are reprojected to the
raster's CRS (the raster never is) and the areas carried back into the area CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from exactextract import exact_extract
from pyproj import CRS
from rasterio.errors import RasterioIOError

from ccn_gis.crs import resolve_crs, transform_geometries
from ccn_gis.landuse import ClassTable, LandUseError, check_values, rows_from_coverage

RASTER_SEQUENTIAL_FROM = 2_000
"""From this many zones on, exactextract walks the raster once instead of per zone."""


def class_table_path(raster: str | Path) -> Path:
    """Return where the class table of ``raster`` lives: ``<name without .tif>.classes.csv``."""
    path = Path(raster)
    return path.with_name(f"{path.stem}.classes.csv")


@dataclass(frozen=True)
class LandUseRaster:
    """A land-use GeoTIFF checked for what zonal figures need: a CRS and a class table."""

    path: Path
    crs: CRS
    table: ClassTable
    nodata: float | None
    cell_area: float  # in the raster CRS's units squared
    bounds: tuple[float, float, float, float]

    @classmethod
    def open(cls, path: str | Path) -> LandUseRaster:
        """Open and check ``path``.

        Raises
        ------
        LandUseError
            When the file cannot be read, has no CRS, is not one band of integers,
            or its class table is missing or malformed.
        """
        path = Path(path)
        try:
            with rasterio.open(path) as src:
                crs, nodata, transform = src.crs, src.nodata, src.transform
                dtype, count, bounds = src.dtypes[0], src.count, tuple(src.bounds)
        except RasterioIOError as err:
            raise LandUseError(f"{path}: not a readable GeoTIFF ({err})") from err
        if crs is None:
            raise LandUseError(
                f"{path}: the raster has no coordinate reference system; set it (QGIS: "
                "Raster ▸ Projections ▸ Assign Projection, or gdal_edit.py -a_srs EPSG:9209)")
        if count != 1 or not np.issubdtype(np.dtype(dtype), np.integer):
            raise LandUseError(
                f"{path}: a land-use raster has one band of integer classes; this one has "
                f"{count} band(s) of {dtype}")
        table_path = class_table_path(path)
        if not table_path.is_file():
            raise LandUseError(
                f"{path}: its class table {table_path.name} is missing; put a CSV with the "
                "columns value,code,name_vi,name_en,colour beside the raster")
        try:
            rows = pd.read_csv(table_path, dtype=str, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError) as err:
            raise LandUseError(f"{table_path}: not a UTF-8 CSV ({err})") from err
        table = ClassTable.from_frame(rows, source=str(table_path))
        return cls(path, resolve_crs(crs.to_wkt()), table, nodata,
                   abs(transform.a * transform.e - transform.b * transform.d), bounds)


def raster_class_areas(
    raster: LandUseRaster,
    zones: Any,
    /,
    *,
    zone_ids: list[str],
    area_crs: Any,
) -> pd.DataFrame:
    """Hectares of each land-use class inside each zone, with exact partial-cell coverage.

    Parameters
    ----------
    raster
        An opened land-use raster.
    zones
        Polygon geometries in ``area_crs``.
    zone_ids
        One id per zone.
    area_crs
        The CRS of ``zones`` and of the reported areas.

    Returns
    -------
    pandas.DataFrame
        ``zone_id``, ``class_code``, ``area_ha``, ``share``; the part of a zone outside
        the raster or on nodata cells has ``class_code`` ``None``.
    """
    geoms = np.asarray(zones, dtype=object)
    zone_ha = shapely.area(geoms) / 10_000.0
    in_raster_crs = transform_geometries(geoms, area_crs, raster.crs)
    frame = gpd.GeoDataFrame({"_zone": np.arange(len(geoms))}, geometry=in_raster_crs,
                             crs=raster.crs)
    if len(frame) == 0:
        return rows_from_coverage([], zone_ha, zone_ha, [], [], raster.table)
    strategy = "raster-sequential" if len(frame) >= RASTER_SEQUENTIAL_FROM else (
        "feature-sequential")
    result = exact_extract(str(raster.path), frame, ["unique", "frac", "count"],
                           include_cols=["_zone"], output="pandas", strategy=strategy)
    result = result.set_index("_zone").reindex(np.arange(len(geoms)))
    values = [np.asarray(v if isinstance(v, (list, np.ndarray)) else [], dtype=np.int64)
              for v in result["unique"]]
    fractions = [np.asarray(f if isinstance(f, (list, np.ndarray)) else [], dtype=float)
                 for f in result["frac"]]
    counts = result["count"].fillna(0.0).to_numpy(dtype=float)
    found: dict[int, list[str]] = {}
    for zid, vals in zip(zone_ids, values, strict=True):
        for v in vals:
            found.setdefault(int(v), []).append(zid)
    check_values(raster.table, list(found), zones=found)
    covered = [f * c * raster.cell_area for f, c in zip(fractions, counts, strict=True)]
    return rows_from_coverage(zone_ids, zone_ha, shapely.area(in_raster_crs), values, covered,
                              raster.table)
