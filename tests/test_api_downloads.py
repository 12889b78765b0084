"""Downloads over HTTP, found through the collection's enclosure links and opened with GDAL."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pyogrio
import pytest
from fastapi.testclient import TestClient

import sample_figures as published
from ccn_gis.crs import area_ha, transform_geometries
from ccn_gis.figures import figures_json
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app
from ccn_gis_api.limits import DownloadFolders, Limits

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
SUFFIX = {"application/geo+json": "geojson", "application/geopackage+sqlite3": "gpkg",
          "application/x-shapefile+zip": "shp.zip", "application/vnd.google-earth.kml+xml": "kml",
          "text/csv": "csv"}

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The app, writing its downloads under a root of its own: what is left there is ours."""
    root = tmp_path_factory.mktemp("downloads")
    return TestClient(create_app(AppSettings(layers=SAMPLE), Limits(download_dir=root)))


@pytest.fixture(scope="module")
def stats(sample_dataset):
    """The figures of ``ccn-gis stats --json --by cluster`` on the sample, by cluster id."""
    return {c["cluster_id"]: c for c in figures_json(sample_dataset, by="cluster")}


def _enclosures(client, collection):
    links = client.get(f"/collections/{collection}").json()["links"]
    return [link for link in links if link["rel"] == "enclosure"]


def _fetch(client, link, tmp_path, **extra):
    url = urlsplit(link["href"])
    query = "&".join([url.query, *(f"{k}={v}" for k, v in extra.items())])
    response = client.get(f"{url.path}?{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(link["type"])
    disposition = response.headers["content-disposition"]
    filename = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert disposition.startswith("attachment") and filename.startswith("thai_binh_")
    path = tmp_path / filename
    path.write_bytes(response.content)
    return path


def _gdal_path(path: Path) -> str:
    return f"/vsizip/{path}" if path.suffix == ".zip" else str(path)


def _layer(path: Path, collection: str) -> str | None:
    """The layer to read: a GeoPackage holds its styles (``layer_styles``) too."""
    return collection if path.suffix == ".gpkg" else None


def test_every_advertised_cluster_download_opens_in_gdal(client, stats, tmp_path, ogrinfo):
    links = _enclosures(client, "clusters")
    assert {link["type"] for link in links} == set(SUFFIX)
    for link in links:
        path = _fetch(client, link, tmp_path)
        assert path.name.endswith(SUFFIX[link["type"]])
        listing = subprocess.run([ogrinfo, "-ro", "-al", "-so", _gdal_path(path)],
                                 capture_output=True, text=True, check=True).stdout
        assert f"Feature Count: {published.CLUSTERS}" in listing, (link["title"], listing)
        frame = pyogrio.read_dataframe(_gdal_path(path), layer=_layer(path, "clusters"))
        ids = frame["cluster_id"] if "cluster_id" in frame else frame["Name"]
        names = frame["name"] if "name" in frame else frame["Name"]
        assert any("Thụy" in str(n) or "Đông" in str(n) for n in names), link["title"]
        if "cluster_id" not in frame:  # KML names placemarks by the cluster's name
            continue
        crs = frame.crs.to_string() if frame.crs is not None else (
            "EPSG:9209" if "vn2000" in path.name else "EPSG:4326")
        areas = area_ha(transform_geometries(frame.geometry.array, crs, "EPSG:9209"))
        for cid, area in zip(ids, areas, strict=True):
            assert area == pytest.approx(stats[cid]["planned"]["area_ha"], abs=0.01), (
                link["title"], cid)


def test_filtered_parcel_downloads(client, tmp_path):
    first = client.get("/collections/parcels/items", params={"limit": 1}).json()
    cluster = first["features"][0]["properties"]["cluster_id"]
    matched = client.get("/collections/parcels/items",
                         params={"cluster_id": cluster, "limit": 1}).json()["numberMatched"]
    assert 0 < matched < first["numberMatched"]
    for link in _enclosures(client, "parcels"):
        path = _fetch(client, link, tmp_path, cluster_id=cluster)
        frame = pyogrio.read_dataframe(_gdal_path(path), layer=_layer(path, "parcels"))
        assert len(frame) == matched, link["title"]


def test_projects_table_downloads(client, tmp_path):
    links = _enclosures(client, "projects")
    assert "application/vnd.google-earth.kml+xml" not in {link["type"] for link in links}
    for link in links:
        frame = pyogrio.read_dataframe(_gdal_path(_fetch(client, link, tmp_path)),
                                       read_geometry=False)
        assert len(frame) == published.PROJECTS
        assert frame["name"].str.contains("Nhà máy").any()


def test_geojson_download_is_compressed_on_request(client):
    plain = client.get("/collections/parcels/download", params={"format": "geojson"},
                       headers={"accept-encoding": "identity"})
    zipped = client.get("/collections/parcels/download", params={"format": "geojson"},
                        headers={"accept-encoding": "gzip"})
    assert plain.headers.get("content-encoding") is None
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == plain.json()  # httpx decompresses
    assert zipped.num_bytes_downloaded < len(plain.content) / 3
    assert len(plain.json()["features"]) == 1513


def _folders(client) -> DownloadFolders:
    return client.app.state.download_folders


def _download_folders(client) -> list[Path]:
    """The download subfolders the app has now (one per written download being sent)."""
    return _folders(client).downloads()


@pytest.fixture
def made_folders(client, monkeypatch) -> list[Path]:
    """The download subfolders the app makes during the test: one per written download."""
    folders = _folders(client)
    made: list[Path] = []
    new = folders.new

    def recorded() -> Path:
        made.append(new())
        return made[-1]

    monkeypatch.setattr(folders, "new", recorded)
    return made


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "csv"])
def test_written_downloads_stream_from_disk_and_clean_up(client, tmp_path, made_folders, fmt):
    folders = _folders(client)
    assert folders.folder.parent == client.app.state.limits.download_dir
    assert _download_folders(client) == []
    plain = client.get("/collections/parcels/download", params={"format": fmt, "crs": "EPSG:9209"},
                       headers={"accept-encoding": "identity"})
    zipped = client.get("/collections/parcels/download", params={"format": fmt, "crs": "EPSG:9209"},
                        headers={"accept-encoding": "gzip"})
    assert plain.status_code == zipped.status_code == 200
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.num_bytes_downloaded < len(zipped.content)  # httpx decompresses
    assert len(made_folders) == 2, "each written download gets its own folder"
    assert all(p.parent == folders.folder for p in made_folders), made_folders
    assert not [p for p in made_folders if p.exists()], "a folder is removed once sent"
    assert _download_folders(client) == [], "no download folder is left behind"
    suffix = SUFFIX[plain.headers["content-type"].split(";")[0]]
    frames = []
    for name, response in (("plain", plain), ("zipped", zipped)):
        path = tmp_path / f"{name}.{suffix}"
        path.write_bytes(response.content)
        frames.append(pyogrio.read_dataframe(_gdal_path(path), read_geometry=False,
                                             layer="parcels" if fmt == "gpkg" else None))
    assert len(frames[0]) == 1513
    assert frames[0].equals(frames[1])


def test_refused_download_leaves_no_folder(client, made_folders):
    assert _download_folders(client) == []
    response = client.get("/collections/projects/download", params={"format": "kml"})
    assert response.status_code == 400 and "KML" in response.json()["description"]
    assert not [p for p in made_folders if p.exists()], "the refused download's folder is left"
    assert _download_folders(client) == [], "no download folder is left behind"
