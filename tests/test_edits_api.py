"""Writes through OGC API – Features Part 4: roles, ETags and If-Match, checks, history."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import shapely
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from shapely.affinity import translate

from ccn_gis.crs import transform_geometries
from ccn_gis.io import load_dataset
from ccn_gis.io.register import read_history
from ccn_gis.io.users import add_user
from ccn_gis.settings import AppSettings
from ccn_gis_api import create_app

SAMPLE = Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
EDITOR = ("lan.editor", "mật khẩu của Lan")
VIEWER = ("minh.viewer", "mật khẩu của Minh")
PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture()
def client(layers: Path) -> TestClient:
    """The app on a copy of the sample with an editor and a viewer."""
    add_user(layers, EDITOR[0], "editor", EDITOR[1], hasher=CHEAP)
    add_user(layers, VIEWER[0], "viewer", VIEWER[1], hasher=CHEAP)
    return TestClient(create_app(AppSettings(layers=layers)))


def _vacant(layers: Path) -> tuple[str, str]:
    con = sqlite3.connect(layers)
    try:
        return con.execute(
            "SELECT p.parcel_id, j.project_id FROM parcels p JOIN projects j ON "
            "j.cluster_id = p.cluster_id WHERE p.project_id IS NULL AND "
            "p.land_use = 'industrial' LIMIT 1").fetchone()
    finally:
        con.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_editor_leases_a_parcel_and_every_read_shows_it(client, layers):
    parcel, project = _vacant(layers)
    url = f"/collections/parcels/items/{parcel}"
    read = client.get(url)
    tag = read.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")  # strong: a version
    area = read.json()["properties"]["area_ha"]
    leased = client.get("/stats").json()["leased_ha"]

    done = client.patch(url, params={"note": "Hợp đồng thuê đất 12/2026"}, auth=EDITOR,
                        headers={**PATCH, "If-Match": tag},
                        json={"properties": {"project_id": project,
                                             "leased_on": "2026-11-30"}})

    assert done.status_code == 204, done.text
    assert done.headers["etag"] != tag
    assert client.get("/stats").json()["leased_ha"] == pytest.approx(leased + area, abs=1e-6)
    after = client.get(url)
    assert after.json()["properties"]["lease_status"] == "leased"
    assert after.headers["etag"] == done.headers["etag"]
    [entry] = read_history(layers)
    assert (entry["user"], entry["note"], entry["feature_id"]) == (
        "lan.editor", "Hợp đồng thuê đất 12/2026", parcel)
    assert EDITOR[1] not in str(entry)
    written = dt.datetime.fromisoformat(entry["recorded_at"].replace("Z", "+00:00"))
    asked = (written - dt.timedelta(seconds=1)).isoformat()
    then = client.get("/stats", params={"recorded_at": asked}).json()
    assert then["leased_ha"] == pytest.approx(leased, abs=1e-9)  # as it stood before
    assert client.get("/stats", params={"recorded_at": "yesterday"}).status_code == 400


def test_writes_need_an_editor(client, layers):
    parcel, _ = _vacant(layers)
    url = f"/collections/parcels/items/{parcel}"
    tag = client.get(url).headers["etag"]
    body = {"properties": {"recovered": True}}
    anonymous = client.patch(url, headers={**PATCH, "If-Match": tag}, json=body)
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["www-authenticate"]
    viewer = client.patch(url, auth=VIEWER, headers={**PATCH, "If-Match": tag}, json=body)
    assert viewer.status_code == 403
    wrong = client.patch(url, auth=(EDITOR[0], "sai mật khẩu"),
                         headers={**PATCH, "If-Match": tag}, json=body)
    assert wrong.status_code == 401
    assert read_history(layers) == []


def test_if_match_is_required_and_a_stale_one_is_412(client, layers):
    parcel, _ = _vacant(layers)
    url = f"/collections/parcels/items/{parcel}"
    tag = client.get(url).headers["etag"]
    missing = client.patch(url, auth=EDITOR, headers=PATCH,
                           json={"properties": {"recovered": True}})
    assert missing.status_code == 428
    first = client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": tag},
                         json={"properties": {"recovered": True}})
    assert first.status_code == 204
    stale = client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": tag},
                         json={"properties": {"recovered": False}})
    assert stale.status_code == 412
    assert stale.headers["etag"] == first.headers["etag"]  # the version to read again
    assert len(read_history(layers)) == 1


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_eight_editors_with_the_same_tag_one_wins(client, layers):
    url = "/collections/clusters/items/TB-01"
    tag = client.get(url).headers["etag"]

    def edit(n: int) -> int:
        return client.patch(url, params={"note": f"editor {n}"}, auth=EDITOR,
                            headers={**PATCH, "If-Match": tag},
                            json={"properties": {"name": f"CCN số {n}"}}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(edit, range(8)))
    assert codes == [204] + [412] * 7
    [entry] = read_history(layers)
    won = int(entry["note"].split()[1])
    assert client.get(url).json()["properties"]["name"] == f"CCN số {won}"


def test_a_parcel_drawn_outside_its_cluster_is_422_and_nothing_changes(client, layers):
    dataset = load_dataset(layers)
    parcel = dataset.parcels.iloc[0]
    url = f"/collections/parcels/items/{parcel.parcel_id}"
    tag = client.get(url).headers["etag"]
    moved = transform_geometries([translate(parcel.geometry, 5_000, 0)],
                                 dataset.settings.area_crs, "EPSG:4326")[0]
    digest = _digest(layers)
    refused = client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": tag},
                           json={"geometry": shapely.geometry.mapping(moved)})
    assert refused.status_code == 422, refused.text
    problems = refused.json()["problems"]
    assert any(p["layer"] == "parcels" and p["feature"] == parcel.parcel_id
               and "outside" in p["message"] for p in problems)
    assert _digest(layers) == digest
    assert client.get(url).headers["etag"] == tag


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_create_replace_and_delete_a_project(client, layers):
    created = client.post("/collections/projects/items", auth=EDITOR,
                          params={"note": "Giấy chứng nhận đầu tư 99/2026"},
                          headers={"content-type": "application/geo+json"},
                          json={"type": "Feature", "geometry": None, "properties": {
                              "project_id": "DA-NEW", "cluster_id": "TB-01",
                              "name": "Nhà máy may Hưng Yên", "status": "not_started",
                              "registered_on": "2026-11-01"}})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.endswith("/collections/projects/items/DA-NEW")
    read = client.get("/collections/projects/items/DA-NEW")
    assert read.status_code == 200 and read.headers["etag"] == created.headers["etag"]
    feature = read.json()
    feature["properties"]["name"] = "Nhà máy may Hưng Yên 2"
    replaced = client.put("/collections/projects/items/DA-NEW", auth=EDITOR,
                          headers={"content-type": "application/geo+json",
                                   "If-Match": read.headers["etag"]}, json=feature)
    assert replaced.status_code == 204, replaced.text
    again = client.get("/collections/projects/items/DA-NEW")
    assert again.json()["properties"]["name"] == "Nhà máy may Hưng Yên 2"
    gone = client.delete("/collections/projects/items/DA-NEW", auth=EDITOR,
                         headers={"If-Match": again.headers["etag"]})
    assert gone.status_code == 204
    assert client.get("/collections/projects/items/DA-NEW").status_code == 404
    assert [h["operation"] for h in read_history(layers)] == ["create", "replace", "delete"]


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_a_geometry_in_vn2000_with_content_crs(client, layers):
    dataset = load_dataset(layers)
    parcel = dataset.parcels.iloc[1]
    url = f"/collections/parcels/items/{parcel.parcel_id}"
    tag = client.get(url).headers["etag"]
    smaller = shapely.affinity.scale(parcel.geometry, 0.9, 0.9)  # in EPSG:9209, X = east
    done = client.patch(url, auth=EDITOR, json={"geometry": shapely.geometry.mapping(smaller)},
                        headers={**PATCH, "If-Match": tag,
                                 "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/9209>"})
    assert done.status_code == 204, done.text
    stored = load_dataset(layers).parcels.set_index("parcel_id").at[parcel.parcel_id,
                                                                    "geometry"]
    assert stored.area == pytest.approx(smaller.area, rel=1e-9)


def test_mistakes_are_400_404_415(client, layers):
    parcel, _ = _vacant(layers)
    url = f"/collections/parcels/items/{parcel}"
    tag = client.get(url).headers["etag"]
    unknown = client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": tag},
                           json={"properties": {"colour": "red"}})
    assert unknown.status_code == 400 and "colour" in unknown.json()["description"]
    assert client.patch("/collections/parcels/items/NOPE", auth=EDITOR,
                        headers={**PATCH, "If-Match": tag},
                        json={"properties": {}}).status_code == 404
    assert client.patch(url, auth=EDITOR, headers={"If-Match": tag, "content-type": "text/csv"},
                        content=b"a,b").status_code == 415
    assert client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": tag},
                        content=b"{not json").status_code == 400
    assert read_history(layers) == []


def test_the_api_declares_part_4(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert any(c.endswith("ogcapi-features-4/1.0/conf/create-replace-delete") for c in classes)
    paths = client.get("/openapi.json").json()["paths"]
    item = paths["/collections/{collection_id}/items/{feature_id}"]
    assert {"get", "put", "patch", "delete"} <= set(item)
    assert "post" in paths["/collections/{collection_id}/items"]
    allowed = client.options("/collections/parcels/items/X").headers["allow"]
    assert {"GET", "PUT", "PATCH", "DELETE"} <= set(allowed.replace(" ", "").split(","))


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_a_change_set_is_one_decision_all_or_nothing(client, layers):
    cluster = client.get("/collections/clusters/items/TB-03")
    parcel, project = _vacant(layers)
    lease = client.get(f"/collections/parcels/items/{parcel}")
    note = "Quyết định 1234/QĐ-UBND"
    bad = client.post("/changes", auth=EDITOR, json={"note": note, "edits": [
        {"collection": "clusters", "operation": "update", "id": "TB-03",
         "if_match": cluster.headers["etag"], "feature": {"properties": {"investor": "X"}}},
        {"collection": "parcels", "operation": "update", "id": parcel,
         "if_match": lease.headers["etag"],
         "feature": {"properties": {"land_use": "casino"}}},
    ]})
    assert bad.status_code == 422, bad.text
    assert read_history(layers) == []
    good = client.post("/changes", auth=EDITOR, json={"note": note, "edits": [
        {"collection": "clusters", "operation": "update", "id": "TB-03",
         "if_match": cluster.headers["etag"],
         "feature": {"properties": {"investor": "Công ty CP Hạ tầng X"}}},
        {"collection": "parcels", "operation": "update", "id": parcel,
         "if_match": lease.headers["etag"],
         "feature": {"properties": {"project_id": project, "leased_on": "2026-12-01"}}},
    ]})
    assert good.status_code == 201, good.text
    body = good.json()
    assert good.headers["location"].endswith(f"/changes/{body['change_id']}")
    assert [e["id"] for e in body["edits"]] == ["TB-03", parcel]
    assert body["edits"][0]["etag"] == client.get(
        "/collections/clusters/items/TB-03").headers["etag"]
    assert client.get("/changes").status_code == 401  # the log names the staff: sign in
    log = client.get("/changes", auth=VIEWER).json()["changes"]
    assert [(c["note"], c["user"], len(c["edits"])) for c in log] == [(note, "lan.editor", 2)]
    one = client.get(f"/changes/{body['change_id']}", auth=VIEWER).json()
    assert one["edits"][1]["after"]["project_id"] == project
    history = client.get(f"/collections/parcels/items/{parcel}/history", auth=VIEWER).json()
    assert [c["change_id"] for c in history["changes"]] == [body["change_id"]]
    assert client.get("/changes/999", auth=VIEWER).status_code == 404


def test_reads_need_a_viewer_when_they_are_not_public(layers, monkeypatch):
    add_user(layers, VIEWER[0], "viewer", VIEWER[1], hasher=CHEAP)
    monkeypatch.setenv("CCN_GIS_PUBLIC_READ", "false")
    private = TestClient(create_app(AppSettings(layers=layers)))
    for url in ("/collections", "/collections/clusters/items", "/stats", "/scenarios",
                "/collections/parcels/download?format=geojson", "/landuse"):
        assert private.get(url).status_code == 401, url
        assert private.get(url, auth=VIEWER).status_code == 200, url
    for url in ("/conformance", "/health", "/openapi.json"):  # what the service is: public
        assert private.get(url).status_code == 200, url


ADMIN = ("hoa.admin", "mật khẩu của Hoa")


@pytest.mark.slow  # several writes, re-reads or checks of the sample: seconds
def test_an_admin_reverts_a_change_set_unless_it_was_changed_since(client, layers):
    add_user(layers, ADMIN[0], "admin", ADMIN[1], hasher=CHEAP)
    parcel, project = _vacant(layers)
    url = f"/collections/parcels/items/{parcel}"
    original = client.get(url)
    leased = client.get("/stats").json()["leased_ha"]
    done = client.patch(url, auth=EDITOR, headers={**PATCH, "If-Match": original.headers[
        "etag"]}, json={"properties": {"project_id": project, "leased_on": "2026-12-01"}})
    [first] = read_history(layers)
    assert client.post(f"/changes/{first['change_id']}/revert", auth=EDITOR).status_code == 403
    reverted = client.post(f"/changes/{first['change_id']}/revert", auth=ADMIN,
                           params={"note": "nhập nhầm"})
    assert reverted.status_code == 201, reverted.text
    assert client.get("/stats").json()["leased_ha"] == pytest.approx(leased, abs=1e-9)
    again = client.get(url)
    assert again.json()["properties"] == original.json()["properties"]
    assert again.headers["etag"] == original.headers["etag"]  # the same stored row again
    log = client.get("/changes", auth=VIEWER).json()["changes"]
    assert [(c["user"], c["note"]) for c in log][-1] == ("hoa.admin", "nhập nhầm")
    # the lease reverted twice: its feature has changed since (by the revert)
    conflict = client.post(f"/changes/{first['change_id']}/revert", auth=ADMIN)
    assert conflict.status_code == 409 and parcel in conflict.json()["description"]
    assert done.status_code == 204
    assert client.post("/changes/999/revert", auth=ADMIN).status_code == 404
