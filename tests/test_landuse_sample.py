"""Land use of the sample province: ``ccn-gis landuse`` against an independent exact computation."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.windows import from_bounds

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
RASTER = ROOT / "layers" / "thai_binh_landuse.tif"


def ccn_landuse(*args: str) -> list[dict]:
    run = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "landuse", "--layers", str(SAMPLE),
                          "--json", *args], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def by_zone(rows: list[dict]) -> dict[str, dict]:
    result: dict[str, dict] = {}
    for row in rows:
        result.setdefault(row["zone_id"], {})[row["class_code"]] = row["area_ha"]
    return result


def exact_cell_overlay(geom, src) -> dict[int, float]:
    """Every cell under ``geom`` as a polygon, intersected with it: m² by class value."""
    rough = from_bounds(*geom.bounds, transform=src.transform)
    col, row = math.floor(rough.col_off), math.floor(rough.row_off)
    window = rasterio.windows.Window(col, row, math.ceil(rough.width) + 2,
                                     math.ceil(rough.height) + 2)
    window = window.intersection(rasterio.windows.Window(0, 0, src.width, src.height))
    data = src.read(1, window=window, boundless=False)
    transform = src.window_transform(window)
    rows, cols = np.indices(data.shape)
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                        np.maximum(y0, y1))
    pieces = shapely.area(shapely.intersection(boxes.ravel(), geom))
    return {int(v): float(pieces[data.ravel() == v].sum()) for v in np.unique(data)}


def test_cluster_hectares_agree_with_an_exact_overlay_to_a_tenth_of_a_percent():
    ours = by_zone(ccn_landuse("--zones", "clusters"))
    clusters = gpd.read_file(SAMPLE, layer="clusters")
    classes = {int(v): c for v, c in np.loadtxt(
        RASTER.with_name("thai_binh_landuse.classes.csv"), delimiter=",", skiprows=1,
        usecols=(0, 1), dtype=str)}
    with rasterio.open(RASTER) as src:
        assert clusters.crs == src.crs  # both EPSG:9209 in the sample
        for cid, geom in zip(clusters["cluster_id"], clusters.geometry, strict=True):
            expected = {classes[v]: m2 / 10_000 for v, m2 in exact_cell_overlay(geom, src).items()
                        if v in classes and m2 > 0.01}
            got = {k: v for k, v in ours[cid].items() if k is not None}
            assert set(got) == set(expected), cid
            for code, ha in expected.items():
                assert got[code] == pytest.approx(ha, rel=1e-3, abs=1e-4), (cid, code)
            assert sum(ours[cid].values()) == pytest.approx(geom.area / 10_000, rel=1e-9)


def test_planned_clusters_stand_on_rice_and_established_ones_on_industrial_land():
    ours = by_zone(ccn_landuse("--zones", "clusters"))
    stats = json.loads(subprocess.run(
        [sys.executable, "-m", "ccn_gis.cli", "stats", "--json", "--by", "cluster", "--layers",
         str(SAMPLE)], capture_output=True, text=True, check=True).stdout)
    planned = [c["cluster_id"] for c in stats if c["established"]["count"] == 0]
    assert planned and all("SKN" not in ours[c] for c in planned)
    rice = sum(ours[c].get("LUC", 0) + ours[c].get("LUK", 0) for c in planned)
    assert rice > 0.5 * sum(sum(ours[c].values()) for c in planned)


def test_vector_plan_overlay_agrees_with_geopandas():
    ours = by_zone(ccn_landuse("--zones", "clusters", "--plan-layer", "landuse_plan"))
    clusters = gpd.read_file(SAMPLE, layer="clusters", engine="fiona").to_crs("EPSG:9209")
    plan = gpd.read_file(SAMPLE, layer="landuse_plan", engine="fiona").to_crs("EPSG:9209")
    theirs = gpd.overlay(clusters[["cluster_id", "geometry"]], plan[["code", "geometry"]],
                         how="intersection", keep_geom_type=True)
    theirs["ha"] = theirs.area / 10_000
    for (cid, code), ha in theirs.groupby(["cluster_id", "code"])["ha"].sum().items():
        if ha > 1e-4:
            assert ours[cid][code] == pytest.approx(ha, abs=1e-4), (cid, code)


def test_zones_from_a_file_in_wgs84(tmp_path):
    clusters = gpd.read_file(SAMPLE, layer="clusters").iloc[:5]
    path = tmp_path / "zones.geojson"
    clusters[["cluster_id", "geometry"]].to_crs("EPSG:4326").to_file(path)
    from_file = by_zone(ccn_landuse("--zones", str(path)))
    from_layer = by_zone(ccn_landuse("--zones", "clusters"))
    for cid, areas in from_file.items():
        assert areas == pytest.approx(from_layer[cid], rel=1e-4, abs=1e-4)


def test_table_output_is_vietnamese():
    run = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "landuse", "--layers", str(SAMPLE),
                          "--zones", "clusters"], capture_output=True, text=True, check=True)
    assert "Đất chuyên trồng lúa" in run.stdout and "Loại đất" in run.stdout
    assert any("," in line.split()[-3] for line in run.stdout.splitlines()[2:5])


@pytest.mark.parametrize("args, words", [
    (["--zones", "streets"], "--zones streets: no layer or file of that name"),
    (["--zones", "clusters", "--raster", "missing.tif"], "not a readable GeoTIFF"),
])
def test_mistakes(args, words):
    run = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "landuse", "--layers", str(SAMPLE),
                          *args], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and words in run.stderr and "Traceback" not in run.stderr
