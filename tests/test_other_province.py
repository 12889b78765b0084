"""Another province, other CRSs: ccn-gis agrees with an independent computation to 0.01 ha.

The province is generated at random (seeded) in its own TM-3 zone, its layers are
stored in WGS84 and UTM, and the figures of the ``ccn-gis stats --json`` command are
compared with the straightforward geopandas way: ``read_file`` with fiona,
``to_crs``, ``dissolve``, ``groupby``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import MultiPolygon, box
from shapely.affinity import rotate

from builders import write_layers

AREA_CRS = "EPSG:9211"  # VN-2000 / TM-3 106-00 (a province east of Thái Bình's zone)
ORIGIN = (620_000.0, 2_300_000.0)


def _province(seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    clusters, extents, parcels, projects = [], [], [], []
    x0, y0 = ORIGIN
    n = 12
    for i in range(n):
        cid = f"ND-{i + 1:02d}"
        cx, cy = x0 + (i % 4) * 2500.0, y0 + (i // 4) * 2500.0
        w, h = rng.uniform(300, 900), rng.uniform(300, 900)
        angle = rng.uniform(0, 90)
        plan = box(cx, cy, cx + w, cy + h)
        if i % 5 == 0:  # a cluster in two parts
            plan = MultiPolygon([box(cx, cy, cx + w / 2 - 20, cy + h),
                                 box(cx + w / 2, cy, cx + w, cy + h)])
        turn = lambda g, c=(cx, cy), a=angle: rotate(g, a, origin=c)  # noqa: E731
        clusters.append(dict(cluster_id=cid, name=f"CCN Thử {i}", admin_code=f"U{i % 3}",
                             kind="general", investor=None,
                             operating_since=dt.date(2012 + i, 5, 1) if i % 3 else None,
                             infrastructure_complete=bool(i % 2), geometry=turn(plan)))
        if i % 4 == 3:
            continue  # planned only
        est1 = box(cx, cy, cx + w * 0.6, cy + h)
        extents.append(dict(cluster_id=cid, stage="establishment", decision=f"{i}a",
                            decided_on=dt.date(2010 + i, 1, 15), geometry=turn(est1)))
        if i % 2:
            est2 = box(cx + w * 0.5, cy, cx + w, cy + h)  # overlaps est1 by 0.1 w
            extents.append(dict(cluster_id=cid, stage="establishment", decision=f"{i}b",
                                decided_on=dt.date(2016 + i % 5, 7, 1), geometry=turn(est2)))
        detail = box(cx, cy, cx + w * 0.4, cy + h * 0.8)
        extents.append(dict(cluster_id=cid, stage="detailed_plan", decision=f"{i}c",
                            decided_on=dt.date(2011 + i, 3, 1), geometry=turn(detail)))
        cols, rows = 4, 3
        for r in range(rows):
            for c in range(cols):
                pid = f"{cid}-P{r}{c}"
                lot = box(cx + c * w * 0.1, cy + r * h * 0.8 / rows,
                          cx + (c + 1) * w * 0.1, cy + (r + 1) * h * 0.8 / rows)
                use = "industrial" if (r, c) != (0, 0) else "traffic"
                leased = use == "industrial" and rng.random() < 0.5
                project = f"DA-{cid}-{r}{c}" if leased else None
                lease_date = dt.date(2012 + i + r, 1 + c, 10) if leased else None
                parcels.append(dict(parcel_id=pid, cluster_id=cid, land_use=use,
                                    recovered=bool(leased or rng.random() < 0.3),
                                    project_id=project, leased_on=lease_date,
                                    geometry=turn(lot)))
                if leased:
                    projects.append(dict(
                        project_id=project, cluster_id=cid, name=f"Nhà máy {pid}",
                        investor="X", sector="may mặc", registered_on=lease_date,
                        status=["producing", "stopped", "under_construction"][c % 3],
                        registered_capital_bn_vnd=float(rng.integers(10, 500)),
                        implemented_capital_bn_vnd=float(rng.integers(0, 10)),
                        registered_workers=int(rng.integers(10, 500)),
                        workers=int(rng.integers(0, 10))))
    units = gpd.GeoDataFrame(
        dict(code=["U0", "U1", "U2"], name=["Huyện Không", "Huyện Một", "Huyện Hai"],
             level=["district"] * 3, parent_code=[None] * 3),
        geometry=[box(x0 - 5000, y0 - 5000, x0 + 15000, y0 + 15000)] * 3, crs=AREA_CRS)
    return {
        "admin_units": units,
        "clusters": gpd.GeoDataFrame(clusters, crs=AREA_CRS),
        "approved_extents": gpd.GeoDataFrame(extents, crs=AREA_CRS),
        "parcels": gpd.GeoDataFrame(parcels, crs=AREA_CRS),
        "projects": pd.DataFrame(projects),
    }


def _independent(path, as_of: dt.date) -> dict:
    """The figures the straightforward geopandas way, without ccn_gis."""
    read = lambda name: gpd.read_file(path, layer=name, engine="fiona")  # noqa: E731
    cutoff = pd.Timestamp(as_of)
    clusters = read("clusters").to_crs(AREA_CRS)
    extents = read("approved_extents").to_crs(AREA_CRS)
    extents = extents[pd.to_datetime(extents["decided_on"]) <= cutoff]
    parcels = read("parcels").to_crs(AREA_CRS)
    stage_area = {}
    for stage in ("establishment", "detailed_plan"):
        dissolved = extents[extents["stage"] == stage].dissolve(by="cluster_id")
        stage_area[stage] = dissolved.area / 10_000
    operating = clusters[pd.to_datetime(clusters["operating_since"]) <= cutoff]["cluster_id"]
    first_detail = extents[extents["stage"] == "detailed_plan"].groupby("cluster_id")[
        "decided_on"].min()
    parcels = parcels[parcels["cluster_id"].isin(first_detail.index)]
    industrial = parcels[parcels["land_use"] == "industrial"]
    leased = industrial[industrial["project_id"].notna()
                        & (pd.to_datetime(industrial["leased_on"]) <= cutoff)]
    recovered = industrial[industrial["recovered"].astype(bool)]
    return {
        "planned": clusters.area.sum() / 10_000,
        "established": (len(stage_area["establishment"]), stage_area["establishment"].sum()),
        "detailed_plan": (len(stage_area["detailed_plan"]), stage_area["detailed_plan"].sum()),
        "operating": stage_area["establishment"].reindex(operating).fillna(0).sum(),
        "industrial_ha": industrial.area.sum() / 10_000,
        "leased_ha": leased.area.sum() / 10_000,
        "recovered_industrial_ha": recovered.area.sum() / 10_000,
        "leased_by_cluster": (leased.area / 10_000).groupby(leased["cluster_id"]).sum(),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("as_of", [dt.date(2016, 12, 31), dt.date(2030, 1, 1)])
def test_agrees_with_geopandas(tmp_path, seed, as_of):
    path = write_layers(
        tmp_path / "nam_dinh.gpkg", _province(seed),
        crs={"clusters": "EPSG:4326", "parcels": "EPSG:32648", "approved_extents": "EPSG:4326"},
        settings={"province_name": "Thử nghiệm", "area_crs": AREA_CRS},
    )

    def stats(*extra: str):
        run = subprocess.run(
            [sys.executable, "-m", "ccn_gis.cli", "stats", "--layers", str(path), "--json",
             "--as-of", as_of.isoformat(), *extra], capture_output=True, text=True, check=True)
        return json.loads(run.stdout)

    ours, theirs = stats(), _independent(path, as_of)
    assert ours["area_crs"] == AREA_CRS
    assert ours["planned"]["area_ha"] == pytest.approx(theirs["planned"], abs=0.01)
    assert (ours["established"]["count"], ours["detailed_plan"]["count"]) == (
        theirs["established"][0], theirs["detailed_plan"][0])
    assert ours["established"]["area_ha"] == pytest.approx(theirs["established"][1], abs=0.01)
    assert ours["detailed_plan"]["area_ha"] == pytest.approx(theirs["detailed_plan"][1], abs=0.01)
    assert ours["operating"]["area_ha"] == pytest.approx(theirs["operating"], abs=0.01)
    for key in ("industrial_ha", "leased_ha", "recovered_industrial_ha"):
        assert ours[key] == pytest.approx(theirs[key], abs=0.01), key
    by_cluster = {c["cluster_id"]: c["leased_ha"] for c in stats("--by", "cluster")}
    for cid, leased in theirs["leased_by_cluster"].items():
        assert by_cluster[cid] == pytest.approx(leased, abs=0.01)
    assert sum(by_cluster.values()) == pytest.approx(ours["leased_ha"], abs=1e-6)


def test_api_boxes_and_tiles_in_another_zone(tmp_path, monkeypatch):
    """The web API over this province (parcels stored in UTM, index in EPSG:9211), with
    the geometry checks split over threads as at national scale: a ``bbox`` and a map tile
    find the parcels geopandas finds in WGS84 and Web Mercator."""
    import mapbox_vector_tile
    import shapely
    from fastapi.testclient import TestClient

    from ccn_gis import parallel
    from ccn_gis.settings import AppSettings
    from ccn_gis_api import create_app
    from ccn_gis_api.landuse import tile_bounds

    monkeypatch.setattr(parallel, "MIN_CHUNK", 20)
    monkeypatch.setenv("CCN_GIS_THREADS", "3")
    path = write_layers(
        tmp_path / "nam_dinh.gpkg", _province(4),
        crs={"clusters": "EPSG:4326", "parcels": "EPSG:32648", "approved_extents": "EPSG:4326"},
        settings={"province_name": "Thử nghiệm", "area_crs": AREA_CRS},
    )
    client = TestClient(create_app(AppSettings(layers=path)))
    parcels = gpd.read_file(path, layer="parcels", engine="fiona")
    lonlat, mercator = parcels.to_crs(4326), parcels.to_crs(3857)
    west, south, east, north = lonlat.total_bounds

    def differ_only_at_edges(found: set, frame: gpd.GeoDataFrame, area, edge: float) -> None:
        expected = set(frame.parcel_id[frame.intersects(area)])
        unsure = set(frame.parcel_id[frame.intersects(area.buffer(edge))
                                     & ~frame.intersects(area.buffer(-edge))])
        assert found ^ expected <= unsure
        assert len(expected - unsure) > 0, "the box holds parcels well inside it"

    middle_x, middle_y = (west + east) / 2, (south + north) / 2
    for bbox in [(west, south, middle_x, middle_y), (middle_x - 0.004, south, east, north)]:
        body = client.get("/collections/parcels/items",
                          params={"bbox": ",".join(map(str, bbox)), "limit": 1000}).json()
        differ_only_at_edges({f["id"] for f in body["features"]}, lonlat, box(*bbox), 2e-7)

    z = 15
    centre = lonlat.geometry.iloc[len(lonlat) // 2].centroid
    x = int((centre.x + 180.0) / 360.0 * 2**z)
    y = int((1.0 - np.arcsinh(np.tan(np.radians(centre.y))) / np.pi) / 2.0 * 2**z)
    tile = client.get(f"/collections/parcels/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200, tile.text
    decoded = mapbox_vector_tile.decode(tile.content)["parcels"]["features"]
    pixel = (tile_bounds(z, x, y)[2] - tile_bounds(z, x, y)[0]) / 4096
    differ_only_at_edges({f["properties"]["parcel_id"] for f in decoded}, mercator,
                         shapely.box(*tile_bounds(z, x, y)).buffer(64 * pixel, join_style="mitre"),
                         2 * pixel)
