"""Downloads (``ccn_gis.io.export``): every layer in every format and CRS, reopened by GDAL.

GDAL is the client: pyogrio (the GDAL in its wheel) for the bulk of the checks and the
system's ``ogrinfo`` (another GDAL version) for at least one check per format.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from ccn_gis import CrsError, UnknownValueError, load_dataset
from ccn_gis.crs import area_ha, transform_geometries
from ccn_gis.io import export_rows
from ccn_gis.io.export import (
    EXPORT_CRSS,
    FORMATS,
    GEOMETRY_COLUMN,
    SHAPEFILE_FIELD_NAMES,
    Export,
    ExportFormat,
    export_crs_label,
    export_layer,
    read_style,
    shapefile_field_names,
)
from ccn_gis.model import Stage
from ccn_gis.publish import COLLECTIONS, LEASE_STATUSES, STAGES, id_field, layer_view

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
DOC = ROOT / "docs" / "downloads.md"
AREA_CRS = "EPSG:9209"
WGS84 = "EPSG:4326"
LAYERS = tuple(COLLECTIONS)

TEXT_FIELDS = {
    "admin_units": ("code", "name", "level", "parent_code"),
    "clusters": ("cluster_id", "name", "admin_code", "investor", "stage"),
    "approved_extents": ("extent_id", "cluster_id", "stage", "decision"),
    "parcels": ("parcel_id", "cluster_id", "land_use", "project_id", "lease_status"),
    "projects": ("project_id", "cluster_id", "name", "investor", "sector", "status"),
    "promotion_activities": ("activity_id", "programme", "admin_code"),
}
"""Text fields compared value by value, Vietnamese included."""

STYLE_TABLE_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]
"""The ``layer_styles`` table as QGIS creates it (QgsOgrUtils::saveStyle)."""


@pytest.fixture(scope="module")
def views() -> dict[str, pd.DataFrame]:
    dataset = load_dataset(SAMPLE)
    return {name: layer_view(dataset, name) for name in LAYERS}


def _crss(fmt: ExportFormat) -> tuple[str, ...]:
    return (WGS84, AREA_CRS) if FORMATS[fmt].crs_choice else (WGS84,)


def _cases():
    for layer in LAYERS:
        for fmt in ExportFormat:
            if fmt is ExportFormat.KML and not COLLECTIONS[layer].has_geometry:
                continue  # refused, see test_kml_of_a_table_is_refused
            for crs in _crss(fmt):
                yield pytest.param(layer, fmt, crs, id=f"{layer}-{fmt.value}-{crs}")


def _save(tmp_path: Path, export: Export) -> Path:
    path = tmp_path / export.filename
    path.write_bytes(export.content)
    return path


def _gdal_path(path: Path, fmt: ExportFormat, layer: str, has_geometry: bool) -> str:
    if fmt is ExportFormat.SHAPEFILE:
        return f"/vsizip/{path}/{layer}.{'shp' if has_geometry else 'dbf'}"
    return str(path)


def _reopen(path: Path, fmt: ExportFormat, layer: str, has_geometry: bool) -> pd.DataFrame:
    source = _gdal_path(path, fmt, layer, has_geometry)
    name = layer if fmt in (ExportFormat.GPKG, ExportFormat.KML) else None
    return pyogrio.read_dataframe(source, layer=name)


def _columns(fmt: ExportFormat, source: pd.DataFrame) -> dict[str, str]:
    """Where each source field is found in the reopened file."""
    columns = [c for c in source.columns if c != "geometry"]
    if fmt is ExportFormat.SHAPEFILE:
        return shapefile_field_names(columns)
    names = {c: c for c in columns}
    if fmt is ExportFormat.KML and "name" in names:
        names["name"] = "Name"  # the placemark's <name>
    return names


def _texts(values: pd.Series) -> list[str | None]:
    return [
        None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v)
        for v in values.astype(object)
    ]


def _area_tolerance_ha(fmt: ExportFormat, geoms: np.ndarray) -> np.ndarray:
    """0.01 ha; GeoJSON rounds to 7 decimals (a vertex moves ≤ 0.56 cm), which on the
    province's 200 km outline can move its area by a little more."""
    tolerance = np.full(len(geoms), 0.01)
    if fmt is ExportFormat.GEOJSON:
        tolerance = np.maximum(tolerance, shapely.length(geoms) * 0.0056 / 10_000)
    return tolerance


@pytest.mark.parametrize("layer, fmt, crs", list(_cases()))
def test_every_layer_reopens_in_gdal_with_the_same_features(
    tmp_path, views, layer, fmt, crs, monkeypatch
):
    monkeypatch.setattr(export_rows, "CHUNK_ROWS", 40)  # clusters in 2 chunks, parcels 38
    source = views[layer]
    has_geometry = COLLECTIONS[layer].has_geometry
    export = export_layer(source, layer=layer, fmt=fmt, crs=crs, basename="thai_binh")
    assert export.media_type == FORMATS[fmt].media_type
    assert export.filename.endswith("." + FORMATS[fmt].extension)
    reopened = _reopen(_save(tmp_path, export), fmt, layer, has_geometry)

    assert len(reopened) == len(source)
    columns = _columns(fmt, source)
    ident = id_field(layer)
    assert _texts(reopened[columns[ident]]) == _texts(source[ident])
    for field in TEXT_FIELDS[layer]:
        assert _texts(reopened[columns[field]]) == _texts(source[field]), field

    if has_geometry and "area_ha" in source.columns:
        written_crs = reopened.crs if reopened.crs is not None else crs  # CSV declares none
        geoms = reopened.geometry.to_numpy()
        in_area_crs = transform_geometries(geoms, written_crs, AREA_CRS)
        difference = np.abs(area_ha(in_area_crs) - source["area_ha"].to_numpy())
        assert (difference <= _area_tolerance_ha(fmt, in_area_crs)).all(), difference.max()
    if not has_geometry:
        assert "geometry" not in reopened.columns or reopened.geometry.isna().all()


@pytest.mark.parametrize("fmt", [f for f in ExportFormat if FORMATS[f].crs_choice])
def test_vn2000_files_keep_the_coordinates_and_declare_epsg_9209(tmp_path, views, fmt):
    source = views["clusters"]
    export = export_layer(source, layer="clusters", fmt=fmt, crs=AREA_CRS)
    path = _save(tmp_path, export)
    reopened = _reopen(path, fmt, "clusters", True)
    distance = shapely.hausdorff_distance(reopened.geometry.to_numpy(), source.geometry.to_numpy())
    assert distance.max() < 1e-6  # metres: no reprojection, no shift
    if fmt is not ExportFormat.CSV:  # a CSV cannot say; its filename does
        info = pyogrio.read_info(
            _gdal_path(path, fmt, "clusters", True),
            layer="clusters" if fmt is ExportFormat.GPKG else None,
        )
        assert info["crs"] == "EPSG:9209"


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_wgs84_files_carry_the_national_shift(tmp_path, fmt):
    """DATA_MODEL.md's check point: E 587448.56, N 2262291.73 is (106.34 E, 20.45 N)."""
    point = gpd.GeoDataFrame(
        {"activity_id": ["KC-1"], "name": ["Điểm kiểm tra"]},
        geometry=[shapely.Point(587448.56, 2262291.73)],
        crs=AREA_CRS,
    )
    export = export_layer(point, layer="promotion_activities", fmt=fmt, crs=WGS84)
    reopened = _reopen(_save(tmp_path, export), fmt, "promotion_activities", True)
    written = reopened.geometry.iloc[0]
    assert (written.x, written.y) == pytest.approx((106.34, 20.45), abs=1e-6)


def test_geojson_follows_rfc_7946(views):
    export = export_layer(views["clusters"], layer="clusters", fmt="geojson", crs="wgs84")
    document = json.loads(export.content)
    assert "crs" not in document
    assert document["type"] == "FeatureCollection"
    for feature in document["features"]:
        geometry = shapely.geometry.shape(feature["geometry"])
        for polygon in getattr(geometry, "geoms", [geometry]):
            assert shapely.is_ccw(polygon.exterior)
            assert not any(shapely.is_ccw(ring) for ring in polygon.interiors)
    coordinates = np.concatenate(
        [
            shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
            for f in document["features"]
        ]
    )
    assert (np.round(coordinates, 7) == coordinates).all()  # 7 decimals, about 1 cm
    text = export.content.decode("utf-8")
    assert "CCN Phong Phú" in text  # UTF-8, not \u escapes
    assert document["features"][0]["properties"]["operating_since"] == "2017-03-02"


def test_geojson_of_a_table_has_null_geometries(views):
    export = export_layer(views["projects"], layer="projects", fmt="geojson")
    document = json.loads(export.content)
    assert len(document["features"]) == len(views["projects"])
    assert all(f["geometry"] is None for f in document["features"])


def test_geopackage_fields_keep_their_types(tmp_path, views):
    path = _save(
        tmp_path, export_layer(views["clusters"], layer="clusters", fmt="gpkg", crs=AREA_CRS)
    )
    info = pyogrio.read_info(path, layer="clusters")
    types = dict(
        zip(info["fields"], zip(info["ogr_types"], info["ogr_subtypes"], strict=True), strict=True)
    )
    assert types["operating_since"] == ("OFTDate", "OFSTNone")
    assert types["infrastructure_complete"] == ("OFTInteger", "OFSTBoolean")
    assert types["operating"] == ("OFTInteger", "OFSTBoolean")
    reopened = pyogrio.read_dataframe(path, layer="clusters")
    assert reopened["infrastructure_complete"].tolist() == (
        views["clusters"]["infrastructure_complete"].tolist()
    )
    assert info["geometry_name"] == GEOMETRY_COLUMN


CATEGORIES = {
    "clusters": ("stage", STAGES),
    "parcels": ("lease_status", LEASE_STATUSES),
    "approved_extents": ("stage", tuple(s.value for s in Stage)),
}


@pytest.mark.parametrize("layer", [n for n in LAYERS if COLLECTIONS[n].has_geometry])
def test_geopackage_holds_a_default_qgis_style(tmp_path, views, layer):
    path = _save(tmp_path, export_layer(views[layer], layer=layer, fmt="gpkg"))
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(layer_styles)")]
        rows = db.execute(
            "SELECT f_table_catalog, f_table_schema, f_geometry_column, useAsDefault, styleQML "
            "FROM layer_styles WHERE f_table_name = ?",
            (layer,),
        ).fetchall()
        geometry_column = db.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
        ).fetchone()[0]
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert columns == STYLE_TABLE_COLUMNS
    assert registered == ("attributes",)
    assert len(rows) == 1
    catalog, schema, geometry, default, qml = rows[0]
    assert (catalog, schema, geometry, default) == ("", "", geometry_column, 1)
    assert qml == read_style(layer)
    assert qml.startswith("<!DOCTYPE qgis")
    root = ET.fromstring(qml)
    assert root.tag == "qgis"
    renderer = root.find("renderer-v2")
    assert renderer is not None
    if layer in CATEGORIES:
        field, values = CATEGORIES[layer]
        assert renderer.get("type") == "categorizedSymbol"
        assert renderer.get("attr") == field and field in views[layer].columns
        categories = {c.get("value"): c.get("label") for c in renderer.iter("category")}
        assert set(values) <= set(categories)
        assert set(views[layer][field].unique()) <= set(categories)
        symbols = {s.get("name") for s in renderer.iter("symbol")}
        assert {c.get("symbol") for c in renderer.iter("category")} <= symbols
    else:
        assert renderer.get("type") == "singleSymbol"
    geometry_type = "0" if layer == "promotion_activities" else "2"
    assert root.findtext("layerGeometryType") == geometry_type


def test_style_labels_are_vietnamese():
    labels = {
        c.get("value"): c.get("label")
        for name in CATEGORIES
        for c in ET.fromstring(read_style(name)).iter("category")
    }
    assert labels["planned"] == "Quy hoạch"
    assert labels["established"] == "Đã thành lập"
    assert labels["detailed_plan"] in (
        "Đã quy hoạch chi tiết",
        "Quy hoạch chi tiết 1/500 được duyệt",
    )
    assert labels["operating"] == "Đang hoạt động"
    assert (labels["leased"], labels["vacant"], labels["not_for_lease"]) == (
        "Đã cho thuê",
        "Còn trống",
        "Không cho thuê",
    )


def test_a_table_goes_into_the_geopackage_without_a_style(tmp_path, views):
    path = _save(tmp_path, export_layer(views["projects"], layer="projects", fmt="gpkg"))
    assert [name for name, _ in pyogrio.list_layers(path)] == ["projects"]
    info = pyogrio.read_info(path, layer="projects")
    assert info["geometry_type"] is None
    assert dict(zip(info["fields"], info["ogr_types"], strict=True))["registered_on"] == "OFTDate"


@pytest.mark.parametrize("layer", LAYERS)
def test_shapefile_zip_holds_utf8_files_with_short_field_names(tmp_path, views, layer):
    source = views[layer]
    path = _save(tmp_path, export_layer(source, layer=layer, fmt="shp", crs=AREA_CRS))
    with zipfile.ZipFile(path) as zipped:
        members = set(zipped.namelist())
        parts = (
            ("shp", "shx", "dbf", "prj", "cpg")
            if COLLECTIONS[layer].has_geometry
            else ("dbf", "cpg")
        )
        assert members == {f"{layer}.{part}" for part in parts}
        assert zipped.read(f"{layer}.cpg").decode().strip() == "UTF-8"
    info = pyogrio.read_info(
        _gdal_path(path, ExportFormat.SHAPEFILE, layer, COLLECTIONS[layer].has_geometry)
    )
    fields = list(info["fields"])
    assert all(len(f) <= 10 for f in fields)
    assert len({f.lower() for f in fields}) == len(fields)
    for long_name, short_name in SHAPEFILE_FIELD_NAMES.items():
        if long_name in source.columns:
            assert short_name in fields
            assert long_name not in fields
    types = dict(zip(fields, info["ogr_types"], strict=True))
    for column in source.columns:
        if pd.api.types.is_datetime64_any_dtype(source[column]):
            assert types[SHAPEFILE_FIELD_NAMES.get(column, column)] == "OFTDate"


def test_shapefile_booleans_are_one_and_zero(tmp_path, views):
    path = _save(tmp_path, export_layer(views["clusters"], layer="clusters", fmt="shp"))
    reopened = pyogrio.read_dataframe(f"/vsizip/{path}/clusters.shp")
    expected = views["clusters"]["infrastructure_complete"].astype(int).tolist()
    assert reopened["infra_done"].tolist() == expected


def test_shapefile_field_names_are_unique_and_short():
    assert shapefile_field_names(["infrastructure_complete", "lease_status", "name"]) == {
        "infrastructure_complete": "infra_done",
        "lease_status": "lease_stat",
        "name": "name",
    }
    names = shapefile_field_names(["abcdefghijkl", "ABCDEFGHIJxx", "abcdefgh_1", "x"])
    assert names == {
        "abcdefghijkl": "abcdefghij",
        "ABCDEFGHIJxx": "ABCDEFGH_1",
        "abcdefgh_1": "abcdefgh_2",
        "x": "x",
    }
    assert all(len(v) <= 10 for v in SHAPEFILE_FIELD_NAMES.values())
    assert len(set(SHAPEFILE_FIELD_NAMES.values())) == len(SHAPEFILE_FIELD_NAMES)


def test_csv_opens_in_excel_and_gdal(tmp_path, views):
    export = export_layer(views["clusters"], layer="clusters", fmt="csv", crs=AREA_CRS)
    assert export.content.startswith(b"\xef\xbb\xbfWKT,")  # UTF-8 BOM, then the WKT column
    text = export.content.decode("utf-8-sig")
    assert "\r\n" in text
    header, first = text.split("\r\n")[:2]
    assert header.split(",")[:2] == ["WKT", "cluster_id"]
    assert "2017-03-02" in first and "2017/03/02" not in first
    reopened = pyogrio.read_dataframe(_save(tmp_path, export))
    assert reopened.columns[0] == "WKT"
    assert reopened["operating_since"].iloc[0] == "2017-03-02"


def test_csv_of_a_table_has_no_wkt(views):
    export = export_layer(views["projects"], layer="projects", fmt="csv")
    assert export.content.decode("utf-8-sig").split("\r\n")[0].startswith("project_id,")


def test_kml_names_every_placemark(tmp_path, views):
    export = export_layer(views["approved_extents"], layer="approved_extents", fmt="kml")
    root = ET.fromstring(export.content)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    placemarks = root.findall(".//k:Placemark", ns)
    assert len(placemarks) == len(views["approved_extents"])
    assert (
        placemarks[0].findtext("k:name", namespaces=ns)
        == views["approved_extents"]["extent_id"].iloc[0]
    )
    data = {d.get("name"): d.text for d in placemarks[0].iter(f"{{{ns['k']}}}SimpleData")}
    assert data["decision"] == views["approved_extents"]["decision"].iloc[0]  # "…/QĐ-UBND"
    assert data["decided_on"] == views["approved_extents"]["decided_on"].iloc[0].date().isoformat()
    clusters = ET.fromstring(export_layer(views["clusters"], layer="clusters", fmt="kml").content)
    assert clusters.find(".//k:Placemark/k:name", ns).text == "CCN Phong Phú"


@pytest.mark.parametrize(
    "layer, fmt",
    [
        (layer, fmt)
        for layer in ("clusters", "promotion_activities", "projects")
        for fmt in ExportFormat
        if COLLECTIONS[layer].has_geometry or fmt is not ExportFormat.KML
    ],
)
def test_an_empty_selection_exports(tmp_path, views, layer, fmt):
    empty = views[layer].iloc[0:0]
    export = export_layer(empty, layer=layer, fmt=fmt)
    path = _save(tmp_path, export)
    source = _gdal_path(path, fmt, layer, COLLECTIONS[layer].has_geometry)
    info = pyogrio.read_info(
        source, layer=layer if fmt in (ExportFormat.GPKG, ExportFormat.KML) else None
    )
    assert info["features"] == 0


def test_geojson_and_kml_refuse_vn2000(views):
    with pytest.raises(UnknownValueError, match=r"GeoJSON is always WGS84 \(EPSG:4326\)"):
        export_layer(views["clusters"], layer="clusters", fmt="geojson", crs=AREA_CRS)
    with pytest.raises(ValueError, match=r"KML is always WGS84 \(EPSG:4326\)"):
        export_layer(views["clusters"], layer="clusters", fmt="kml", crs=AREA_CRS)


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "shp"])
def test_other_systems_are_refused_with_the_valid_ones(views, fmt):
    with pytest.raises(UnknownValueError) as caught:
        export_layer(views["clusters"], layer="clusters", fmt=fmt, crs="EPSG:3857")
    message = str(caught.value)
    assert "EPSG:3857" in message and "EPSG:4326" in message and "EPSG:9209" in message


def test_unknown_format_lists_the_valid_ones(views):
    with pytest.raises(UnknownValueError, match="geojson, gpkg, shp, kml, csv"):
        export_layer(views["clusters"], layer="clusters", fmt="xlsx")
    assert ExportFormat.parse(" GeoJSON ") is ExportFormat.GEOJSON


def test_kml_of_a_table_is_refused(views):
    with pytest.raises(UnknownValueError, match="no geometry"):
        export_layer(views["projects"], layer="projects", fmt="kml")


def test_a_layer_without_crs_is_an_error(views):
    frame = views["clusters"].set_crs(None, allow_override=True)
    with pytest.raises(CrsError, match="clusters"):
        export_layer(frame, layer="clusters", fmt="gpkg")


def test_crs_labels():
    assert EXPORT_CRSS == {"EPSG:4326": "wgs84", "EPSG:9209": "vn2000"}
    assert export_crs_label("EPSG:9213", fmt="shp") == "vn2000"  # another province's zone
    assert export_crs_label("vn2000", fmt="csv") == "vn2000"
    assert export_crs_label("wgs84", fmt="kml") == "wgs84"
    assert export_crs_label("EPSG:32648", fmt="gpkg", area_crs="EPSG:32648") == "epsg32648"


def test_filenames(views):
    def name(layer: str, fmt: str, crs: str = WGS84) -> str:
        return export_layer(
            views[layer], layer=layer, fmt=fmt, crs=crs, basename="Thái Bình"
        ).filename

    assert name("clusters", "gpkg", AREA_CRS) == "thai_binh_clusters_vn2000.gpkg"
    assert name("clusters", "shp", AREA_CRS) == "thai_binh_clusters_vn2000.shp.zip"
    assert name("parcels", "csv") == "thai_binh_parcels_wgs84.csv"
    assert name("parcels", "geojson") == "thai_binh_parcels.geojson"
    assert name("admin_units", "kml") == "thai_binh_admin_units.kml"
    assert name("projects", "csv", AREA_CRS) == "thai_binh_projects.csv"
    assert export_layer(views["projects"], layer="projects", fmt="gpkg").filename == (
        "ccn_projects.gpkg"
    )


def test_nothing_is_left_behind(tmp_path, monkeypatch, views):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for fmt in ExportFormat:
        export_layer(views["clusters"], layer="clusters", fmt=fmt)
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_ogrinfo_reads_every_format(tmp_path, views, fmt, ogrinfo):
    """The system's GDAL (older than pyogrio's) counts the features and reads Vietnamese."""
    crs = _crss(fmt)[-1]
    for layer, text in (("admin_units", "Huyện Tiền Hải"), ("clusters", "CCN Phong Phú")):
        path = _save(tmp_path, export_layer(views[layer], layer=layer, fmt=fmt, crs=crs))
        args = [ogrinfo, "-ro", "-al", str(path)]
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        summary = subprocess.run(
            [*args, "-so"], capture_output=True, text=True, check=True, env=env
        ).stdout
        assert f"Feature Count: {len(views[layer])}" in summary
        if crs == AREA_CRS and fmt is not ExportFormat.CSV:
            assert 'ID["EPSG",9209]' in summary
        features = subprocess.run(
            [*args, "-q"], capture_output=True, text=True, check=True, env=env
        ).stdout
        assert text in features


def test_ogrinfo_reads_a_table_and_the_style_table(tmp_path, views, ogrinfo):
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    projects = _save(tmp_path, export_layer(views["projects"], layer="projects", fmt="shp"))
    out = subprocess.run(
        [ogrinfo, "-ro", "-so", "-al", str(projects)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert f"Feature Count: {len(views['projects'])}" in out
    assert "reg_cap_bn: Real" in out and "reg_date: Date" in out
    parcels = _save(tmp_path, export_layer(views["parcels"], layer="parcels", fmt="gpkg"))
    out = subprocess.run(
        [ogrinfo, "-ro", "-q", str(parcels), "layer_styles"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "useAsDefault (Integer(Boolean)) = 1" in out
    assert "Còn trống" in out


def test_the_user_guide_lists_the_formats_and_the_field_names():
    doc = DOC.read_text(encoding="utf-8")
    for long_name, short_name in SHAPEFILE_FIELD_NAMES.items():
        assert f"| `{long_name}` | `{short_name}` |" in doc, long_name
    for info in FORMATS.values():
        assert info.media_type in doc and f".{info.extension}" in doc


def test_mixed_parts_become_one_multipart_type_in_every_chunk(tmp_path, monkeypatch):
    """Polygons beside multipolygons are promoted, chunk by chunk, to a MultiPolygon layer."""
    monkeypatch.setattr(export_rows, "CHUNK_ROWS", 2)
    square = shapely.box(587_000, 2_262_000, 587_100, 2_262_100)
    two = shapely.MultiPolygon([shapely.box(587_200, 2_262_000, 587_250, 2_262_050),
                                shapely.box(587_300, 2_262_000, 587_350, 2_262_050)])
    frame = gpd.GeoDataFrame({"cluster_id": ["A", "B", "C"], "name": ["a", "b", "c"]},
                             geometry=[square, two, square], crs=AREA_CRS)
    path = _save(tmp_path, export_layer(frame, layer="clusters", fmt="gpkg", crs=AREA_CRS))
    reopened = pyogrio.read_dataframe(path, layer="clusters")
    assert pyogrio.read_info(path, layer="clusters")["geometry_type"] == "MultiPolygon"
    assert list(reopened.geom_type) == ["MultiPolygon"] * 3
    assert list(reopened.area.round(6)) == [10_000.0, 5_000.0, 10_000.0]
