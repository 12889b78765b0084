"""A user's mistake is never a traceback: the CLI's last resort, settings checked when
written, and usage mistakes of serve, landuse and the file arguments.

Most cases run the CLI in-process (``ccn_gis.cli.main``) on real files in ``tmp_path``;
a few run it as a user does, in a process of its own (marked slow).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from builders import tiny_layers, write_layers
from ccn_gis import cli
from ccn_gis.errors import SettingsError, ValidationError
from ccn_gis.io import load_dataset, validate_store
from ccn_gis.settings import ProvinceSettings, rule_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"


# ----------------------------------------------------------------------------- helpers
def run(*args: str) -> tuple[int, str, str]:
    """``ccn-gis ARGS`` in-process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue(), err.getvalue()


def ccn(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``ccn-gis ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "ccn_gis.cli", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, **(env or {})}, **kwargs)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rows(path: Path) -> dict[str, str]:
    with contextlib.closing(sqlite3.connect(path)) as con:
        return dict(con.execute("SELECT key, value FROM ccn_settings ORDER BY fid").fetchall())


def no_traceback(err: str) -> None:
    assert "Traceback" not in err and 'File "' not in err, err


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    return write_layers(tmp_path_factory.mktemp("hardening") / "tiny.gpkg", tiny_layers(),
                        settings={"province_name": "Tỉnh Thử", "area_crs": "EPSG:9209"})


@pytest.fixture
def tiny(tiny_file, tmp_path) -> Path:
    """A fresh copy of the tiny province, to be changed."""
    return Path(shutil.copy(tiny_file, tmp_path / "tiny.gpkg"))


@pytest.fixture
def crash_home(tmp_path, monkeypatch) -> Path:
    """Where crash reports go in these tests: ``$XDG_STATE_HOME/ccn-gis``."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("CCN_GIS_DEBUG", raising=False)
    return tmp_path / "state" / "ccn-gis"


def boom(*_: object) -> int:
    raise RuntimeError("kaboom\nsecond line")


# ------------------------------------------------------------------ 1. the last resort
def test_a_bug_is_one_paragraph_and_a_report(tiny, crash_home, monkeypatch):
    monkeypatch.setattr(cli, "_stats", boom)
    status, out, err = run("stats", "--layers", str(tiny))
    assert status == cli.EX_SOFTWARE == 70 and out == ""
    no_traceback(err)
    assert err.strip().count("\n") == 0, "one paragraph"
    assert err.index("lỗi:") < err.index("/ error:"), "Vietnamese first, English after"
    assert "RuntimeError: kaboom second line" in err
    reports = list(crash_home.glob("crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err
    assert re.fullmatch(rf"crash-\d{{8}}-\d{{6}}-{os.getpid()}\.txt", reports[0].name)
    text = reports[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: kaboom" in text
    assert f"command: ccn-gis stats --layers {tiny}" in text


def test_two_bugs_in_one_second_make_two_reports(tiny, crash_home, monkeypatch):
    monkeypatch.setattr(cli, "_stats", boom)
    monkeypatch.setattr(cli.dt, "datetime", type("Frozen", (dt.datetime,), {
        "now": classmethod(lambda cls, tz=None: dt.datetime(2026, 1, 2, 3, 4, 5))}))
    for _ in range(3):
        assert run("stats", "--layers", str(tiny))[0] == 70
    names = sorted(p.name for p in crash_home.iterdir())
    stem = f"crash-20260102-030405-{os.getpid()}"
    assert names == [f"{stem}-2.txt", f"{stem}-3.txt", f"{stem}.txt"]


def test_the_report_falls_back_to_the_temporary_folder(tiny, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))  # .../a-file/ccn-gis cannot be made
    monkeypatch.setenv("HOME", str(blocker))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(cli, "_stats", boom)
    status, _, err = run("stats", "--layers", str(tiny))
    assert status == 70
    reports = list((tmp_path / "tmp").glob("ccn-gis-crash-*.txt"))
    assert len(reports) == 1 and str(reports[0]) in err
    assert "RuntimeError: kaboom" in reports[0].read_text(encoding="utf-8")


def test_without_anywhere_to_write_it_says_how_to_see_the_details(tiny, tmp_path,
                                                                 monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    monkeypatch.setenv("HOME", str(blocker))
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    monkeypatch.setattr(cli, "_stats", boom)
    status, _, err = run("stats", "--layers", str(tiny))
    assert status == 70 and "CCN_GIS_DEBUG=1" in err
    no_traceback(err)


def test_debug_lets_the_exception_through(tiny, monkeypatch):
    monkeypatch.setenv("CCN_GIS_DEBUG", "1")
    monkeypatch.setattr(cli, "_stats", boom)
    with pytest.raises(RuntimeError, match="kaboom"):
        run("stats", "--layers", str(tiny))


def test_ctrl_c_exits_130_quietly(tiny, crash_home, monkeypatch):
    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_stats", interrupted)
    assert run("stats", "--layers", str(tiny)) == (130, "", "")
    assert not crash_home.exists()


@pytest.mark.parametrize("error, words", [
    (MemoryError(), "not enough memory"),
    (OSError(28, "No space left on device", "/data/out.json"), "the disk is full"),
])
def test_the_computer_running_short_is_no_bug(tiny, crash_home, monkeypatch, error, words):
    def short(*_: object) -> int:
        raise error

    monkeypatch.setattr(cli, "_stats", short)
    status, _, err = run("stats", "--layers", str(tiny))
    assert status == 1 and words in err and "lỗi:" in err
    no_traceback(err)
    assert not crash_home.exists()


def test_another_os_error_is_a_bug(tiny, crash_home, monkeypatch):
    def denied(*_: object) -> int:
        raise PermissionError(13, "Permission denied", "/somewhere")

    monkeypatch.setattr(cli, "_stats", denied)
    status, _, err = run("stats", "--layers", str(tiny))
    assert status == 70 and "PermissionError" in err
    assert len(list(crash_home.glob("crash-*.txt"))) == 1


def test_help_and_usage_mistakes_return_their_status_in_process():
    status, out, _ = run("--help")
    assert status == 0 and "usage" in out
    status, _, err = run("frobnicate")
    assert status == 2 and "usage" in err


@pytest.mark.slow
def test_a_bug_in_a_real_process(tiny, tmp_path):
    """``python -m ccn_gis.cli`` with a bug planted through ``sitecustomize``."""
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(  # before ccn_gis.cli imports validate_store
        "import ccn_gis.io\n"
        "def _bug(*a):\n    raise ZeroDivisionError('planted')\n"
        "ccn_gis.io.validate_store = _bug\n", encoding="utf-8")
    done = ccn("validate", "--layers", str(tiny),
               env={"PYTHONPATH": f"{plant}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                    "XDG_STATE_HOME": str(tmp_path / "state")})
    assert done.returncode == 70, done.stderr
    no_traceback(done.stderr)
    assert "ZeroDivisionError: planted" in done.stderr
    (report,) = (tmp_path / "state" / "ccn-gis").glob("crash-*.txt")
    assert "ZeroDivisionError: planted" in report.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("args", [["settings"], ["stats", "--json", "--by", "cluster"]])
def test_a_closed_pipe_exits_quietly(args):
    """``ccn-gis … | head -0``: the reader is gone before the first line."""
    process = subprocess.Popen([sys.executable, "-m", "ccn_gis.cli", *args, "--layers",
                                str(SAMPLE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert err == ""


# ----------------------------------------------------------- 2. settings when written
@pytest.mark.parametrize("key, value", [
    ("plan_total_ha", "nan"), ("plan_total_ha", "inf"), ("plan_total_ha", "-5"),
    ("plan_total_ha", "0"), ("plan_total_ha", "1e400"), ("plan_total_ha", "lots"),
    ("gate_occupancy", "1.5"), ("gate_occupancy", "-0.1"), ("gate_occupancy", "abc"),
    ("gate_occupancy", "nan"), ("expansion_occupancy", "60"), ("services_share_max", "2"),
    ("industrial_share", "0"), ("industrial_share", "1.01"),
    ("lease_lag_years", str(10**30)), ("lease_lag_years", "-1"), ("lease_lag_years", "2.5"),
    ("lease_lag_years", "9" * 5000), ("area_max_ha", "1e400"), ("area_max_ha", "-1"),
    ("area_min_ha", "100"),  # above area_max_ha (75 by default)
    ("gate_unleased_ha", "inf"), ("gate_mean", "median"), ("protected_classes", "LUC;RPH"),
    ("area_crs", "EPSG:4326"), ("area_crs", "no such crs"), ("lang", "fr"),
    ("province_name", "Thái\nBình"), ("province_name", "x" * 5000),
])
def test_a_bad_value_is_refused_and_the_file_unchanged(tiny, key, value):
    before = sha256(tiny)
    status, out, err = run("settings", "--layers", str(tiny), "--set", f"{key}={value}")
    assert status == 1 and out == ""
    no_traceback(err)
    assert f"key {key!r}" in err and "Nothing was written" in err
    assert len(err) < 2000, "the value is not echoed in full"
    assert sha256(tiny) == before


def test_a_value_out_of_range_says_what_is_allowed(tiny):
    _, _, err = run("settings", "--layers", str(tiny), "--set", "gate_occupancy=1.5")
    assert "a share from 0 to 1" in err
    _, _, err = run("settings", "--layers", str(tiny), "--set", "lease_lag_years=1000")
    assert "a whole number of years from 0 to 50" in err


def test_good_values_are_written_and_read_back_typed(tiny):
    status, out, err = run("settings", "--layers", str(tiny), "--set", "gate_occupancy=0.7",
                           "--set", "lease_lag_years=3", "--set", "area_max_ha=100",
                           "--set", "area_min_ha=80", "--set", "protected_classes=LUC, RPH")
    assert status == 0, err
    assert '"gate_occupancy": "0.7"' in out
    rules = rule_settings(load_dataset(tiny).settings)
    assert (rules.gate_occupancy, rules.lease_lag_years) == (0.7, 3)
    assert (rules.area_min_ha, rules.area_max_ha) == (80.0, 100.0)
    assert rules.protected_classes == ("LUC", "RPH")
    assert rows(tiny)["province_name"] == "Tỉnh Thử"  # the other rows are kept
    status, _, err = run("settings", "--layers", str(tiny), "--set", "area_min_ha=")
    assert status == 0, err
    assert "area_min_ha" not in rows(tiny)  # KEY= takes the default
    assert rule_settings(load_dataset(tiny).settings).area_min_ha == 10.0


def test_defaults_are_not_frozen_into_the_file(tiny):
    assert run("settings", "--layers", str(tiny), "--set", "province_code=99")[0] == 0
    assert rows(tiny) == {"province_name": "Tỉnh Thử", "area_crs": "EPSG:9209",
                          "province_code": "99"}


def test_an_unknown_key_is_refused_naming_the_nearest(tiny):
    before = sha256(tiny)
    status, _, err = run("settings", "--layers", str(tiny), "--set", "gate_ocupancy=0.7")
    assert status == 1
    assert "unknown setting" in err and "did you mean 'gate_occupancy'?" in err
    assert sha256(tiny) == before


def test_a_key_value_without_equals_is_a_usage_mistake(tiny):
    status, _, err = run("settings", "--layers", str(tiny), "--set", "gate_occupancy")
    assert status == 2 and "KEY=VALUE" in err


def poke(path: Path, key: str, value: str) -> None:
    """Write a row straight into ccn_settings, as another program (or an old ccn-gis) may."""
    with contextlib.closing(sqlite3.connect(path)) as con, con:
        con.execute("DELETE FROM ccn_settings WHERE key = ?", (key,))
        con.execute("INSERT INTO ccn_settings (key, value) VALUES (?, ?)", (key, value))


@pytest.mark.parametrize("key, value", [
    ("gate_occupancy", "1.5"), ("lease_lag_years", str(10**30)), ("area_min_ha", "100"),
    ("gate_mean", "median"), ("plan_total_ha", "nan"), ("industrial_share", "0"),
    ("protected_classes", "LUC;RPH"),
])
def test_validate_load_and_serve_agree_on_a_bad_setting(tiny, key, value):
    poke(tiny, key, value)
    problems = [p for p in validate_store(tiny) if p.is_error]
    assert [(p.layer, p.feature) for p in problems] == [("ccn_settings", key)]
    with pytest.raises(ValidationError) as raised:
        load_dataset(tiny)
    assert [p.feature for p in raised.value.problems if p.is_error] == [key]
    with pytest.raises(SettingsError, match=key):  # what the web server and scenarios use
        rule_settings(ProvinceSettings.from_table(rows(tiny)))
    status, out, _ = run("validate", "--layers", str(tiny))
    assert status == 1 and f"ccn_settings, đối tượng {key}" in out
    status, _, err = run("stats", "--layers", str(tiny))
    assert status == 1 and key in err


def test_validate_and_load_accept_good_rule_settings(tiny):
    poke(tiny, "gate_occupancy", "0.75")
    poke(tiny, "lease_lag_years", "4")
    assert [p for p in validate_store(tiny) if p.is_error] == []
    assert rule_settings(load_dataset(tiny).settings).lease_lag_years == 4


def test_an_unknown_key_in_the_file_is_a_warning(tiny):
    poke(tiny, "colour", "red")
    problems = validate_store(tiny)
    (warning,) = [p for p in problems if p.feature == "colour"]
    assert not warning.is_error and "ccn-gis does not use" in warning.message
    assert [p for p in problems if p.is_error] == []
    assert any(w.feature == "colour" for w in load_dataset(tiny).warnings)


def test_a_bad_row_already_there_is_named_and_can_be_fixed(tiny):
    poke(tiny, "gate_occupancy", "5")
    before = sha256(tiny)
    status, _, err = run("settings", "--layers", str(tiny), "--set", "province_code=99")
    assert status == 1 and "key 'gate_occupancy'" in err and sha256(tiny) == before
    status, _, err = run("settings", "--layers", str(tiny), "--set", "gate_occupancy=0.6")
    assert status == 0, err
    assert run("validate", "--layers", str(tiny))[0] == 0


def test_the_table_is_made_when_absent(tmp_path):
    path = write_layers(tmp_path / "bare.gpkg", tiny_layers())
    assert "ccn_settings" not in {str(n) for n, _ in pyogrio.list_layers(path)}
    status, _, err = run("settings", "--layers", str(path), "--set", "province_name=Nam Định")
    assert status == 0, err
    layers = {str(n): t for n, t in pyogrio.list_layers(path)}
    assert "ccn_settings" in layers and layers["ccn_settings"] is None  # a table
    frame = pyogrio.read_dataframe(path, layer="ccn_settings", read_geometry=False)
    assert frame[["key", "value"]].values.tolist() == [["province_name", "Nam Định"]]
    info = pyogrio.read_info(path, layer="ccn_settings")
    assert info["features"] == 1
    assert load_dataset(path).settings.province_name == "Nam Định"
    assert run("validate", "--layers", str(path))[0] == 0


def test_gdals_feature_count_follows_the_rows(tiny):
    run("settings", "--layers", str(tiny), "--set", "province_code=1", "--set", "lang=en")
    assert pyogrio.read_info(tiny, layer="ccn_settings")["features"] == 4


@pytest.mark.parametrize("kind", ["missing", "folder", "text", "sqlite", "empty"])
def test_settings_are_only_written_into_a_geopackage(tmp_path, kind):
    path = tmp_path / "x.gpkg"
    if kind == "folder":
        path.mkdir()
    elif kind == "text":
        path.write_text("hello\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "sqlite":
        with contextlib.closing(sqlite3.connect(path)) as con:
            con.execute("CREATE TABLE t (a)")
    before = sha256(path) if path.is_file() else None
    status, _, err = run("settings", "--layers", str(path), "--set", "province_code=1")
    assert status == 1
    no_traceback(err)
    assert str(path) in err
    assert (sha256(path) if path.is_file() else None) == before
    assert kind in ("missing", "folder") or "not a GeoPackage" in err


def test_a_damaged_file_is_not_written_to(tmp_path):
    path = tmp_path / "damaged.gpkg"
    content = bytearray(SAMPLE.read_bytes())
    content[409_608:409_672] = b"\xff" * 64  # a cell offset of page 101 out of range
    path.write_bytes(bytes(content))
    status, _, err = run("settings", "--layers", str(path), "--set", "province_code=1")
    assert status == 1 and "the file is damaged" in err and "nothing was changed" in err
    assert path.read_bytes() == bytes(content)


@pytest.fixture
def locked(tiny):
    """``tiny`` with another program in the middle of writing it (a held write lock)."""
    con = sqlite3.connect(tiny, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN EXCLUSIVE")
    yield con
    if con.in_transaction:
        con.execute("ROLLBACK")
    con.close()


def test_a_locked_file_is_refused_after_the_timeout(tiny, locked, monkeypatch):
    before = sha256(tiny)
    monkeypatch.setenv("CCN_GIS_BUSY_TIMEOUT", "0.3")
    started = time.monotonic()
    status, _, err = run("settings", "--layers", str(tiny), "--set", "province_code=1")
    waited = time.monotonic() - started
    assert status == 1
    no_traceback(err)
    assert "being written by another program" in err and "try again" in err.lower()
    assert waited >= 0.3, "a busy timeout is set before failing"
    locked.execute("ROLLBACK")
    assert sha256(tiny) == before


def test_a_locked_wal_file_is_refused_too(tiny, monkeypatch):
    with contextlib.closing(sqlite3.connect(tiny)) as con:
        con.execute("PRAGMA journal_mode=WAL")
    other = sqlite3.connect(tiny, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE ccn_settings SET value = value")
    monkeypatch.setenv("CCN_GIS_BUSY_TIMEOUT", "0.2")
    try:
        status, _, err = run("settings", "--layers", str(tiny), "--set", "province_code=1")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 1 and "being written by another program" in err
    assert "province_code" not in rows(tiny)


@pytest.mark.slow
def test_a_write_waits_for_the_other_program_to_finish(tiny, locked, monkeypatch):
    """The default busy timeout (5 s) outlasts a writer that finishes after 1 s."""
    monkeypatch.delenv("CCN_GIS_BUSY_TIMEOUT", raising=False)
    threading.Timer(1.0, locked.execute, ("ROLLBACK",)).start()
    status, _, err = run("settings", "--layers", str(tiny), "--set", "province_code=1")
    assert status == 0, err
    assert rows(tiny)["province_code"] == "1"


@pytest.fixture
def read_only(tiny):
    """``tiny`` made read-only: chmod 0444, or, for root (whom chmod does not stop), the
    immutable attribute (``chattr +i``)."""
    if os.geteuid() != 0:
        tiny.chmod(0o444)
        yield tiny
        tiny.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root, where chmod 0444 does not stop writes, and chattr is "
                    "not installed to make the file immutable")
    made = subprocess.run([chattr, "+i", str(tiny)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root, where chmod 0444 does not stop writes, and this file "
                    f"system refuses chattr +i ({made.stderr.strip()})")
    yield tiny
    subprocess.run([chattr, "-i", str(tiny)], check=True)


def test_a_read_only_file_is_refused(read_only):
    before = sha256(read_only)
    status, _, err = run("settings", "--layers", str(read_only), "--set", "province_code=1")
    assert status == 1
    no_traceback(err)
    assert "read-only" in err and "nothing was changed" in err
    assert sha256(read_only) == before


@pytest.mark.slow
def test_a_write_killed_midway_is_rolled_back(tiny):
    """Killed between deleting the old rows and inserting the new: SQLite's journal puts
    the old table back. Fails if the rows were deleted in a transaction of their own."""
    before = rows(tiny)
    script = f"""
import os, signal, sqlite3
real = sqlite3.connect
class Dying:
    def __init__(self, con): self._con = con
    def __getattr__(self, name): return getattr(self._con, name)
    def execute(self, sql, *args):
        result = self._con.execute(sql, *args)
        if sql.startswith("DELETE FROM") and "ccn_settings" in sql:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
sqlite3.connect = lambda *a, **k: Dying(real(*a, **k))
from ccn_gis.io import write_settings
write_settings({str(tiny)!r}, {{"province_code": "1"}}, update=True)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert rows(tiny) == before
    assert run("validate", "--layers", str(tiny))[0] == 0


@pytest.mark.slow
def test_a_refused_setting_as_a_user_sees_it(tiny):
    before = sha256(tiny)
    done = ccn("settings", "--layers", str(tiny), "--set", "plan_total_ha=nan")
    assert done.returncode == 1 and "plan_total_ha" in done.stderr
    no_traceback(done.stderr)
    assert sha256(tiny) == before
    bad_env = ccn("settings", "--layers", str(tiny), env={"CCN_GIS_BUSY_TIMEOUT": "soon"})
    assert bad_env.returncode == 2 and "CCN_GIS_BUSY_TIMEOUT" in bad_env.stderr


# --------------------------------------------------------------- 3. usage mistakes
@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http", "80.5"])
def test_a_port_out_of_range_is_a_usage_mistake(port):
    status, _, err = run("serve", "--port", port)
    assert status == 2 and "1 to 65535" in err and "usage" in err


def test_a_host_that_cannot_be_resolved(tiny):
    status, _, err = run("serve", "--layers", str(tiny), "--host", "no-such-host.invalid",
                         "--port", "8765")
    assert status == 1 and "--host no-such-host.invalid" in err
    no_traceback(err)


def test_an_address_not_of_this_computer(tiny):
    status, _, err = run("serve", "--layers", str(tiny), "--host", "192.0.2.1",  # TEST-NET-1
                         "--port", "8765")
    assert status == 1 and "not an address of this computer" in err


def test_a_port_in_use(tiny):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, _, err = run("serve", "--layers", str(tiny), "--port", str(port))
    assert status == 1 and f"port {port} is already in use" in err
    no_traceback(err)


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_a_date_beyond_any_record_is_a_usage_mistake(tiny, date):
    status, _, err = run("stats", "--layers", str(tiny), "--as-of", date)
    assert status == 2 and "1900-01-01 to 2199-12-31" in err


def zone_files(folder: Path) -> dict[str, tuple[Path | str, str]]:
    """Zones a user may give by mistake, and the words the message must hold."""
    lonlat = "EPSG:4326"
    square = shapely.box(106.30, 20.40, 106.31, 20.41)
    made: dict[str, tuple[Path | str, str]] = {}

    def frame(geoms, crs=lonlat, **columns):
        return gpd.GeoDataFrame({"zone_id": [str(i) for i in range(len(geoms))], **columns},
                                geometry=list(geoms), crs=crs)

    def save(name, data, **kwargs):
        path = folder / name
        data.to_file(path, engine="pyogrio", **kwargs)
        return path

    made["points"] = (save("points.geojson", frame([square.centroid])), "holds points")
    made["lines"] = (save("lines.geojson", frame([square.exterior])), "holds lines")
    made["empty layer"] = (save("none.gpkg", frame([]), layer="zones"), "no features")
    with warnings.catch_warnings():  # 'crs' was not provided: that is the point
        warnings.simplefilter("ignore")
        made["no crs"] = (save("nocrs.shp", frame([square], crs=None)),
                          "no coordinate reference system")
    bowtie = shapely.Polygon([(106.30, 20.40), (106.31, 20.41), (106.31, 20.40),
                              (106.30, 20.41)])
    made["invalid"] = (save("bowtie.geojson", frame([bowtie])), "not a valid polygon")
    made["mixed"] = (save("mixed.geojson", frame([square, square.centroid])),
                     "Point, not a polygon")
    made["no geometry"] = (save("nogeom.geojson", frame([square, None])), "no geometry")
    csv = folder / "zones.csv"
    csv.write_text("zone_id,area\na,1\n", encoding="utf-8")
    made["csv"] = (csv, "no geometry")
    table = folder / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"zone_id": ["a"]}), table, layer="zones_table")
    made["gpkg table"] = (table, "no geometry")
    two = save("two.gpkg", frame([square]), layer="a")
    frame([square]).to_file(two, layer="b", engine="pyogrio")
    made["two polygon layers"] = (two, "2 layers")
    (folder / "empty.gpkg").write_bytes(b"")
    made["zero bytes"] = (folder / "empty.gpkg", "(0 bytes)")
    (folder / "noise.gpkg").write_bytes(bytes(range(256)) * 8)
    made["broken"] = (folder / "noise.gpkg", "not a readable vector file")
    truncated = folder / "truncated.gpkg"
    truncated.write_bytes(SAMPLE.read_bytes()[:4096])
    made["truncated"] = (truncated, "truncated.gpkg")
    made["missing"] = (folder / "nowhere.gpkg", "no layer or file")
    made["folder"] = (folder, "folder")
    made["projects"] = ("projects", "'projects' holds no geometry")
    made["promotion"] = ("promotion_activities", "holds points")
    made["settings table"] = ("ccn_settings", "holds no geometry")
    return made


ZONE_CASES = ["points", "lines", "empty layer", "no crs", "invalid", "mixed", "no geometry",
              "csv", "gpkg table", "two polygon layers", "zero bytes", "broken", "truncated",
              "missing", "folder", "projects", "promotion", "settings table"]


@pytest.fixture(scope="module")
def zones(tmp_path_factory):
    return zone_files(tmp_path_factory.mktemp("zones"))


@pytest.mark.parametrize("case", ZONE_CASES)
def test_zones_that_cannot_be_zones(tiny_file, zones, case):
    where, words = zones[case]
    status, out, err = run("landuse", "--layers", str(tiny_file), "--zones", str(where))
    assert status == 1 and out == ""
    no_traceback(err)
    assert words in err, err
    assert str(where) in err or Path(str(where)).name in err
    assert "Warning" not in err


def test_a_zones_file_of_polygons_is_read(tiny_file, tmp_path):
    from ccn_gis.io.landuse import read_zones

    square = shapely.box(106.30, 20.40, 106.31, 20.41)
    path = tmp_path / "zones.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1]}), path, layer="notes")  # a table first
    gpd.GeoDataFrame({"zone_id": ["z"]}, geometry=[square], crs="EPSG:4326").to_file(
        path, layer="zones", engine="pyogrio")
    ids, geoms = read_zones(load_dataset(tiny_file), path)
    expected = gpd.GeoSeries([square], crs="EPSG:4326").to_crs("EPSG:9209").area.iloc[0]
    assert ids == ["z"] and geoms[0].area == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kind", ["folder", "zero bytes", "text", "shapefile", "csv"])
def test_layers_that_are_not_a_geopackage(tmp_path, kind):
    path = tmp_path / "layers.gpkg"
    if kind == "folder":
        path.mkdir()
    elif kind == "zero bytes":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("id,name\n1,a\n")
    elif kind == "shapefile":
        path = tmp_path / "clusters.shp"
        with warnings.catch_warnings():  # long field names are cut: no matter here
            warnings.simplefilter("ignore")
            tiny_layers()["clusters"].to_file(path, engine="pyogrio")
    else:
        path = tmp_path / "layers.csv"
        path.write_text("id,name\n1,a\n")
    for command in (["stats"], ["validate"], ["settings"], ["scenario", "check"]):
        status, _, err = run(*command, "--layers", str(path))
        assert status in (1, 2), (command, err)
        no_traceback(err)


def test_a_path_with_vietnamese_characters(tiny_file, tmp_path):
    folder = tmp_path / "Thái Bình – dữ liệu #1?"
    folder.mkdir()
    path = Path(shutil.copy(tiny_file, folder / "cụm công nghiệp.gpkg"))
    assert run("stats", "--layers", str(path))[0] == 0
    status, _, err = run("settings", "--layers", str(path), "--set", "province_code=34")
    assert status == 0, err
    assert rows(path)["province_code"] == "34"
    assert run("validate", "--layers", str(path))[0] == 0


@pytest.mark.slow
def test_usage_mistakes_as_a_user_sees_them(tiny, tmp_path):
    for args, status in ((["serve", "--port", "99999"], 2),
                         (["stats", "--layers", str(tiny), "--as-of", "9999-12-31"], 2),
                         (["landuse", "--layers", str(tiny), "--zones", "projects"], 1),
                         (["stats", "--layers", str(tmp_path)], 1)):
        done = ccn(*args)
        assert done.returncode == status, (args, done.stderr)
        no_traceback(done.stderr)


@pytest.mark.slow
def test_serve_on_a_port_in_use_as_a_user_sees_it(tiny):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = ccn("serve", "--layers", str(tiny), "--port", str(port), timeout=120)
    assert done.returncode == 1 and "already in use" in done.stderr
    no_traceback(done.stderr)
