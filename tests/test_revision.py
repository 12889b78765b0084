"""The store's revision: what it reads, what changes it, and a server that follows it.

The register changes while it is served (QGIS saves the file, ccn-gis will write edits),
so the GeoPackage store says which revision it reads, and the app serves one snapshot per
revision: its figures, prebuilt features, tiles and ETags are those of the file as it is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ccn_gis.io import load_dataset, open_store, write_settings
from ccn_gis.io.register import read_history
from ccn_gis.io.sqlite_file import file_revision
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"


def _write(path: Path, sql: str, ogrinfo: str = "ogrinfo") -> None:
    """Change the file as QGIS does: through GDAL (whose functions the GeoPackage's
    R-tree triggers call), in one transaction."""
    before = file_revision(path)
    done = subprocess.run([ogrinfo, str(path), "-sql", sql], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr
    assert file_revision(path) != before, f"{sql} changed nothing"


def _leased_parcel(path: Path) -> str:
    with sqlite3.connect(path) as con:
        row = con.execute("SELECT parcel_id FROM parcels WHERE project_id IS NOT NULL "
                          "AND land_use = 'industrial' LIMIT 1").fetchone()
    con.close()
    return str(row[0])


def test_the_revision_is_the_files_and_changes_with_every_write(layers):
    store = open_store(layers)
    assert store.revision == store.latest_revision() == file_revision(layers)
    assert load_dataset(store).revision == store.revision
    seen = {store.revision}
    for name in ("Tỉnh A", "Tỉnh B", "Tỉnh C"):  # three writes quicker than the clock's tick
        write_settings(layers, {"province_name": name}, update=True)
        seen.add(store.latest_revision())
    assert len(seen) == 4, "each write is a new revision, even within one mtime tick"
    assert store.revision != store.latest_revision()  # the store still reads the first
    assert open_store(layers).revision == store.latest_revision()
    assert load_dataset(layers).settings.province_name == "Tỉnh C"


def test_a_write_within_the_clock_tick_is_told_by_the_change_counter(layers):
    write_settings(layers, {"province_name": "Tỉnh A"}, update=True)
    stat = layers.stat()
    before = file_revision(layers)
    write_settings(layers, {"province_name": "Tỉnh B"}, update=True)
    os.utime(layers, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as if in the same tick
    assert layers.stat().st_size == stat.st_size
    assert file_revision(layers) != before


def test_a_write_by_gdal_is_a_new_revision(layers, ogrinfo):
    before = file_revision(layers)
    _write(layers, "UPDATE clusters SET name = 'x' WHERE cluster_id = 'TB-01'", ogrinfo)
    assert file_revision(layers) != before


def test_an_unchanged_file_keeps_its_revision(layers):
    before = file_revision(layers)
    load_dataset(layers)  # reading never writes
    with sqlite3.connect(f"file:{layers}?mode=ro", uri=True) as con:
        con.execute("SELECT COUNT(*) FROM parcels").fetchone()
    con.close()
    assert file_revision(layers) == before


def _until(client: TestClient, url: str, changed, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        if changed(response):
            return response
        assert time.monotonic() < deadline, f"{url} never showed the new revision"
        time.sleep(0.1)


def test_the_server_follows_the_file_figures_items_and_etags(layers, ogrinfo):
    client = TestClient(create_app(AppSettings(layers=layers)))
    before = client.get("/stats").json()
    checked = client.get("/scenarios/current").content
    tag = client.get("/stats").headers["etag"]
    assert client.get("/stats", headers={"If-None-Match": tag}).status_code == 304
    parcel = _leased_parcel(layers)
    area = client.get(f"/collections/parcels/items/{parcel}").json()["properties"]["area_ha"]

    _write(layers, "UPDATE parcels SET project_id = NULL, leased_on = NULL "
           f"WHERE parcel_id = '{parcel}'", ogrinfo)  # QGIS ends a lease

    after = _until(client, "/stats",
                   lambda r: r.json()["leased_ha"] != before["leased_ha"]).json()
    assert after["leased_ha"] == pytest.approx(before["leased_ha"] - area, abs=1e-6)
    assert after["industrial_ha"] == pytest.approx(before["industrial_ha"], abs=1e-9)
    assert client.get("/stats", headers={"If-None-Match": tag}).status_code == 200
    assert client.get("/stats").headers["etag"] != tag
    item = client.get(f"/collections/parcels/items/{parcel}").json()
    assert item["properties"]["project_id"] is None
    assert client.app.state.service.snapshot().revision == file_revision(layers)
    assert client.get("/scenarios/current").content != checked  # checked again, on the new


def test_a_revision_with_errors_is_not_served_until_it_is_mended(layers, caplog, ogrinfo):
    client = TestClient(create_app(AppSettings(layers=layers)))
    planned = client.get("/stats").json()["planned"]["area_ha"]
    service = client.app.state.service
    served = service.snapshot().revision

    _write(layers, "UPDATE clusters SET kind = 'bogus' WHERE cluster_id = 'TB-01'", ogrinfo)
    deadline = time.monotonic() + 60
    while service._refused is None:  # the bad revision was read and refused
        assert time.monotonic() < deadline
        client.get("/stats")
        time.sleep(0.1)
    assert service.snapshot().revision == served
    assert client.get("/stats").json()["planned"]["area_ha"] == planned
    assert "cannot be served yet" in caplog.text and "bogus" in caplog.text

    _write(layers, "UPDATE clusters SET kind = 'general', name = 'mended' "
           "WHERE cluster_id = 'TB-01'", ogrinfo)
    item = _until(client, "/collections/clusters/items/TB-01",
                  lambda r: r.json()["properties"]["name"] == "mended").json()
    assert item["properties"]["figures"]["planned"]["count"] == 1


def test_an_outside_change_is_served_and_recorded_in_the_history(layers, ogrinfo):
    client = TestClient(create_app(AppSettings(layers=layers)))
    assert client.get("/health").json()["status"] == "ok"
    _write(layers, "UPDATE clusters SET name = 'đổi trong QGIS' WHERE cluster_id = 'TB-05'",
           ogrinfo)
    _until(client, "/collections/clusters/items/TB-05",
           lambda r: r.json()["properties"]["name"] == "đổi trong QGIS")
    [entry] = read_history(layers)
    assert (entry["source"], entry["layer"], entry["operation"]) == (
        "outside", "clusters", "outside")
    assert entry["after"] == {"features": 66}
    # the record is part of the revision served: no second reading, no second record
    assert client.app.state.service.snapshot().revision == file_revision(layers)
    client.get("/stats")
    assert len(read_history(layers)) == 1


def test_health_names_the_problems_of_a_revision_not_served(layers, ogrinfo):
    client = TestClient(create_app(AppSettings(layers=layers)))
    _write(layers, "UPDATE clusters SET kind = 'bogus' WHERE cluster_id = 'TB-01'", ogrinfo)
    health = _until(client, "/health", lambda r: r.json()["status"] == "stale").json()
    assert any(p["layer"] == "clusters" and p["feature"] == "TB-01" and p["field"] == "kind"
               for p in health["problems"])
    _write(layers, "UPDATE clusters SET kind = 'general' WHERE cluster_id = 'TB-01'",
           ogrinfo)
    _until(client, "/health", lambda r: r.json()["status"] == "ok")
