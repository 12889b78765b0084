"""Land-use hectares under zones, on hand-made rasters and plans whose answers are known exactly.

The same plan comes in two formats, a GeoTIFF of classes and a vector layer of polygons
(the raster's cells merged by class): each known answer is checked in both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from ccn_gis.crs import transform_geometries
from ccn_gis.io.raster import LandUseRaster, class_table_path, raster_class_areas
from ccn_gis.landuse import ClassTable, LandUseError, overlay_classes

X0, Y0 = 580_000.0, 2_260_060.0  # top-left corner of the rasters, EPSG:9209
CELL = 20.0
CELL_HA = CELL * CELL / 10_000
# 3 rows x 4 columns: 1 = LUC, 2 = ONT, 3 = SKN, 0 = nodata
GRID = np.array([[1, 1, 2, 2],
                 [1, 3, 3, 2],
                 [0, 0, 2, 2]], dtype="uint8")
CLASSES = pd.DataFrame({
    "value": ["1", "2", "3"], "code": ["LUC", "ONT", "SKN"],
    "name_vi": ["Đất chuyên trồng lúa nước", "Đất ở tại nông thôn", "Đất cụm công nghiệp"],
    "name_en": ["Specialised rice land", "Rural residential", "Industrial cluster"],
    "colour": ["#ffff64", "#ffb4b4", "#c896ff"],
})


def cells(col0: float, row0: float, col1: float, row1: float) -> shapely.Polygon:
    """A box in cell units: columns from the left, rows from the top."""
    return shapely.box(X0 + col0 * CELL, Y0 - row1 * CELL, X0 + col1 * CELL, Y0 - row0 * CELL)


def write_raster(path: Path, *, crs="EPSG:9209", grid=GRID, table=CLASSES) -> Path:
    transform = from_origin(X0, Y0, CELL, CELL)
    with rasterio.open(path, "w", driver="GTiff", height=grid.shape[0], width=grid.shape[1],
                       count=1, dtype=grid.dtype, crs=crs, transform=transform, nodata=0) as dst:
        dst.write(grid, 1)
    if table is not None:
        table.to_csv(class_table_path(path), index=False)
    return path


@pytest.fixture
def raster(tmp_path):
    return LandUseRaster.open(write_raster(tmp_path / "lu.tif"))


# GRID drawn as polygons: (box in cell units, code)
VECTOR_PLAN = [((0, 0, 2, 1), "LUC"), ((2, 0, 4, 1), "ONT"), ((0, 1, 1, 2), "LUC"),
               ((1, 1, 3, 2), "SKN"), ((3, 1, 4, 3), "ONT"), ((2, 2, 3, 3), "ONT")]


@pytest.fixture(params=["raster", "vector plan"])
def class_areas(request, tmp_path) -> Callable[[list, list[str]], pd.DataFrame]:
    """Hectares by class under zones (EPSG:9209), from the GeoTIFF or the vector plan."""
    if request.param == "raster":
        raster = LandUseRaster.open(write_raster(tmp_path / "lu.tif"))
        return lambda zones, ids: raster_class_areas(raster, zones, zone_ids=ids,
                                                     area_crs="EPSG:9209")
    plan = np.array([cells(*box) for box, _ in VECTOR_PLAN])
    codes = [code for _, code in VECTOR_PLAN]
    return lambda zones, ids: overlay_classes(ids, np.asarray(zones), codes, plan)


def by_code(frame: pd.DataFrame, zone: str) -> dict:
    rows = frame[frame["zone_id"] == zone]
    return {code: area for code, area in zip(rows["class_code"], rows["area_ha"], strict=True)}


def test_the_vector_plan_is_the_raster_drawn_as_polygons():
    drawn = np.zeros_like(GRID)
    for (col0, row0, col1, row1), code in VECTOR_PLAN:
        drawn[row0:row1, col0:col1] = CLASSES["value"][CLASSES["code"] == code].astype(int).item()
    assert (drawn == GRID).all()


def test_two_and_a_half_cells(class_areas):
    zone = cells(0, 0, 2.5, 1)  # two LUC cells and half an ONT cell
    result = class_areas([zone], ["z"])
    assert by_code(result, "z") == pytest.approx({"LUC": 2 * CELL_HA, "ONT": 0.5 * CELL_HA})
    assert result["share"].tolist() == pytest.approx([0.8, 0.2])


def test_partial_cells_everywhere(class_areas):
    zone = cells(0.5, 0.25, 3.25, 1.75)  # ragged on every side
    expected = {
        "LUC": (0.5 * 0.75 + 1 * 0.75 + 0.5 * 0.75) * CELL_HA,  # row 0 cols 0-1, row 1 col 0
        "ONT": (1 * 0.75 + 0.25 * 0.75 + 0.25 * 0.75) * CELL_HA,  # row 0 cols 2-3, row 1 col 3
        "SKN": 2 * 0.75 * CELL_HA,  # row 1 cols 1-2
    }
    result = class_areas([zone], ["z"])
    assert by_code(result, "z") == pytest.approx(expected)


def test_nodata_and_the_plan_edge_are_reported_as_uncovered(class_areas):
    # rows 1.5-3 of columns 0-2 (the two nodata cells and half a row above) and 2 cells beyond
    zone = cells(0, 1.5, 2, 4)
    areas = by_code(class_areas([zone], ["edge"]), "edge")
    assert areas["LUC"] == pytest.approx(0.5 * CELL_HA)
    assert areas["SKN"] == pytest.approx(0.5 * CELL_HA)
    assert areas[None] == pytest.approx((2 * 2.5 - 1) * CELL_HA)  # nodata and outside
    assert sum(areas.values()) == pytest.approx(shapely.area(zone) / 10_000)


def test_zone_entirely_outside(class_areas):
    zone = cells(10, 10, 12, 12)
    assert by_code(class_areas([zone], ["far"]), "far") == pytest.approx({None: 4 * CELL_HA})


def test_several_zones_at_once(class_areas):
    result = class_areas([cells(0, 0, 2.5, 1), cells(0, 1.5, 2, 4)], ["a", "b"])
    assert by_code(result, "a") == pytest.approx({"LUC": 2 * CELL_HA, "ONT": 0.5 * CELL_HA})
    assert by_code(result, "b") == pytest.approx(
        {"LUC": 0.5 * CELL_HA, "SKN": 0.5 * CELL_HA, None: 4 * CELL_HA})


def test_zones_in_wgs84_over_a_vn2000_raster(raster):
    zone = cells(0.25, 0.25, 2.75, 0.75)
    lonlat = transform_geometries(np.array([zone]), "EPSG:9209", "EPSG:4326")
    back = transform_geometries(lonlat, "EPSG:4326", "EPSG:9209")  # as a loader would
    result = raster_class_areas(raster, back, zone_ids=["z"], area_crs="EPSG:9209")
    expected = {"LUC": (0.75 + 1) * 0.5 * CELL_HA, "ONT": 0.75 * 0.5 * CELL_HA}
    assert by_code(result, "z") == pytest.approx(expected, rel=1e-4)


def test_raster_in_another_crs_is_not_reprojected(tmp_path):
    """A UTM raster and zones in VN-2000: areas agree with an exact cell-by-cell overlay."""
    rng = np.random.default_rng(7)
    grid = rng.integers(1, 4, size=(60, 60), dtype="uint8")
    path = tmp_path / "utm.tif"
    x0, y0 = 640_000.0, 2_263_000.0  # EPSG:32648 near Thái Bình
    with rasterio.open(path, "w", driver="GTiff", height=60, width=60, count=1, dtype="uint8",
                       crs="EPSG:32648", transform=from_origin(x0, y0, 20, 20), nodata=0) as dst:
        dst.write(grid, 1)
    CLASSES.to_csv(class_table_path(path), index=False)
    zone_utm = shapely.Polygon([(x0 + 113, y0 - 97), (x0 + 801, y0 - 211), (x0 + 655, y0 - 1033),
                                (x0 + 205, y0 - 870)])
    zone = transform_geometries(np.array([zone_utm]), "EPSG:32648", "EPSG:9209")
    result = raster_class_areas(LandUseRaster.open(path), zone, zone_ids=["z"],
                                area_crs="EPSG:9209")
    # independent: every cell as a polygon, intersected with the zone, scaled to EPSG:9209
    rows, cols = np.indices(grid.shape)
    boxes = shapely.box(x0 + cols * 20, y0 - (rows + 1) * 20, x0 + (cols + 1) * 20, y0 - rows * 20)
    pieces = shapely.area(shapely.intersection(boxes.ravel(), zone_utm))
    scale = shapely.area(zone[0]) / shapely.area(zone_utm)
    expected = {CLASSES["code"][v - 1]: pieces[grid.ravel() == v].sum() * scale / 10_000
                for v in (1, 2, 3)}
    assert by_code(result, "z") == pytest.approx(expected, rel=1e-3)
    assert sum(by_code(result, "z").values()) == pytest.approx(shapely.area(zone[0]) / 1e4)


def test_unknown_class_value_is_an_error(tmp_path):
    grid = GRID.copy()
    grid[0, 0] = 9
    raster = LandUseRaster.open(write_raster(tmp_path / "x.tif", grid=grid))
    with pytest.raises(LandUseError, match="value.* 9 .*in z"):
        raster_class_areas(raster, [cells(0, 0, 1, 1)], zone_ids=["z"], area_crs="EPSG:9209")


def test_raster_without_crs(tmp_path):
    with pytest.raises(LandUseError, match="no coordinate reference system"):
        LandUseRaster.open(write_raster(tmp_path / "nocrs.tif", crs=None))


def test_raster_without_class_table(tmp_path):
    with pytest.raises(LandUseError, match="nocsv.classes.csv is missing"):
        LandUseRaster.open(write_raster(tmp_path / "nocsv.tif", table=None))


@pytest.mark.parametrize("change, words", [
    (lambda t: t.assign(colour=["#ffff64", "yellow", "#c896ff"]), "line 3, field colour"),
    (lambda t: t.assign(value=["1", "1", "3"]), "1 appears more than once"),
    (lambda t: t.drop(columns="name_en"), "name_en"),
    (lambda t: t.assign(value=["1", "two", "3"]), "line 3, field value"),
])
def test_malformed_class_table(change, words):
    with pytest.raises(LandUseError, match=words):
        ClassTable.from_frame(change(CLASSES), source="lu.classes.csv")
