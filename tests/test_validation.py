"""Each kind of bad input gives a clear problem naming layer, feature and field,
the command line exits non-zero without a traceback, and the file stays byte-identical."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from shapely import Polygon, box

from builders import at, tiny_layers, write_layers
from ccn_gis import ValidationError, load_dataset, validate_store

CLI = [sys.executable, "-m", "ccn_gis.cli"]


def _set(layer: str, row_id: str, field: str, value) -> Callable[[dict], None]:
    def change(layers: dict) -> None:
        frame = layers[layer]
        id_field = {"clusters": "cluster_id", "parcels": "parcel_id", "projects": "project_id",
                    "admin_units": "code"}[layer]
        frame.loc[frame[id_field] == row_id, field] = value

    return change


def _geometry(layer: str, row: int, geom) -> Callable[[dict], None]:
    def change(layers: dict) -> None:
        frame = layers[layer].copy()
        geoms = list(frame.geometry)
        geoms[row] = geom
        layers[layer] = frame.set_geometry(geoms, crs=frame.crs)

    return change


def _drop_layer(layers: dict) -> None:
    del layers["parcels"]


def _rename_kind(layers: dict) -> None:
    layers["clusters"] = layers["clusters"].rename(columns={"kind": "knd"})


def _no_crs(layers: dict) -> None:
    layers["clusters"] = layers["clusters"].set_crs(None, allow_override=True)


def _duplicate_parcel(layers: dict) -> None:
    layers["parcels"].loc[layers["parcels"]["parcel_id"] == "P2", "parcel_id"] = "P1"


def _placeholder_day(layers: dict) -> None:
    """A real Date field holding 0001-01-01, which no 64-bit nanosecond clock can hold."""
    days = layers["projects"]["registered_on"]
    assert isinstance(days.iloc[0], dt.date), "the builders write a Date field"
    layers["projects"].loc[days.index[0], "registered_on"] = dt.date(1, 1, 1)


BOW_TIE = Polygon([(0, 0), (400, 500), (400, 0), (0, 500)])

# (name, change, (layer, feature, field), words the message must contain)
CASES = [
    ("missing layer", _drop_layer, ("parcels", None, None), "missing"),
    ("missing field", _rename_kind, ("clusters", None, "kind"), "knd"),
    ("unknown enum", _set("parcels", "P3", "land_use", "Industrial"),
     ("parcels", "P3", "land_use"), "industrial"),
    ("no crs", _no_crs, ("clusters", None, "geometry"), "coordinate reference system"),
    ("invalid geometry", _geometry("clusters", 2, at(BOW_TIE)), ("clusters", "C3", "geometry"),
     "Self-intersection"),
    ("empty geometry", _geometry("approved_extents", 1, Polygon()),
     ("approved_extents", "fid 2 (C1, 2/QĐ-UBND)", "geometry"), "empty"),
    ("duplicate id", _duplicate_parcel, ("parcels", "P1", "parcel_id"), "2 features"),
    ("dangling parcel cluster", _set("parcels", "P5", "cluster_id", "C9"),
     ("parcels", "P5", "cluster_id"), "C9"),
    ("dangling project cluster", _set("projects", "PR4", "cluster_id", "C9"),
     ("projects", "PR4", "cluster_id"), "C9"),
    ("dangling admin code", _set("clusters", "C3", "admin_code", "D9"),
     ("clusters", "C3", "admin_code"), "D9"),
    ("dangling project of parcel", _set("parcels", "P3", "project_id", "PR9"),
     ("parcels", "P3", "project_id"), "PR9"),
    ("overlapping parcels", _geometry("parcels", 2, at(box(150, 0, 300, 200))),
     ("parcels", "P2", "geometry"), "overlaps parcel P3"),
    ("parcel outside its cluster", _geometry("parcels", 5, at(box(200, 200, 600, 400))),
     ("parcels", "P6", "geometry"), "outside its cluster C1"),
    ("bad date", _set("projects", "PR1", "registered_on", "31/12/2016"),
     ("projects", "PR1", "registered_on"), "not a date"),
    ("placeholder day 0001-01-01", _placeholder_day,
     ("projects", "PR1", "registered_on"), "not a date of 1900–2199"),
    ("bad boolean", _set("parcels", "P4", "recovered", 2), ("parcels", "P4", "recovered"),
     "not a boolean"),
    ("negative capital", _set("projects", "PR2", "registered_capital_bn_vnd", -5.0),
     ("projects", "PR2", "registered_capital_bn_vnd"), "negative"),
]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def broken(request, tmp_path):
    name, change, where, words = request.param
    layers = tiny_layers()
    if "recovered" in name or "boolean" in name:
        layers["parcels"]["recovered"] = layers["parcels"]["recovered"].astype(object)
    if "bad date" in name:
        layers["projects"]["registered_on"] = layers["projects"]["registered_on"].astype(str)
    change(layers)
    path = write_layers(tmp_path / "broken.gpkg", layers)
    return path, where, words


def test_problem_names_layer_feature_and_field(broken):
    path, (layer, feature, field), words = broken
    errors = [p for p in validate_store(path) if p.is_error]
    matching = [p for p in errors if (p.layer, p.feature, p.field) == (layer, feature, field)]
    assert matching, f"no error for {(layer, feature, field)} in {[str(p) for p in errors]}"
    assert words in str(matching[0])
    assert matching[0].hint, "every error says what to do"


def test_loading_raises_with_every_problem(broken):
    path, (layer, _, _), _ = broken
    with pytest.raises(ValidationError) as info:
        load_dataset(path)
    assert any(p.layer == layer for p in info.value.problems)


@pytest.mark.slow
def test_cli_reports_and_leaves_file_unchanged(broken):
    path, (layer, feature, field), _ = broken
    before = _sha256(path)
    for command in (["validate"], ["stats", "--json"], ["stats", "--by", "cluster"]):
        run = subprocess.run([*CLI, *command, "--layers", str(path)], capture_output=True,
                             text=True, check=False)
        assert run.returncode == 1, run.stderr
        output = run.stdout + run.stderr
        assert "Traceback" not in output
        assert layer in output and (feature is None or feature in output)
    assert _sha256(path) == before
    assert not Path(f"{path}-wal").exists()


def test_all_problems_are_reported_at_once(tmp_path):
    layers = tiny_layers()
    _set("parcels", "P3", "land_use", "factory")(layers)
    _set("clusters", "C3", "admin_code", "D9")(layers)
    _geometry("clusters", 1, at(BOW_TIE))(layers)
    errors = [p for p in validate_store(write_layers(tmp_path / "x.gpkg", layers)) if p.is_error]
    assert {(p.layer, p.field) for p in errors} >= {
        ("parcels", "land_use"), ("clusters", "admin_code"), ("clusters", "geometry")}


def test_clean_file_validates(tmp_path):
    path = write_layers(tmp_path / "ok.gpkg", tiny_layers())
    run = subprocess.run([*CLI, "validate", "--layers", str(path)], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stdout
    assert [p for p in validate_store(path) if p.is_error] == []


def test_touching_parcels_across_crss_are_not_overlaps(tmp_path):
    """Shared edges moved by reprojection stay within the tolerance."""
    path = write_layers(tmp_path / "mixed.gpkg", tiny_layers(),
                        crs={"parcels": "EPSG:4326", "clusters": "EPSG:32648"})
    assert [p for p in validate_store(path) if p.is_error] == []


@pytest.mark.parametrize(
    "content, words",
    [(b"", "not a readable GeoPackage"), (b"this is not sqlite" * 100, "not a readable"),
     (None, "no such file")],
)
def test_unreadable_file(tmp_path, content, words):
    path = tmp_path / "bad.gpkg"
    if content is not None:
        path.write_bytes(content)
    run = subprocess.run([*CLI, "stats", "--layers", str(path)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 1
    assert words in run.stderr and "Traceback" not in run.stderr


def test_corrupt_geometry_blob_is_named(tmp_path):
    path = write_layers(tmp_path / "blob.gpkg", tiny_layers())
    with sqlite3.connect(path) as con:  # the R-tree triggers need SpatiaLite: drop them first
        triggers = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'clusters'"
        ).fetchall()
        for (trigger,) in triggers:
            con.execute(f'DROP TRIGGER "{trigger}"')
        con.execute("UPDATE clusters SET geom = X'47500003DEADBEEF' WHERE cluster_id = 'C2'")
    before = _sha256(path)
    problems = [p for p in validate_store(path) if p.is_error]
    assert any(p.layer == "clusters" and p.feature in ("C2", "fid 2") for p in problems), problems
    assert _sha256(path) == before


def test_bad_setting_is_reported(tmp_path):
    path = write_layers(tmp_path / "s.gpkg", tiny_layers(), settings={"area_crs": "EPSG:4326"})
    run = subprocess.run([*CLI, "stats", "--layers", str(path)], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 1
    assert "ccn_settings" in run.stderr and "area_crs" in run.stderr


def test_the_report_is_vietnamese_with_an_english_option(tmp_path):
    layers = tiny_layers()
    _set("parcels", "P3", "land_use", "Industrial")(layers)
    path = write_layers(tmp_path / "vi.gpkg", layers)
    vi = subprocess.run([*CLI, "validate", "--layers", str(path)], capture_output=True,
                        text=True, check=False).stdout
    assert "lỗi: parcels, đối tượng P3, trường land_use: giá trị không hợp lệ 'Industrial'" in vi
    assert "Cách sửa: có phải là 'industrial'?" in vi
    en = subprocess.run([*CLI, "validate", "--layers", str(path), "--lang", "en"],
                        capture_output=True, text=True, check=False).stdout
    assert "error: parcels, feature P3, field land_use: unknown value 'Industrial'" in en
    assert "What to do: did you mean 'industrial'?" in en
    problems = [p.to_dict() for p in validate_store(path)]
    assert all(p["message_vi"] and p["hint_vi"] for p in problems)


@pytest.mark.parametrize("source", ["sample", "tiny"])
def test_bulk_read_is_pyogrios_read_dataframe(tmp_path, source):
    """The store decodes geometries straight from Arrow; the frame must be the one
    ``pyogrio.read_dataframe`` gives: values, dtypes, fid index, geometry and CRS."""
    import pyogrio

    from ccn_gis.io.gpkg import _read_arrow_frame

    path = (Path(__file__).resolve().parents[1] / "layers" / "thai_binh.gpkg"
            if source == "sample" else write_layers(tmp_path / "tiny.gpkg", tiny_layers(),
                                                    crs={"parcels": "EPSG:4326"}))
    for name, _ in pyogrio.list_layers(path):
        expected = pyogrio.read_dataframe(path, layer=name, fid_as_index=True, use_arrow=True)
        got = _read_arrow_frame(path, name)
        assert got.equals(expected), name
        assert list(got.dtypes) == list(expected.dtypes), name
        assert got.index.name == expected.index.name == "fid"
        if "geometry" in expected.columns:
            assert got.crs == expected.crs and got.geometry.name == expected.geometry.name
            assert got.geometry.geom_equals_exact(expected.geometry, 0).all()
