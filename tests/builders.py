"""Tiny provinces built in code, whose figures can be worked out by hand.

Coordinates are metres in EPSG:9209 from an origin inside Thái Bình, so every
box's area is its width times its height. ``tiny_layers()`` returns frames. Domain
tests build a :class:`~ccn_gis.dataset.Dataset` from them in memory with
``tiny_dataset`` (or hand the layers to the checks with ``raw_layers``); io tests
store them in a GeoPackage (in the CRS they choose) with ``write_layers``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from shapely import MultiPolygon, Polygon, box
from shapely.affinity import translate

from ccn_gis.dataset import Dataset, build_dataset
from ccn_gis.settings import ProvinceSettings
from ccn_gis.stored import RawLayer

X0, Y0 = 580_000.0, 2_260_000.0  # inside Thái Bình, EPSG:9209
AREA_CRS = "EPSG:9209"


def at(geom):
    """Move a geometry drawn around (0, 0) to the tiny province's origin."""
    return translate(geom, X0, Y0)


def d(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


# C1: 500 m x 500 m with a 100 m x 80 m hole (a retained pond)  -> 25 - 0.8 = 24.2 ha
C1 = Polygon(box(0, 0, 500, 500).exterior, [box(350, 400, 450, 480).exterior])
# C2: two 300 m x 300 m squares 100 m apart (a MultiPolygon) -> 18 ha
C2 = MultiPolygon([box(1000, 0, 1300, 300), box(1400, 0, 1700, 300)])
# C3: 400 m x 500 m, planned only -> 20 ha
C3 = box(3000, 0, 3400, 500)


def tiny_layers() -> dict[str, pd.DataFrame]:
    """Return the tiny province's layers, geometries in EPSG:9209."""
    admin = gpd.GeoDataFrame(
        {
            "code": ["P", "D1", "D2"],
            "name": ["Tỉnh Thử", "Huyện Một", "Huyện Hai"],
            "level": ["province", "district", "district"],
            "parent_code": [None, "P", "P"],
            "valid_from": [None, None, None],
            "valid_to": [None, "2025-06-30", "2025-06-30"],
        },
        geometry=[at(box(-500, -500, 4000, 1000)), at(box(-500, -500, 2000, 1000)),
                  at(box(2000, -500, 4000, 1000))],
        crs=AREA_CRS,
    )
    clusters = gpd.GeoDataFrame(
        {
            "cluster_id": ["C1", "C2", "C3"],
            "name": ["CCN Một", "CCN Hai", "CCN Ba"],
            "admin_code": ["D1", "D1", "D2"],
            "kind": ["general", "craft_village", "general"],
            "investor": ["Công ty Một", None, None],
            "operating_since": [d("2017-01-01"), None, None],
            "infrastructure_complete": [True, False, False],
        },
        geometry=[at(C1), at(C2), at(C3)],
        crs=AREA_CRS,
    )
    extents = gpd.GeoDataFrame(
        {
            "cluster_id": ["C1", "C1", "C1", "C2", "C2"],
            "stage": ["establishment", "establishment", "detailed_plan", "establishment",
                      "detailed_plan"],
            "decision": ["1/QĐ-UBND", "2/QĐ-UBND", "3/QĐ-UBND", "4/QĐ-UBND", "5/QĐ-UBND"],
            "decided_on": [d("2015-03-01"), d("2019-06-01"), d("2016-01-01"), d("2018-01-01"),
                           d("2021-05-01")],
        },
        geometry=[
            at(box(0, 0, 300, 500)),  # 15 ha
            at(box(200, 0, 500, 500)),  # 15 ha, overlapping the first by 100 x 500 = 5 ha
            at(box(0, 0, 300, 400)),  # 12 ha
            at(C2),  # 18 ha
            at(box(1000, 0, 1300, 300)),  # 9 ha
        ],
        crs=AREA_CRS,
    )
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
            "cluster_id": ["C1", "C1", "C1", "C1", "C1", "C1", "C2"],
            "land_use": ["industrial", "industrial", "industrial", "industrial", "traffic",
                         "green", "industrial"],
            "recovered": [True, True, True, False, True, True, False],
            "project_id": ["PR1", "PR2", None, None, None, None, "PR3"],
            "leased_on": [d("2016-06-01"), d("2021-03-01"), None, None, None, None,
                          d("2022-01-01")],
        },
        geometry=[
            at(box(0, 0, 100, 200)),  # 2 ha
            at(box(100, 0, 200, 200)),  # 2 ha
            at(box(200, 0, 300, 200)),  # 2 ha
            at(box(0, 200, 150, 400)),  # 3 ha
            at(box(150, 200, 200, 400)),  # 1 ha
            at(box(200, 200, 300, 400)),  # 2 ha
            at(box(1000, 0, 1300, 150)),  # 4.5 ha
        ],
        crs=AREA_CRS,
    )
    projects = pd.DataFrame(
        {
            "project_id": ["PR1", "PR2", "PR3", "PR4"],
            "cluster_id": ["C1", "C1", "C2", "C1"],
            "name": ["Nhà máy may Một", "Xưởng cơ khí Hai", "Nhà máy Ba", "Xưởng Bốn"],
            "investor": ["A", "B", "C", "D"],
            "sector": ["may mặc", "cơ khí", "thực phẩm", "gỗ"],
            "registered_on": [d("2016-01-10"), d("2020-12-01"), d("2021-10-01"),
                              d("2014-01-01")],
            "status": ["producing", "under_construction", "not_started", "stopped"],
            "registered_capital_bn_vnd": [100.0, 50.0, 30.0, 20.0],
            "implemented_capital_bn_vnd": [80.0, 10.0, 0.0, 20.0],
            "registered_workers": [200, 100, 100, 50],
            "workers": [150, 0, 0, 0],
        }
    )
    promotion = gpd.GeoDataFrame(
        {
            "activity_id": ["A1", "A2", "A3"],
            "year": [2015, 2019, 2020],
            "programme": ["sewing_training", "machinery_support", "sewing_training"],
            "admin_code": ["D1", "D2", "D2"],
            "participants": [100, 0, 50],
            "facilities": [0, 3, 0],
            "budget_mil_vnd": [250.0, 400.0, 120.5],
        },
        geometry=[at(box(0, 0, 1, 1)).centroid, at(box(2500, 0, 2501, 1)).centroid,
                  at(box(3000, 0, 3001, 1)).centroid],
        crs=AREA_CRS,
    )
    return {
        "admin_units": admin,
        "clusters": clusters,
        "approved_extents": extents,
        "parcels": parcels,
        "projects": projects,
        "promotion_activities": promotion,
    }


def write_layers(
    path: Path,
    layers: dict[str, pd.DataFrame],
    *,
    crs: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
) -> Path:
    """Write ``layers`` to a new GeoPackage, each in ``crs[name]`` if given.

    The file is written without waiting for the disk after each layer (SQLite's
    ``synchronous=OFF``): the same bytes, ten times sooner.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    with _without_fsync():
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame) and crs and name in crs:
                frame = frame.to_crs(crs[name])
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
            else:
                pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
        if settings is not None:
            table = pd.DataFrame({"key": list(settings), "value": list(settings.values())})
            pyogrio.write_dataframe(table, path, layer="ccn_settings", driver="GPKG")
    return path


@contextlib.contextmanager
def _without_fsync() -> Iterator[None]:
    """GDAL's SQLite writes not synced to disk, for the ``with`` block only."""
    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def _as_stored(frame: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """``frame`` as a GeoPackage hands it back, and its geometry type (``None``: a table).

    Feature ids count from 1; a layer mixing polygons and multipolygons holds
    multipolygons only, as GDAL writes it.
    """
    frame = frame.copy()
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="fid")
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame, None
    kinds = set(frame.geom_type.dropna())
    if kinds == {"Polygon", "MultiPolygon"}:
        parts = [shapely.multipolygons([g]) if isinstance(g, Polygon) else g
                 for g in frame.geometry]
        frame, kinds = frame.set_geometry(parts, crs=frame.crs), {"MultiPolygon"}
    return frame, kinds.pop() if len(kinds) == 1 else "Unknown"


def raw_layers(
    layers: dict[str, pd.DataFrame] | None = None, *, crs: dict[str, str] | None = None
) -> dict[str, RawLayer]:
    """The layers as a store hands them over (:class:`~ccn_gis.stored.RawLayer`), no file.

    ``layers`` defaults to :func:`tiny_layers`; each is reprojected to ``crs[name]`` if
    given, as :func:`write_layers` stores it.
    """
    layers = tiny_layers() if layers is None else layers
    raw = {}
    for name, frame in layers.items():
        if isinstance(frame, gpd.GeoDataFrame) and crs and name in crs:
            frame = frame.to_crs(crs[name])
        frame, geometry_type = _as_stored(frame)
        declared = getattr(frame, "crs", None) if geometry_type is not None else None
        raw[name] = RawLayer(name, frame, None if declared is None else CRS(declared),
                             geometry_type)
    return raw


def tiny_dataset(
    layers: dict[str, pd.DataFrame] | None = None,
    *,
    crs: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
) -> Dataset:
    """The tiny province (or ``layers``) checked and normalised in memory, as
    :func:`ccn_gis.io.load_dataset` would read it from :func:`write_layers`' file.

    ``settings`` are the rows of the ``ccn_settings`` table (defaults when absent).
    """
    return build_dataset(raw_layers(layers, crs=crs), ProvinceSettings.from_table(settings or {}),
                         source="tiny province (in memory)")
