"""Each kind of bad input gives a clear problem naming layer, feature and field,
the command line exits non-zero without a traceback, and the file stays byte-identical.

The checks are domain code: each bad input is checked on layers built in memory. A
GeoPackage hands over what was written (the clean province exactly, every bad input with
the same problems: slow); the command line runs in-process, and as a user runs it in a
process of its own (slow).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import shapely
from shapely import Polygon, box

from builders import AREA_CRS, at, raw_layers, tiny_dataset, tiny_layers, write_layers
from ccn_gis import ValidationError, cli, load_dataset, validate_store
from ccn_gis.model import LAYERS
from ccn_gis.validation import check_layers

CLI = [sys.executable, "-m", "ccn_gis.cli"]


@pytest.fixture(params=["in-process", pytest.param("process", marks=pytest.mark.slow)])
def ccn(request) -> Callable[..., subprocess.CompletedProcess]:
    """``ccn-gis ARGS``: ``cli.main`` in this process, or a process of its own."""
    if request.param == "process":
        return lambda *args: subprocess.run([*CLI, *args], capture_output=True, text=True,
                                            check=False)

    def in_process(*args: str) -> subprocess.CompletedProcess:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(list(args))
        return subprocess.CompletedProcess(["ccn-gis", *args], status, out.getvalue(),
                                           err.getvalue())

    return in_process


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
    """A date of 0001-01-01, which no 64-bit nanosecond clock can hold."""
    days = layers["projects"]["registered_on"]
    assert isinstance(days.iloc[0], dt.date), "the builders give dates, not text"
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
def broken(request) -> tuple[dict, tuple, str]:
    """The tiny province's layers with one kind of bad input, where it is, what it says."""
    name, change, where, words = request.param
    layers = tiny_layers()
    if "recovered" in name or "boolean" in name:
        layers["parcels"]["recovered"] = layers["parcels"]["recovered"].astype(object)
    if "bad date" in name:
        layers["projects"]["registered_on"] = layers["projects"]["registered_on"].astype(str)
    change(layers)
    return layers, where, words


@pytest.fixture
def broken_file(broken, tmp_path) -> tuple[Path, tuple, str]:
    """The same layers stored in a GeoPackage."""
    layers, where, words = broken
    return write_layers(tmp_path / "broken.gpkg", layers), where, words


def _named(problems, where: tuple, words: str) -> None:
    errors = [p for p in problems if p.is_error]
    matching = [p for p in errors if (p.layer, p.feature, p.field) == where]
    assert matching, f"no error for {where} in {[str(p) for p in errors]}"
    assert words in str(matching[0])
    assert matching[0].hint, "every error says what to do"


def test_problem_names_layer_feature_and_field(broken):
    layers, where, words = broken
    _named(check_layers(raw_layers(layers), AREA_CRS)[1], where, words)


def test_loading_raises_with_every_problem(broken):
    layers, (layer, _, _), _ = broken
    with pytest.raises(ValidationError) as info:
        tiny_dataset(layers)
    assert any(p.layer == layer for p in info.value.problems)


@pytest.mark.slow
def test_a_file_names_the_problem_and_refuses_to_load(broken_file):
    """The same through a GeoPackage: what it hands over holds the same problem."""
    path, where, words = broken_file
    _named(validate_store(path), where, words)
    with pytest.raises(ValidationError) as info:
        load_dataset(path)
    assert any(p.layer == where[0] for p in info.value.problems)


@pytest.mark.slow
def test_cli_reports_and_leaves_file_unchanged(broken_file):
    path, (layer, feature, field), _ = broken_file
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


@pytest.mark.parametrize("stored", ["in memory", "gpkg"])
def test_all_problems_are_reported_at_once(tmp_path, stored):
    layers = tiny_layers()
    _set("parcels", "P3", "land_use", "factory")(layers)
    _set("clusters", "C3", "admin_code", "D9")(layers)
    _geometry("clusters", 1, at(BOW_TIE))(layers)
    problems = (check_layers(raw_layers(layers), AREA_CRS)[1] if stored == "in memory"
                else validate_store(write_layers(tmp_path / "x.gpkg", layers)))
    errors = [p for p in problems if p.is_error]
    assert {(p.layer, p.field) for p in errors} >= {
        ("parcels", "land_use"), ("clusters", "admin_code"), ("clusters", "geometry")}


def test_clean_file_validates(tmp_path, ccn):
    path = write_layers(tmp_path / "ok.gpkg", tiny_layers())
    run = ccn("validate", "--layers", str(path))
    assert run.returncode == 0, run.stdout
    assert [p for p in validate_store(path) if p.is_error] == []


def test_touching_parcels_across_crss_are_not_overlaps():
    """Shared edges moved by reprojection stay within the tolerance."""
    raw = raw_layers(crs={"parcels": "EPSG:4326", "clusters": "EPSG:32648"})
    assert [p for p in check_layers(raw, AREA_CRS)[1] if p.is_error] == []


@pytest.mark.parametrize("crs", [None, {"parcels": "EPSG:4326", "clusters": "EPSG:32648"},
                                 {"admin_units": "EPSG:4326", "parcels": "EPSG:4326",
                                  "approved_extents": "EPSG:32648"}],
                         ids=["area-crs", "parcels-and-clusters", "three-crss"])
def test_a_stored_province_is_the_one_built_in_memory(tmp_path, crs):
    """A GeoPackage hands back what was written: the dataset read from the file is the one
    the domain tests build in memory, values, types, feature ids and geometries."""
    settings = {"province_name": "Tỉnh Thử", "area_crs": AREA_CRS}
    stored = load_dataset(write_layers(tmp_path / "tiny.gpkg", tiny_layers(), crs=crs,
                                       settings=settings))
    built = tiny_dataset(crs=crs, settings=settings)
    assert (stored.settings, stored.warnings) == (built.settings, built.warnings)
    for name in LAYERS:
        ours, theirs = getattr(stored, name), getattr(built, name)
        pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry", errors="ignore")),
                                      pd.DataFrame(theirs.drop(columns="geometry",
                                                               errors="ignore")))
        if "geometry" in ours:
            assert ours.crs == theirs.crs, name
            assert list(ours.geom_type) == list(theirs.geom_type), name
            assert shapely.equals_exact(ours.geometry.array, theirs.geometry.array, 0).all()


@pytest.mark.parametrize(
    "content, words",
    [(b"", "not a readable GeoPackage"), (b"this is not sqlite" * 100, "not a readable"),
     (None, "no such file")],
)
def test_unreadable_file(tmp_path, ccn, content, words):
    path = tmp_path / "bad.gpkg"
    if content is not None:
        path.write_bytes(content)
    run = ccn("stats", "--layers", str(path))
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


def test_bad_setting_is_reported(tmp_path, ccn):
    path = write_layers(tmp_path / "s.gpkg", tiny_layers(), settings={"area_crs": "EPSG:4326"})
    run = ccn("stats", "--layers", str(path))
    assert run.returncode == 1
    assert "ccn_settings" in run.stderr and "area_crs" in run.stderr


def test_the_report_is_vietnamese_with_an_english_option(tmp_path, ccn):
    layers = tiny_layers()
    _set("parcels", "P3", "land_use", "Industrial")(layers)
    path = write_layers(tmp_path / "vi.gpkg", layers)
    vi = ccn("validate", "--layers", str(path)).stdout
    assert "lỗi: parcels, đối tượng P3, trường land_use: giá trị không hợp lệ 'Industrial'" in vi
    assert "Cách sửa: có phải là 'industrial'?" in vi
    en = ccn("validate", "--layers", str(path), "--lang", "en").stdout
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
