"""The web API through FastAPI's TestClient: OGC API – Features, figures and errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

import sample_figures as published
from builders import tiny_layers, write_layers
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.models import CollectionInfo, Collections, FeatureCollection, Landing

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(AppSettings(layers=SAMPLE)))


@pytest.fixture(scope="module")
def tiny_client(tmp_path_factory):
    path = write_layers(tmp_path_factory.mktemp("api") / "tiny.gpkg", tiny_layers(),
                        crs={"parcels": "EPSG:4326"})
    return TestClient(create_app(AppSettings(layers=path)))


def test_landing_page_links(client):
    body = client.get("/", headers={"accept": "application/json"}).json()
    Landing.model_validate(body)
    rels = {link["rel"]: link for link in body["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rels[rel]["href"].startswith("http://testserver/"), rel
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_one_address_for_browsers_and_gis_clients(client):
    page = client.get("/", headers={"accept": BROWSER_ACCEPT})
    assert page.headers["content-type"].startswith("text/html")
    assert "Cụm công nghiệp Thái Bình" in page.text and "/static/map.js" in page.text
    for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
        assert client.get("/", headers={"accept": accept}).json()["links"]
    landing = client.get("/?f=html", headers={"accept": BROWSER_ACCEPT})
    assert "OGC" in landing.text or "conformance" in landing.text


def test_the_map_needs_nothing_from_outside(client):
    page = client.get("/", headers={"accept": BROWSER_ACCEPT}).text
    for asset in ("/static/leaflet/leaflet.js", "/static/leaflet/leaflet.css", "/static/map.js",
                  "/static/map.css"):
        assert asset in page
        assert client.get(asset).status_code == 200, asset
    assert "http" not in page.split("<body>")[0].replace("http-equiv", "")


def test_conformance_and_openapi_30(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert any(c.endswith("/conf/geojson") for c in classes)
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.0")
    limit = next(p for p in doc["paths"]["/collections/{collection_id}/items"]["get"]
                 ["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000
    assert "null" not in json.dumps(doc).replace('"nullable"', "")


def test_collections_describe_every_layer(client):
    body = client.get("/collections").json()
    Collections.model_validate(body)
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["admin_units", "clusters", "approved_extents", "parcels",
                   "promotion_activities", "projects"]
    clusters = CollectionInfo.model_validate(client.get("/collections/clusters").json())
    west, south, east, north = clusters.extent.spatial.bbox[0]
    assert 106.0 < west < east < 106.7 and 20.2 < south < north < 20.8
    assert clusters.storageCrs in clusters.crs


def test_downloads_are_advertised(client):
    links = client.get("/collections/parcels").json()["links"]
    enclosures = {link["type"] for link in links if link["rel"] == "enclosure"}
    assert enclosures == {"application/geo+json", "application/geopackage+sqlite3",
                          "application/x-shapefile+zip", "application/vnd.google-earth.kml+xml",
                          "text/csv"}
    assert all(link.get("title") for link in links if link["rel"] == "enclosure")


def test_items_are_rfc7946(client):
    response = client.get("/collections/clusters/items", params={"limit": 1000})
    assert response.headers["content-type"] == GEOJSON
    body = response.json()
    FeatureCollection.model_validate(body)
    assert "crs" not in body
    assert body["numberMatched"] == body["numberReturned"] == published.CLUSTERS
    for feature in body["features"]:
        assert feature["id"] == feature["properties"]["cluster_id"]
        geom = shape(feature["geometry"])
        polygons = getattr(geom, "geoms", [geom])
        assert all(shapely.is_ccw(p.exterior) for p in polygons)
        x, y = np.asarray(polygons[0].exterior.coords).T
        assert (np.abs(np.round(x, 7) - x) < 1e-12).all()
    props = body["features"][0]["properties"]
    assert {"area_ha", "stage", "established", "detailed_plan", "operating",
            "occupancy"} <= set(props)


def test_paging_keeps_parameters_and_covers_everything(client):
    seen, url = [], "/collections/parcels/items?limit=400&land_use=industrial"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if nxt:
            assert "land_use=industrial" in nxt[0] and "limit=400" in nxt[0]
            assert next(link for link in body["links"] if link["rel"] == "next")["type"] == GEOJSON
        url = nxt[0].replace("http://testserver", "") if nxt else None
    assert len(seen) == len(set(seen)) == body["numberMatched"]
    prev = client.get("/collections/parcels/items?limit=400&offset=400").json()["links"]
    assert any(link["rel"] == "prev" for link in prev)


def test_bbox_datetime_and_field_filters(tiny_client):
    # C1 lies at the origin of the tiny province; C3 3 km east of it
    every = tiny_client.get("/collections/clusters/items").json()
    c1 = shape(next(f for f in every["features"] if f["id"] == "C1")["geometry"])
    w, s, e, n = c1.bounds
    hits = tiny_client.get("/collections/clusters/items",
                           params={"bbox": f"{w},{s},{e},{n}"}).json()
    assert [f["id"] for f in hits["features"]] == ["C1"]
    dated = tiny_client.get("/collections/approved_extents/items",
                            params={"datetime": "2015-01-01/2016-12-31"}).json()
    assert sorted(f["properties"]["decision"] for f in dated["features"]) == [
        "1/QĐ-UBND", "3/QĐ-UBND"]
    instant = tiny_client.get("/collections/approved_extents/items",
                              params={"datetime": "2018-01-01"}).json()
    assert instant["numberMatched"] == 1
    open_end = tiny_client.get("/collections/projects/items",
                               params={"datetime": "2020-01-01/.."}).json()
    assert sorted(f["id"] for f in open_end["features"]) == ["PR2", "PR3"]
    stage = tiny_client.get("/collections/approved_extents/items",
                            params={"stage": "detailed_plan", "cluster_id": "C1"}).json()
    assert stage["numberMatched"] == 1
    leased = tiny_client.get("/collections/parcels/items", params={"recovered": "false"}).json()
    assert sorted(f["id"] for f in leased["features"]) == ["P4", "P7"]


def test_computed_attributes_match_the_figures(tiny_client):
    c1 = tiny_client.get("/collections/clusters/items/C1").json()
    assert c1["properties"]["area_ha"] == pytest.approx((500 * 500 - 100 * 80) / 1e4)
    assert c1["properties"]["stage"] == "operating"
    assert c1["properties"]["occupancy"] == pytest.approx(4 / 9)
    figures = c1["properties"]["figures"]
    assert figures["cluster_id"] == "C1" and figures["established"]["area_ha"] == pytest.approx(25)
    parcel = tiny_client.get("/collections/parcels/items/P4").json()
    assert parcel["properties"]["area_ha"] == pytest.approx(3.0, abs=1e-6)
    assert parcel["properties"]["lease_status"] == "vacant"


@pytest.mark.slow
def test_stats_is_the_cli_json(client):
    for params in ({}, {"as_of": "2018-12-31"}, {"by": "admin"}, {"by": "cluster",
                                                                  "as_of": "2020-06-30"}):
        args = ["--as-of", params["as_of"]] if "as_of" in params else []
        args += ["--by", params["by"]] if "by" in params else []
        cli = subprocess.run([sys.executable, "-m", "ccn_gis.cli", "stats", "--json",
                              "--layers", str(SAMPLE), *args], capture_output=True, text=True,
                             check=True)
        assert client.get("/stats", params=params).json() == json.loads(cli.stdout)


def test_html_pages(client):
    for url in ("/collections?f=html", "/collections/clusters?f=html",
                "/collections/clusters/items?f=html&limit=5",
                "/collections/clusters/items/TB-01?f=html", "/conformance?f=html"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert page.headers["content-type"].startswith("text/html")
    assert "CCN" in client.get("/collections/clusters/items?f=html").text


@pytest.mark.parametrize("url, status, words", [
    ("/collections/nope", 404, "no collection"),
    ("/collections/clusters/items/TB-99", 404, "no feature"),
    ("/collections/clusters/items?bbox=1,2,3", 400, "bbox"),
    ("/collections/clusters/items?bbox=a,b,c,d", 400, "bbox"),
    ("/collections/clusters/items?bbox=106,21,107,20", 400, "south"),
    ("/collections/clusters/items?limit=0", 400, "limit"),
    ("/collections/clusters/items?limit=10001", 400, "limit"),
    ("/collections/clusters/items?limit=abc", 400, "limit"),
    ("/collections/clusters/items?offset=-1", 400, "offset"),
    ("/collections/clusters/items?datetime=yesterday", 400, "datetime"),
    ("/collections/clusters/items?datetime=2020-01-01/2019-01-01", 400, "start"),
    ("/collections/promotion_activities/items?datetime=2020-01-01", 400, "no dates"),
    ("/collections/clusters/items?f=xml", 400, "f"),
    ("/collections/clusters/items?colour=red", 400, "unknown parameter"),
    ("/collections/clusters/items?operating=maybe", 400, "operating"),
    ("/collections/clusters/items?crs=EPSG:3857", 400, "CRS84"),
    ("/collections/clusters/download?format=pdf", 400, "format"),
    ("/collections/clusters/download?format=gpkg&crs=EPSG:3857", 400, "EPSG:4326"),
    ("/collections/clusters/download?format=geojson&crs=EPSG:9209", 400, "WGS84"),
    ("/stats?as_of=2020-02-30", 400, "as_of"),
    ("/stats?by=street", 400, "by"),
])
def test_client_mistakes(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status, response.text
    assert words in response.json()["description"]


def test_landuse_over_http(client):
    rows = client.get("/landuse", params={"zones": "clusters"}).json()
    assert {r["zone_id"] for r in rows} == {f"TB-{i:02d}" for i in range(1, 67)}
    plan = client.get("/landuse", params={"zones": "clusters", "source": "plan"}).json()
    assert sum(r["area_ha"] for r in plan if r["class_code"] == "SKN") == pytest.approx(
        published.PLANNED_HA, abs=0.01)
    cluster = client.get("/collections/clusters/items/TB-06").json()["properties"]
    assert cluster["landuse"] == [{k: r[k] for k in ("class_code", "area_ha", "share")}
                                  for r in rows if r["zone_id"] == "TB-06"]
    classes = client.get("/landuse/classes").json()
    assert {"LUC", "SKN", "NTS"} <= {c["code"] for c in classes}
    assert all(re.fullmatch(r"#[0-9a-f]{6}", c["colour"], re.I) for c in classes)


def test_landuse_tiles(client):
    tile = client.get("/landuse/tiles/10/814/452.png")  # over Thái Bình city
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    assert tile.content[:8] == b"\x89PNG\r\n\x1a\n" and len(tile.content) > 2000
    empty = client.get("/landuse/tiles/10/0/0.png")  # the other side of the world
    assert empty.status_code == 200 and len(empty.content) < len(tile.content)
    assert client.get("/landuse/tiles/3/8/0.png").status_code == 404


def test_cache_validators(client):
    url = "/collections/clusters/items?limit=5"
    first = client.get(url)
    tag = first.headers["etag"]
    assert client.get(url, headers={"if-none-match": tag}).status_code == 304
    assert client.get(url + "&offset=5").headers["etag"] != tag
    assert client.get(url, headers={"accept": "text/html"}).headers["etag"] != tag
    assert client.get("/collections/nope").headers.get("etag") is None  # only for 200s


@pytest.fixture(scope="module")
def parcels_wgs84():
    return gpd.read_file(SAMPLE, layer="parcels", engine="pyogrio").to_crs(4326)


@pytest.mark.parametrize("bbox", [
    (106.30, 20.40, 106.42, 20.52),  # a part of the province
    (106.3230, 20.4755, 106.3262, 20.4780),  # a few parcels, cut by the edges
    (-180, -90, 180, 90),  # the world: every parcel, although TM-3 cannot hold it
    (100.0, 5.0, 100.1, 5.1),  # the sea off Malaysia: none
])
def test_bbox_answers_as_geopandas_in_wgs84(client, parcels_wgs84, bbox):
    """The index lives in the area CRS; the WGS84 box is reprojected to it. The answer is
    that of geopandas intersecting WGS84 geometries with the box, but for parcels that
    only come within a centimetre of its edge."""
    box = shapely.box(*bbox)
    expected = set(parcels_wgs84.parcel_id[parcels_wgs84.intersects(box)])
    unsure = set(parcels_wgs84.parcel_id[
        parcels_wgs84.intersects(box.buffer(2e-7)) & ~parcels_wgs84.intersects(box.buffer(-2e-7))])
    body = client.get("/collections/parcels/items",
                      params={"bbox": ",".join(map(str, bbox)), "limit": 10_000}).json()
    found = {f["id"] for f in body["features"]}
    assert found ^ expected <= unsure
    assert body["numberMatched"] == len(found)
    if bbox[0] == -180:
        assert len(found) == len(parcels_wgs84)
    if bbox[0] == 100.0:
        assert not found
