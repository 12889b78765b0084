"""Vector tiles (OGC API – Tiles, MVT): checked against geopandas, mapbox_vector_tile and GDAL."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.tiles import TiledLayer, min_zoom

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
MVT = "application/vnd.mapbox-vector-tile"
HALF = 20037508.342789244  # half the Web Mercator world, metres
EXTENT = 4096
BUFFER = 64  # grid units the server keeps around a tile


def bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """west, south, east, north of XYZ tile z/x/y in EPSG:3857 (written here, not imported)."""
    size = 2 * HALF / 2**z
    west, north = -HALF + x * size, HALF - y * size
    return west, north - size, west + size, north


def tile_url(name: str, z: int, x: int, y: int) -> str:
    return f"/collections/{name}/tiles/WebMercatorQuad/{z}/{y}/{x}"  # z/row/col


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(AppSettings(layers=SAMPLE)))


@pytest.fixture(scope="module")
def parcels():
    """The sample's parcels in Web Mercator, straight from the file with geopandas."""
    return gpd.read_file(SAMPLE, layer="parcels").to_crs(3857)


def densest_tiles(frame: gpd.GeoDataFrame, z: int) -> list[tuple[int, int]]:
    """The tile holding most parcel centres at zoom z, and its eastern and southern neighbours."""
    size = 2 * HALF / 2**z
    centre = frame.geometry.centroid
    cols = np.floor((centre.x.to_numpy() + HALF) / size).astype(int)
    rows = np.floor((HALF - centre.y.to_numpy()) / size).astype(int)
    keys, counts = np.unique(np.stack([cols, rows], axis=1), axis=0, return_counts=True)
    x, y = keys[counts.argmax()]
    return [(int(x), int(y)), (int(x) + 1, int(y)), (int(x), int(y) + 1)]


def decode(content: bytes) -> dict[str, dict]:
    """The tile's parcels by parcel id, geometries back in EPSG:3857 metres (y up)."""
    layers = mapbox_vector_tile.decode(content)
    assert list(layers) == ["parcels"]
    assert layers["parcels"]["extent"] == EXTENT
    return {f["properties"]["parcel_id"]: f for f in layers["parcels"]["features"]}


def to_metres(geometry: dict, z: int, x: int, y: int) -> shapely.Geometry:
    west, south, east, _ = bounds(z, x, y)
    unit = (east - west) / EXTENT
    return shapely.transform(shape(geometry), lambda xy: (west, south) + xy * unit)


@pytest.mark.parametrize("z", [12, 13, 14, 15])
def test_a_tile_holds_the_parcels_that_touch_it(client, parcels, z):
    seen = 0
    for x, y in densest_tiles(parcels, z):
        west, south, east, north = bounds(z, x, y)
        unit = (east - west) / EXTENT
        box = shapely.box(west, south, east, north)
        response = client.get(tile_url("parcels", z, x, y))
        expected = set(parcels.parcel_id[parcels.intersects(box)])
        if response.status_code == 204:
            assert response.content == b""
            got = {}
        else:
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == MVT
            got = decode(response.content)
        geometry = dict(zip(parcels.parcel_id, parcels.geometry, strict=True))
        for pid in expected - set(got):  # only parcels that merely touch the tile's edge
            assert geometry[pid].intersection(box).area < unit**2, pid
        for pid in set(got) - expected:  # only parcels in the buffer around the tile
            assert geometry[pid].distance(box) <= BUFFER * unit, pid
        seen += len(expected & set(got))
    assert seen > 0


@pytest.mark.parametrize("z", [12, 15])
def test_decoded_coordinates_are_the_parcels_vertices(client, parcels, z):
    geometry = dict(zip(parcels.parcel_id, parcels.geometry, strict=True))
    errors = []
    for x, y in densest_tiles(parcels, z):
        west, south, east, north = bounds(z, x, y)
        unit = (east - west) / EXTENT
        pixel = (east - west) / 256
        buffered = shapely.box(west, south, east, north).buffer(BUFFER * unit, join_style="mitre")
        response = client.get(tile_url("parcels", z, x, y))
        if response.status_code == 204:
            continue
        for pid, feature in decode(response.content).items():
            decoded = to_metres(feature["geometry"], z, x, y)
            assert decoded.is_valid or decoded.buffer(0).area == pytest.approx(decoded.area), pid
            original = geometry[pid].intersection(buffered)
            errors.append(shapely.hausdorff_distance(decoded, original))
            assert decoded.area == pytest.approx(original.area, abs=4 * unit * original.length)
    assert len(errors) > 10
    assert max(errors) <= unit < pixel  # rounding to the 4096 grid, no more


def test_rings_wind_as_the_mvt_spec_says(client, parcels):
    """MVT 2.1, 4.3.4.4: in tile coordinates (y down) an exterior ring has a positive
    surveyor's-formula area (clockwise on screen), an interior ring a negative one."""
    x, y = densest_tiles(parcels, 13)[0]
    response = client.get(tile_url("parcels", 13, x, y))
    layer = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
    signs = []
    for feature in layer["parcels"]["features"]:
        geometry = feature["geometry"]
        polygons = ([geometry["coordinates"]] if geometry["type"] == "Polygon"
                    else geometry["coordinates"])
        for rings in polygons:
            for i, ring in enumerate(rings):
                xy = np.asarray(ring, dtype=float)
                area = np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]) / 2
                signs.append(area > 0 if i == 0 else area < 0)
    assert len(signs) > 10 and all(signs)


@pytest.mark.slow
def test_feature_ids_are_positions_and_properties_style_the_map(client):
    lim = client.get("/collections/parcels/tiles/WebMercatorQuad").json()["tileMatrixSetLimits"]
    z15 = next(entry for entry in lim if entry["tileMatrix"] == "15")
    found = {}
    for row in range(z15["minTileRow"], z15["maxTileRow"] + 1):
        for col in range(z15["minTileCol"], z15["maxTileCol"] + 1):
            response = client.get(tile_url("parcels", 15, col, row))
            if response.status_code == 200:
                for feature in mapbox_vector_tile.decode(response.content)["parcels"]["features"]:
                    found[feature["id"]] = feature["properties"]
        if len(found) > 100:
            break
    assert len(found) > 100
    for position in sorted(found)[:: max(1, len(found) // 8)]:
        item = client.get("/collections/parcels/items",
                          params={"limit": 1, "offset": position}).json()["features"][0]
        props = found[position]
        assert props["parcel_id"] == item["id"]
        for key in ("cluster_id", "land_use", "lease_status", "project_id", "leased_on"):
            assert props.get(key) == item["properties"][key], key  # absent when null
        assert "area_ha" not in props and "recovered" not in props


def test_clusters_tile_and_gzip(client, parcels):
    x, y = densest_tiles(parcels, 10)[0]
    response = client.get(tile_url("clusters", 10, x, y), headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    layer = mapbox_vector_tile.decode(response.content)["clusters"]
    assert {"cluster_id", "name", "stage"} <= set(layer["features"][0]["properties"])
    plain = client.get(tile_url("parcels", 10, x, y), headers={"accept-encoding": "identity"})
    zipped = client.get(tile_url("parcels", 10, x, y), headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in plain.headers and len(plain.content) > 1024
    assert zipped.headers["content-encoding"] == "gzip"  # the client unzips it
    assert zipped.content == plain.content


def test_points_tile(client):
    meta = client.get("/collections/promotion_activities/tiles/WebMercatorQuad").json()
    assert meta["layers"][0]["geometryDimension"] == 0
    limits = next(e for e in meta["tileMatrixSetLimits"] if e["tileMatrix"] == "8")
    response = client.get(tile_url("promotion_activities", 8, limits["minTileCol"],
                                   limits["minTileRow"]))
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content)["promotion_activities"]["features"]
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    assert all(isinstance(f["properties"]["year"], int) for f in features)


def test_empty_tile_is_204(client):
    response = client.get(tile_url("parcels", 12, 0, 0))
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/collections/nowhere/tiles/WebMercatorQuad/12/1808/3260", 404, "no collection"),
    ("/collections/projects/tiles/WebMercatorQuad/12/1808/3260", 404, "no geometry"),
    ("/collections/projects/tiles", 404, "no geometry"),
    ("/collections/parcels/tiles/WebMercatorQuad/30/0/0", 400, "tileMatrix"),
    ("/collections/parcels/tiles/WebMercatorQuad/-1/0/0", 400, "tileMatrix"),
    ("/collections/parcels/tiles/WebMercatorQuad/12/1808/4096", 400, "0 to 4095"),
    ("/collections/parcels/tiles/WebMercatorQuad/3/8/0", 400, "0 to 7"),
    ("/collections/parcels/tiles/WebMercatorQuad/12/abc/3260", 400, "tileRow"),
    ("/collections/parcels/tiles/WebMercatorQuad/12.5/1808/3260", 400, "tileMatrix"),
])
def test_errors_are_json_problems(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "description"} and words in body["description"]


def test_tilesets_and_the_collections_link(client):
    info = client.get("/collections/parcels").json()
    link = next(k for k in info["links"]
                if k["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
    assert link["href"] == "http://testserver/collections/parcels/tiles"
    projects = client.get("/collections/projects").json()
    assert not any("tiles" in k["href"] for k in projects["links"])

    tilesets = client.get(link["href"]).json()["tilesets"]
    assert len(tilesets) == 1
    tileset = tilesets[0]
    assert tileset["dataType"] == "vector"
    assert tileset["tileMatrixSetURI"] == (
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
    item = next(k for k in tileset["links"] if k["rel"] == "item")
    assert item["templated"] is True and item["type"] == MVT
    assert item["href"].endswith(
        "/collections/parcels/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")

    meta = client.get(next(k["href"] for k in tileset["links"] if k["rel"] == "self")).json()
    layer = meta["layers"][0]
    assert layer["id"] == "parcels" and layer["minTileMatrix"] == "0"  # 1,513 parcels: all zooms
    assert list(layer["propertiesSchema"]["properties"])[0] == "parcel_id"
    z12 = next(e for e in meta["tileMatrixSetLimits"] if e["tileMatrix"] == "12")
    assert z12["minTileCol"] <= 3260 <= z12["maxTileCol"]


def test_min_zoom_rule():
    crowd_lon, crowd_lat = np.full(50, 106.4), np.full(50, 20.5)  # one place: no zoom splits
    assert min_zoom(crowd_lon, crowd_lat, features_per_tile=49) == 22
    assert min_zoom(crowd_lon, crowd_lat, features_per_tile=50) == 0
    assert min_zoom(np.array([]), np.array([])) == 0
    # a row of points 0.0095° apart: a z12 tile (0.088° wide) holds 9 or 10 of them,
    # a z13 tile (0.044°) at most 5
    lon = np.linspace(106.0, 106.6, 64)
    assert min_zoom(lon, np.full(64, 20.5), features_per_tile=8) == 13
    assert min_zoom(lon, np.full(64, 20.5), features_per_tile=64) == 0


def test_below_the_min_zoom_a_tile_is_404():
    app = create_app(AppSettings(layers=SAMPLE))
    service = app.state.service
    served = service.snapshot()
    layers = {name: TiledLayer.from_collection(c, features_per_tile=100)
              for name, c in served.catalog.collections.items() if c.geometries is not None}
    service._current = dataclasses.replace(served, tiles=layers)  # as if tiled that way
    client = TestClient(app)
    low = layers["parcels"].min_zoom
    assert 5 < low < 16
    assert layers["clusters"].min_zoom == 0  # 66 clusters
    meta = client.get("/collections/parcels/tiles/WebMercatorQuad").json()
    assert meta["layers"][0]["minTileMatrix"] == str(low)
    assert meta["tileMatrixSetLimits"][0]["tileMatrix"] == str(low)
    for z in (low - 1, low):
        limits = [e for e in meta["tileMatrixSetLimits"] if e["tileMatrix"] == str(low)][0]
        x, y = limits["minTileCol"] >> (low - z), limits["minTileRow"] >> (low - z)
        response = client.get(tile_url("parcels", z, x, y))
        if z < low:
            assert response.status_code == 404
            assert f"from zoom {low}" in response.json()["description"]
        else:
            assert response.status_code in (200, 204)


def _has_mvt(ogrinfo: str) -> bool:
    """Whether this ``ogrinfo`` was built with GDAL's Mapbox Vector Tile driver."""
    formats = subprocess.run([ogrinfo, "--formats"], capture_output=True, text=True).stdout
    return re.search(r"^\s*MVT\b", formats, re.MULTILINE) is not None


def test_gdal_reads_a_tile(client, parcels, tmp_path, ogrinfo):
    if not _has_mvt(ogrinfo):
        pytest.skip("ogrinfo has no MVT driver")
    z = 14
    x, y = densest_tiles(parcels, z)[0]
    response = client.get(tile_url("parcels", z, x, y))
    assert response.status_code == 200
    path = tmp_path / "tiles" / str(z) / str(x) / f"{y}.pbf"  # GDAL georeferences z/x/y.pbf
    path.parent.mkdir(parents=True)
    path.write_bytes(response.content)
    out = subprocess.run([ogrinfo, "-ro", "-so", "-al", str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Layer name: parcels$", out, re.MULTILINE), out
    count = int(re.search(r"^Feature Count: (\d+)$", out, re.MULTILINE).group(1))
    assert count == len(decode(response.content)) > 10
    assert "parcel_id: String" in out and "land_use: String" in out
    extent = re.search(r"^Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)$", out,
                       re.MULTILINE)
    west, south, east, north = bounds(z, x, y)
    got = [float(v) for v in extent.groups()]
    margin = (east - west) * BUFFER / EXTENT + 1
    assert west - margin <= got[0] < got[2] <= east + margin
    assert south - margin <= got[1] < got[3] <= north + margin
