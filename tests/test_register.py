"""Writing the register: change sets applied all or nothing, checked, with their history."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest
import shapely
from shapely.affinity import translate

from ccn_gis.crs import transform_geometries
from ccn_gis.edits import ChangeSet, Edit, EditError, FeatureNotFoundError, Operation
from ccn_gis.figures import figures_by_cluster, province_figures
from ccn_gis.io import load_dataset, validate_store
from ccn_gis.io.register import RefusedChange, read_history, write_changes
from ccn_gis.io.sqlite_file import file_revision

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one(path: Path, sql: str) -> tuple:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def _vacant_parcel(path: Path) -> tuple[str, str]:
    """A vacant industrial parcel and a project of its own cluster."""
    return _one(path, "SELECT p.parcel_id, j.project_id FROM parcels p JOIN projects j "
                "ON j.cluster_id = p.cluster_id WHERE p.project_id IS NULL AND "
                "p.land_use = 'industrial' LIMIT 1")


def test_a_lease_is_written_checked_and_kept_in_the_history(layers):
    parcel, project = _vacant_parcel(layers)
    before = load_dataset(layers)
    area = float(before.parcels.set_index("parcel_id").at[parcel, "area_ha"])
    revision = file_revision(layers)

    written = write_changes(layers, ChangeSet(
        (Edit("parcels", Operation.UPDATE, parcel,
              {"project_id": project, "leased_on": "2026-11-30"}),),
        note="Hợp đồng thuê đất số 12/2026"), user="lan")

    assert written.revision == file_revision(layers) != revision
    after = load_dataset(layers)
    assert province_figures(after).leased_ha == pytest.approx(
        province_figures(before).leased_ha + area, abs=1e-9)
    assert not [p for p in validate_store(layers) if p.is_error]
    [entry] = read_history(layers)
    assert (entry["change_id"], entry["user"], entry["note"], entry["operation"],
            entry["layer"], entry["feature_id"]) == (
        1, "lan", "Hợp đồng thuê đất số 12/2026", "update", "parcels", parcel)
    assert entry["before"]["project_id"] is None and entry["after"]["project_id"] == project
    assert entry["after"]["leased_on"] == "2026-11-30"
    assert entry["before"]["geometry"] == entry["after"]["geometry"]  # untouched, exact


def test_a_change_set_is_all_or_nothing(layers):
    parcel, project = _vacant_parcel(layers)
    digest = _digest(layers)
    changes = ChangeSet((
        Edit("parcels", Operation.UPDATE, parcel, {"project_id": project}),
        Edit("parcels", Operation.UPDATE, parcel, {"land_use": "casino"}),  # no such class
    ), note="QĐ 1/2026")
    with pytest.raises(RefusedChange) as refused:
        write_changes(layers, changes, user="lan")
    [problem] = refused.value.problems
    assert (problem.layer, problem.feature, problem.field) == ("parcels", parcel, "land_use")
    assert _digest(layers) == digest
    assert read_history(layers) == []


def test_a_parcel_drawn_outside_its_cluster_is_refused(layers):
    dataset = load_dataset(layers)
    parcel = dataset.parcels.iloc[0]
    moved = translate(parcel.geometry, 5_000, 0)  # 5 km east, out of its cluster
    lonlat = transform_geometries([moved], dataset.settings.area_crs, "EPSG:4326")[0]
    digest = _digest(layers)
    with pytest.raises(RefusedChange) as refused:
        write_changes(layers, ChangeSet((Edit(
            "parcels", Operation.UPDATE, parcel.parcel_id, geometry=lonlat,
            set_geometry=True),)), user="lan")
    assert any(p.feature == parcel.parcel_id and "outside" in p.message
               for p in refused.value.problems)
    assert _digest(layers) == digest


def test_mistakes_name_the_layer_feature_and_field(layers):
    with pytest.raises(FeatureNotFoundError, match="no feature 'TB-99'"):
        write_changes(layers, ChangeSet((Edit("clusters", Operation.UPDATE, "TB-99",
                                              {"name": "x"}),)), user="lan")
    with pytest.raises(EditError) as err:
        write_changes(layers, ChangeSet((
            Edit("clusters", Operation.UPDATE, "TB-01", {"nam": "x"}),
            Edit("rivers", Operation.DELETE, "1"),
            Edit("clusters", Operation.CREATE, None, {"cluster_id": "TB-01"}),
        )), user="lan")
    said = [(p.layer, p.feature, p.field) for p in err.value.problems]
    assert ("clusters", "TB-01", "nam") in said
    assert ("rivers", "1", None) in said
    assert ("clusters", "TB-01", "cluster_id") in said
    assert read_history(layers) == []


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_create_then_delete_a_parcel_with_its_geometry(layers):
    dataset = load_dataset(layers)
    cluster = dataset.clusters.set_index("cluster_id").loc["TB-01"]
    spot = shapely.Point(cluster.geometry.representative_point()).buffer(10, quad_segs=2)
    taken = shapely.union_all(dataset.parcels[dataset.parcels.cluster_id == "TB-01"].geometry)
    if spot.intersects(taken):  # keep clear of the other parcels: they must not overlap
        spot = shapely.Point(shapely.get_coordinates(
            cluster.geometry.difference(taken.buffer(20)).representative_point())[0]
        ).buffer(5, quad_segs=2)
    lonlat = transform_geometries([spot], dataset.settings.area_crs, "EPSG:4326")[0]
    written = write_changes(layers, ChangeSet((Edit(
        "parcels", Operation.CREATE, None,
        {"parcel_id": "TB-01-NEW", "cluster_id": "TB-01", "land_use": "industrial",
         "recovered": False}, geometry=lonlat, set_geometry=True),)), user="lan")
    assert written.applied[0].operation is Operation.CREATE
    after = load_dataset(layers).parcels.set_index("parcel_id")
    assert after.at["TB-01-NEW", "area_ha"] == pytest.approx(spot.area / 10_000, rel=1e-6)
    assert after.at["TB-01-NEW", "geometry"].geom_type == "MultiPolygon"  # the layer's type
    counted = _one(layers, "SELECT feature_count FROM gpkg_ogr_contents "
                   "WHERE table_name = 'parcels'")
    assert counted == (len(after),)  # GDAL trusts this count
    write_changes(layers, ChangeSet((Edit("parcels", Operation.DELETE, "TB-01-NEW"),)),
                  user="minh")
    assert "TB-01-NEW" not in load_dataset(layers).parcels.parcel_id.tolist()
    history = read_history(layers)
    assert [(h["change_id"], h["operation"], h["user"]) for h in history] == [
        (1, "create", "lan"), (2, "delete", "minh")]
    assert history[1]["after"] is None and history[1]["before"]["parcel_id"] == "TB-01-NEW"


def test_a_cluster_s_figures_follow_an_edit(layers):
    before = {f.code: f for f in figures_by_cluster(load_dataset(layers))}["TB-01"]
    write_changes(layers, ChangeSet((Edit("clusters", Operation.UPDATE, "TB-01",
                                          {"name": "CCN Đông Đô (mở rộng)"}),)), user="lan")
    dataset = load_dataset(layers)
    assert dataset.clusters.set_index("cluster_id").at["TB-01", "name"] == \
        "CCN Đông Đô (mở rộng)"
    after = {f.code: f for f in figures_by_cluster(dataset)}["TB-01"]
    assert after.name == "CCN Đông Đô (mở rộng)" != before.name
    assert after.figures.planned == before.figures.planned


def test_gdal_reads_the_written_file_and_its_spatial_index(layers, ogrinfo):
    parcel, project = _vacant_parcel(layers)
    dataset = load_dataset(layers)
    geometry = dataset.parcels.set_index("parcel_id").at[parcel, "geometry"]
    moved = shapely.affinity.scale(geometry, 0.9, 0.9)  # shrunk in place: still inside
    lonlat = transform_geometries([moved], dataset.settings.area_crs, "EPSG:4326")[0]
    write_changes(layers, ChangeSet((Edit("parcels", Operation.UPDATE, parcel,
                                          geometry=lonlat, set_geometry=True),)), user="lan")
    x, y = shapely.get_coordinates(moved.representative_point())[0]
    found = subprocess.run(
        [ogrinfo, "-ro", "-q", str(layers), "parcels", "-spat", str(x - 1), str(y - 1),
         str(x + 1), str(y + 1), "-fields=YES", "-geom=NO"],
        capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert f"parcel_id (String) = {parcel}" in found.stdout  # the R-tree knows its new box
    listing = subprocess.run([ogrinfo, "-ro", "-so", str(layers), "ccn_history"],
                             capture_output=True, text=True, timeout=60)
    assert "Feature Count: 1" in listing.stdout


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_the_register_as_it_stood_at_a_time(layers, capsys):
    import datetime as dt
    import json

    from ccn_gis.cli import main
    from ccn_gis.io.register import load_recorded, recorded_time

    parcel, project = _vacant_parcel(layers)
    before = province_figures(load_dataset(layers))
    first = write_changes(layers, ChangeSet((Edit("parcels", Operation.UPDATE, parcel,
                                                  {"project_id": project,
                                                   "leased_on": "2026-12-01"}),)), user="lan")
    middle = province_figures(load_dataset(layers))
    write_changes(layers, ChangeSet((Edit("projects", Operation.CREATE, None, {
        "project_id": "DA-NEW", "cluster_id": "TB-01", "name": "Nhà máy mới",
        "status": "not_started", "registered_on": "2026-12-01"}),)), user="lan")
    now = province_figures(load_dataset(layers))
    assert now.leased_ha > before.leased_ha
    assert now.projects.count == before.projects.count + 1
    cut = dt.datetime.fromisoformat(first.recorded_at.replace("Z", "+00:00"))
    earlier = load_recorded(layers, cut - dt.timedelta(seconds=1))
    then = province_figures(earlier)
    assert then.leased_ha == pytest.approx(before.leased_ha, abs=1e-9)
    assert then.projects.count == before.projects.count
    assert then == before  # every figure, not just the edited one
    assert province_figures(load_recorded(layers, cut)) == middle  # the lease, not the project
    assert province_figures(load_recorded(layers, dt.datetime.now(dt.timezone.utc))) == now
    assert main(["stats", "--json", "--layers", str(layers), "--recorded-at",
                 (cut - dt.timedelta(seconds=1)).astimezone(dt.timezone(
                     dt.timedelta(hours=7))).isoformat()]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["leased_ha"] == pytest.approx(before.leased_ha, abs=1e-9)
    assert recorded_time("2026-12-14T17:00").utcoffset() == dt.timedelta(hours=7)
