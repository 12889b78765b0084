"""Integrity on read: a GeoPackage is read whole or not at all, and never changed by reading.

Every file here is a real one made from the sample: a page overwritten with garbage, a
WAL-mode copy with QGIS's connection still open (a second connection kept open by the
test), a write lock held, a hot journal left by a writer killed mid-transaction, curved
geometries. The commands run as a user runs them, in a process of their own.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyogrio
import pytest
import shapely

import sample_figures as published
from ccn_gis.errors import DataSourceError
from ccn_gis.io import sqlite_file
from ccn_gis.io.curves import arc_positions, curve_positions, has_arcs
from ccn_gis.io.gpkg import GeoPackageStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
CLI = [sys.executable, "-m", "ccn_gis.cli"]
SIDE_FILES = ("", "-wal", "-shm", "-journal")


def ccn(*args: str, env: dict[str, str] | None = None, timeout: float = 60
        ) -> subprocess.CompletedProcess:
    """Run ``ccn-gis ARGS``; a command that does not end (a server) fails the test."""
    try:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False,
                              timeout=timeout, env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"ccn-gis {' '.join(args)} did not stop within {timeout} s: it accepted "
                    f"the file ({err.stdout!r})")


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _command(name: str, path: Path) -> list[str]:
    extra = {"validate": [], "stats": ["--json"], "serve": ["--port", _free_port()]}[name]
    return [name, "--layers", str(path), *extra]


def _stats(path: Path, env: dict[str, str] | None = None) -> dict:
    run = ccn("stats", "--json", "--layers", str(path), env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _refused(run: subprocess.CompletedProcess, *words: str) -> None:
    assert run.returncode == 1, (run.returncode, run.stdout[-500:], run.stderr[-2000:])
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    for word in words:
        assert word in run.stderr, (word, run.stderr)


def _fingerprint(path: Path) -> dict[str, tuple[str, int] | None]:
    """sha256 and mtime of the file and every SQLite file beside it."""
    found: dict[str, tuple[str, int] | None] = {}
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        found[suffix] = (hashlib.sha256(side.read_bytes()).hexdigest(),
                         side.stat().st_mtime_ns) if side.exists() else None
    return found


def _writer(path: Path) -> sqlite3.Connection:
    """A connection that writes, as QGIS's does; the R-tree triggers name SpatiaLite
    functions, which only run when a geometry changes: stand-ins are enough."""
    con = sqlite3.connect(path, isolation_level=None)
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(name, 1, lambda blob: 0)
    return con


HOLDER = textwrap.dedent("""
    import os, signal, sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(name, 1, lambda blob: 0)
    for statement in sys.argv[2:]:
        con.execute(statement)
    print("ready", flush=True)
    if sys.stdin.readline().strip() == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if con.in_transaction:
        con.execute("ROLLBACK")
    con.close()
""")


class Holder:
    """Another program with the file open, as QGIS keeps it: SQLite's locks belong to a
    process, and any file closed by the test process would drop its own."""

    def __init__(self, path: Path, *statements: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), *statements],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout is not None and self.process.stdin is not None
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self, how: str = "close") -> None:
        """Close the connection (``close``), or die without closing it (``crash``)."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write(how + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)


# --- a damaged page --------------------------------------------------------------------

def _middle_leaf(data: bytes, page_size: int, page: int) -> int:
    """Walk the table b-tree from ``page`` down the middle child to a leaf page."""
    start = (page - 1) * page_size
    header = start + (100 if page == 1 else 0)
    kind = data[header]
    if kind == 0x0D:  # table leaf
        return page
    assert kind == 0x05, f"page {page} is not a table b-tree page ({kind:#x})"
    (cells,) = struct.unpack_from(">H", data, header + 3)
    (pointer,) = struct.unpack_from(">H", data, header + 12 + 2 * (cells // 2))
    (child,) = struct.unpack_from(">I", data, start + pointer)
    return _middle_leaf(data, page_size, child)


def _damage(path: Path, *, keep_header: bool) -> None:
    """Overwrite a leaf page in the middle of the parcels table with garbage: the whole
    page, or (``keep_header``) its cells only, which leaves ``COUNT(*)`` working."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'parcels'").fetchone()
    con.close()
    data = bytearray(path.read_bytes())
    leaf = _middle_leaf(bytes(data), page_size, root)
    start = (leaf - 1) * page_size
    first = struct.unpack_from(">H", data, start + 5)[0] if keep_header else 0
    data[start + first:start + page_size] = random.Random(leaf).randbytes(page_size - first)
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "damaged.gpkg"
    shutil.copyfile(SAMPLE, path)
    _damage(path, keep_header=False)
    # what the audit found: GDAL reads part of the table without a word
    total = pyogrio.read_info(SAMPLE, layer="parcels")["features"]
    assert 0 < pyogrio.read_arrow(path, layer="parcels")[1].num_rows < total
    return path


@pytest.fixture
def damaged_cells(tmp_path: Path) -> Path:
    path = tmp_path / "cells.gpkg"
    shutil.copyfile(SAMPLE, path)
    _damage(path, keep_header=True)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert con.execute("SELECT COUNT(*) FROM parcels").fetchone() == (1513,)
    con.close()
    assert pyogrio.read_arrow(path, layer="parcels")[1].num_rows < 1513
    return path


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "stats", "serve"])
def test_a_damaged_page_is_refused_by_every_command(damaged, command):
    """Before: validate said clean, stats gave half the industrial land, serve served half
    the parcels. Now each says the file is damaged, names the layer and what to do."""
    before = _fingerprint(damaged)
    _refused(ccn(*_command(command, damaged)), str(damaged), "layer 'parcels'",
             "the file is damaged", "restore it from a backup",
             "export the layers again into a new GeoPackage")
    assert _fingerprint(damaged) == before


@pytest.mark.slow
def test_damaged_cells_are_refused(damaged_cells):
    _refused(ccn("stats", "--layers", str(damaged_cells)), "layer 'parcels'",
             "the file is damaged")


def test_a_short_read_is_refused_when_quick_check_does_not_see_it(damaged_cells, monkeypatch):
    """The second line of defence: the rows read are compared with ``COUNT(*)``, in bulk
    and in the fiona fallback, whatever made the read stop early."""
    monkeypatch.setattr(sqlite_file, "_quick_check", lambda readable: None)
    store = GeoPackageStore(damaged_cells)
    with pytest.raises(DataSourceError, match=r"layer 'parcels': the file is damaged "
                       r"\(\d+ of the table's 1,513 rows could be read\); restore it"):
        store.read_layer("parcels")
    assert len(store.read_layer("clusters").frame) == published.CLUSTERS  # the others are whole

    import ccn_gis.io.gpkg as gpkg

    def no_bulk(path, name):
        raise ValueError("bulk read switched off by the test")

    monkeypatch.setattr(gpkg, "_read_arrow_layer", no_bulk)
    with pytest.raises(DataSourceError, match=r"of the table's 1,513 rows could be read"):
        store.read_layer("parcels")


def test_the_sample_passes_the_checks():
    store = GeoPackageStore(SAMPLE)
    assert not store._file.copied
    assert len(store.read_layer("parcels").frame) == 1513
    assert store.read_settings()


# --- WAL mode: QGIS has the file open --------------------------------------------------

LEASES_ENDED = ("UPDATE parcels SET project_id = NULL, leased_on = NULL "
                "WHERE project_id IS NOT NULL AND fid % 2 = 0")


@pytest.fixture
def in_wal(tmp_path: Path) -> Iterator[tuple[Path, Holder]]:
    """A WAL-mode copy of the sample in which half the leases ended, the change still in
    the ``-wal`` only, and QGIS (another process) holding it open."""
    path = tmp_path / "qgis" / "thai_binh.gpkg"
    path.parent.mkdir()
    shutil.copyfile(SAMPLE, path)
    qgis = Holder(path, "PRAGMA journal_mode = WAL", "PRAGMA wal_autocheckpoint = 0",
                  LEASES_ENDED)
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    yield path, qgis
    qgis.stop()


def _with_wal_applied(path: Path, tmp_path: Path) -> dict:
    """The figures of the file with its ``-wal`` folded in, read from a rollback-mode copy."""
    folder = tmp_path / "applied"
    folder.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(path.with_name(path.name + suffix), folder / (path.name + suffix))
    con = sqlite3.connect(folder / path.name)
    con.execute("PRAGMA journal_mode = DELETE")  # folds the -wal in
    con.close()
    assert not (folder / (path.name + "-wal")).exists()
    return _stats(folder / path.name)


@pytest.mark.slow
def test_wal_is_read_and_no_file_is_touched(in_wal, tmp_path):
    """Before: with QGIS open, every read wrote to the -shm; with QGIS crashed, reading
    folded the -wal into the file and deleted the -wal and -shm. Now the files stay byte
    for byte, with their times, and the figures are the WAL's."""
    path, qgis = in_wal
    expected = _with_wal_applied(path, tmp_path)
    assert expected["leased_ha"] < _stats(SAMPLE)["leased_ha"] - 100  # the change shows
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {"TMPDIR": str(temporary)}

    for state in ("QGIS open", "QGIS crashed"):
        before = _fingerprint(path)
        assert before["-wal"] and before["-shm"], state
        run = ccn("validate", "--layers", str(path), env=env)
        assert run.returncode == 0, (state, run.stdout + run.stderr)
        assert _stats(path, env=env) == expected, state
        assert _fingerprint(path) == before, state
        assert list(temporary.iterdir()) == [], state  # the private copy went with the process
        qgis.stop("crash")

    # closed properly: the -wal folded in and deleted, the file still in WAL mode, where a
    # read-only SQLite connection would leave a new -wal and -shm behind
    con = _writer(path)
    con.execute("SELECT COUNT(*) FROM parcels").fetchone()
    con.close()
    assert not path.with_name(path.name + "-wal").exists()
    files = sorted(path.parent.iterdir())
    before = _fingerprint(path)
    assert _stats(path, env=env) == expected
    assert sorted(path.parent.iterdir()) == files and _fingerprint(path) == before


@pytest.mark.slow
def test_no_read_only_command_touches_a_wal_file(in_wal, tmp_path):
    """Every other command that reads the file — settings shown, land use, scenario checks,
    and a server answering requests — leaves the three files byte for byte as they were."""
    import urllib.request

    path, _qgis = in_wal
    before = _fingerprint(path)
    for args in (["settings"], ["landuse", "--plan-layer", "landuse_plan", "--zones", "clusters"],
                 ["scenario", "check", "--json"]):
        run = ccn(*args, "--layers", str(path))
        assert run.returncode == 0, (args, run.stderr[-2000:])
        assert "Traceback" not in run.stderr
        assert _fingerprint(path) == before, args
    port = _free_port()
    server = subprocess.Popen([*CLI, "serve", "--layers", str(path), "--port", port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/conformance", timeout=2)
                break
            except OSError:
                assert server.poll() is None
                time.sleep(0.2)
        for route in ("/collections/parcels/items?limit=5", "/stats?by=cluster",
                      "/scenarios/current", "/collections/parcels/download?format=gpkg"):
            with urllib.request.urlopen(url + route, timeout=60) as answer:
                assert answer.status == 200, route
                answer.read()
        assert _fingerprint(path) == before
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert _fingerprint(path) == before


def test_copies_left_by_a_killed_process_are_swept(in_wal, tmp_path, monkeypatch):
    """A process killed with ``kill -9`` cannot remove its private copy: the next read
    that makes one removes it (and never a live process's, nor another program's)."""
    path, _qgis = in_wal
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(sqlite_file.tempfile, "tempdir", None)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f"{sqlite_file.COPY_PREFIX}{gone.pid}-abc"
    alive = tmp_path / f"{sqlite_file.COPY_PREFIX}{os.getppid()}-def"
    other = tmp_path / "ccn-gis-wal-notes"
    for folder in (left, alive, other):
        folder.mkdir()
        (folder / "thai_binh.gpkg").write_bytes(b"copy")
    store = GeoPackageStore(path)
    assert not left.exists() and alive.exists() and other.exists()
    del store
    gc.collect()


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[tuple[Path, Callable[..., None]]]:
    """A folder no one may write to, not even root (``chattr +i``; ``chmod`` when not root)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    locked: list[Path] = []

    def lock(*paths: Path) -> None:
        if os.geteuid() == 0:
            if shutil.which("chattr") is None or subprocess.run(
                    ["chattr", "+i", *map(str, paths)], capture_output=True).returncode:
                pytest.skip("root ignores chmod, and chattr +i is not permitted here")
        else:
            for p in paths:
                p.chmod(0o555 if p.is_dir() else 0o444)
        locked.extend(paths)
        try:
            (folder / "probe").touch()
        except OSError:
            return
        pytest.skip("the folder could not be made read-only")

    yield folder, lock
    if os.geteuid() == 0 and locked:
        subprocess.run(["chattr", "-i", *map(str, locked)], check=True)
    for p in locked:
        p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.slow
def test_wal_in_a_read_only_folder_is_read(in_wal, read_only_folder, tmp_path):
    """Only the -wal beside the file (no -shm), in a folder SQLite cannot write to.
    Before: GDAL retried with IMMUTABLE=YES, ignored the -wal and gave stale figures."""
    path, _ = in_wal
    folder, lock = read_only_folder
    expected = _with_wal_applied(path, tmp_path)
    for suffix in ("", "-wal"):
        shutil.copyfile(path.with_name(path.name + suffix), folder / (path.name + suffix))
    copy = folder / path.name
    lock(copy, copy.with_name(copy.name + "-wal"), folder)
    before = _fingerprint(copy)
    assert before["-shm"] is None
    assert _stats(copy) == expected
    run = ccn("validate", "--layers", str(copy))
    assert run.returncode == 0, run.stdout + run.stderr
    assert _fingerprint(copy) == before


def test_private_copy_is_removed_with_the_store(in_wal):
    path, _ = in_wal
    store = GeoPackageStore(path)
    assert store._file.copied
    folder = store._file.path.parent
    assert len(store.read_layer("parcels").frame) == 1513 and folder.exists()
    del store
    sqlite_file._RECENT.clear()
    gc.collect()
    assert not folder.exists()


# --- another program writing ---------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "stats", "serve"])
def test_a_write_lock_is_refused_as_being_written(tmp_path, command):
    """Before: a 10 s wait, then "not a readable GeoPackage … export the layers again"."""
    path = tmp_path / "locked.gpkg"
    shutil.copyfile(SAMPLE, path)
    writer = Holder(path, "BEGIN EXCLUSIVE")
    try:
        before = _fingerprint(path)
        run = ccn(*_command(command, path))
        _refused(run, str(path), "is being written by another program",
                 "try again when it has finished")
        assert "export" not in run.stderr
        assert _fingerprint(path) == before
    finally:
        writer.stop()
    assert _stats(path) == _stats(SAMPLE)  # and once it has finished, the file reads


KILLED_WRITER = textwrap.dedent("""
    import os, signal, sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("PRAGMA cache_size = 1")  # changed pages reach the file before the commit
    for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
        con.create_function(name, 1, lambda blob: 0)
    con.execute("BEGIN")
    con.execute("DELETE FROM landuse_plan")
    con.execute("UPDATE parcels SET project_id = NULL, leased_on = NULL")
    os.kill(os.getpid(), signal.SIGKILL)
""")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "stats", "serve"])
def test_a_hot_journal_is_refused_as_being_written(tmp_path, command):
    """A writer killed mid-transaction leaves the file half written and a hot -journal.
    Before: "not a readable GeoPackage … export the layers again". Now: being written,
    and reading neither rolls the journal back nor changes anything."""
    path = tmp_path / "killed.gpkg"
    shutil.copyfile(SAMPLE, path)
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], check=False)
    assert killed.returncode == -signal.SIGKILL
    journal = path.with_name(path.name + "-journal")
    assert journal.stat().st_size > 0 and path.read_bytes() != SAMPLE.read_bytes()
    before = _fingerprint(path)
    _refused(ccn(*_command(command, path)), str(path), "is being written by another program",
             "a program stopped while writing it", "try again when it has finished",
             f"do not delete {journal.name}")
    assert _fingerprint(path) == before

    if command == "stats":  # the advice works: any writer (QGIS) rolls the change back
        sqlite3.connect(path).execute("SELECT COUNT(*) FROM parcels").fetchone()
        assert not journal.exists()
        assert _stats(path) == _stats(SAMPLE)


# --- curved geometries ---------------------------------------------------------------

def _points(coords) -> bytes:
    return struct.pack("<I", len(coords)) + b"".join(struct.pack("<dd", *c[:2]) for c in coords)


def _gpkg_blob(wkb: bytes, srs_id: int) -> bytes:
    return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb  # no envelope, little-endian


def _arc_edge(ring, sagitta: float, inside) -> tuple[bytes, float]:
    """The ring with its first edge bent outward into an arc: a COMPOUNDCURVE of a
    CIRCULARSTRING and a LINESTRING, and the area the arc adds."""
    (x0, y0), (x1, y1) = ring[0][:2], ring[1][:2]
    chord = math.hypot(x1 - x0, y1 - y0)
    nx, ny = (y1 - y0) / chord, -(x1 - x0) / chord
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    if inside(mx + nx, my + ny):
        nx, ny = -nx, -ny
    middle = (mx + nx * sagitta, my + ny * sagitta)
    arc = b"\x01" + struct.pack("<I", 8) + _points([ring[0], middle, ring[1]])
    rest = b"\x01" + struct.pack("<I", 2) + _points(ring[1:])
    compound = b"\x01" + struct.pack("<I", 9) + struct.pack("<I", 2) + arc + rest
    radius = (chord ** 2 / 4 + sagitta ** 2) / (2 * sagitta)
    angle = 2 * math.asin(chord / (2 * radius))
    return compound, radius ** 2 * (angle - math.sin(angle)) / 2


@pytest.fixture
def curved(tmp_path: Path) -> tuple[Path, float]:
    """The sample with cluster TB-01 redrawn in QGIS with an arc (a MULTISURFACE of a
    CURVEPOLYGON) and TB-02 stored as a CURVEPOLYGON of straight lines; returns the file
    and the hectares the arc adds."""
    path = tmp_path / "curved.gpkg"
    shutil.copyfile(SAMPLE, path)
    con = _writer(path)
    added = 0.0
    for cluster, sagitta in (("TB-01", 20.0), ("TB-02", None)):
        blob, srs_id = con.execute("SELECT geom, "
                                   "(SELECT srs_id FROM gpkg_geometry_columns WHERE "
                                   "table_name = 'clusters') FROM clusters WHERE "
                                   "cluster_id = ?", (cluster,)).fetchone()
        envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(blob[3] >> 1) & 7]
        geometry = shapely.from_wkb(blob[8 + envelope:])
        polygon = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
        assert len(getattr(geometry, "geoms", [geometry])) == 1
        ring = list(polygon.exterior.coords)
        if sagitta is None:
            exterior = b"\x01" + struct.pack("<I", 9) + struct.pack("<I", 1) + \
                b"\x01" + struct.pack("<I", 2) + _points(ring)
            wkb = b"\x01" + struct.pack("<I", 10) + struct.pack("<I", 1) + exterior
        else:
            exterior, area = _arc_edge(
                ring, sagitta, lambda x, y, p=polygon: p.contains(shapely.Point(x, y)))
            added += area / 10_000
            curve_polygon = b"\x01" + struct.pack("<I", 10) + struct.pack("<I", 1) + exterior
            wkb = b"\x01" + struct.pack("<I", 12) + struct.pack("<I", 1) + curve_polygon
        assert not polygon.interiors
        con.execute("UPDATE clusters SET geom = ? WHERE cluster_id = ?",
                    (_gpkg_blob(wkb, srs_id), cluster))
    con.close()
    with pytest.raises(NotImplementedError):  # what every command tripped over
        shapely.from_wkb(pyogrio.read_arrow(path, layer="clusters")[1]
                         .column("geom").to_numpy(zero_copy_only=False))
    return path, added


@pytest.mark.slow
def test_curved_geometries_give_figures_and_a_warning(curved):
    """Before: a traceback (shapely: "Nonlinear geometry types are not currently
    supported") from every command. Now the arcs are made straight segments, the areas
    follow the arcs, and the warning names the one feature that had an arc."""
    path, added = curved
    run = ccn("stats", "--json", "--lang", "en", "--layers", str(path))
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    warning = ("warning: clusters, feature TB-01, field geometry: 1 feature with curved "
               "geometry was turned into straight segments (TB-01); areas may differ "
               "slightly from QGIS")
    assert warning in run.stderr
    assert "TB-02" not in run.stderr  # straight lines stored as a curve type: exact
    got, sample = json.loads(run.stdout), _stats(SAMPLE)
    assert got["planned"]["count"] == sample["planned"]["count"]
    grown = got["planned"]["area_ha"] - sample["planned"]["area_ha"]
    assert grown == pytest.approx(added, rel=0.03)  # GDAL's 4° steps cut a little

    run = ccn("validate", "--lang", "en", "--layers", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert warning in run.stdout and "Traceback" not in run.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL's tools are not installed")
def test_a_file_converted_to_curve_types_by_ogr2ogr_reads_the_same(tmp_path):
    """Every polygon layer as MULTISURFACE, as ArcGIS exports them: the same figures and
    no warning, since no arc changed."""
    path = tmp_path / "multisurface.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", "-nlt", "CONVERT_TO_CURVE", str(path),
                    str(SAMPLE)], check=True, capture_output=True)
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(path), "parcels"],
                          capture_output=True, text=True, check=True).stdout
    assert "Multi Surface" in info
    run = ccn("stats", "--json", "--layers", str(path))
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "curved" not in run.stderr and "cong" not in run.stderr
    got, sample = json.loads(run.stdout), _stats(SAMPLE)
    for key in ("planned", "established", "detailed_plan", "operating"):
        assert got[key]["count"] == sample[key]["count"]
        assert got[key]["area_ha"] == pytest.approx(sample[key]["area_ha"], abs=1e-6)
    for key in ("industrial_ha", "leased_ha"):
        assert got[key] == pytest.approx(sample[key], abs=1e-6)


def test_curves_in_the_fiona_fallback_are_named_too(curved, monkeypatch):
    import ccn_gis.io.gpkg as gpkg

    def no_bulk(path, name):
        raise ValueError("bulk read switched off by the test")

    monkeypatch.setattr(gpkg, "_read_arrow_layer", no_bulk)
    layer = GeoPackageStore(curved[0]).read_layer("clusters")
    assert len(layer.frame) == published.CLUSTERS
    assert set(layer.frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    warnings = [p for p in layer.problems if "curved geometry" in p.message]
    assert [(p.feature, p.is_error) for p in warnings] == [("TB-01", False)]


def test_which_wkb_is_curved_and_which_holds_arcs():
    point = b"\x01" + struct.pack("<I", 1) + struct.pack("<dd", 1, 2)
    square = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    polygon = b"\x01" + struct.pack("<I", 3) + struct.pack("<I", 1) + _points(square)
    line = b"\x01" + struct.pack("<I", 2) + _points(square)
    straight = b"\x01" + struct.pack("<I", 10) + struct.pack("<I", 1) + \
        b"\x01" + struct.pack("<I", 9) + struct.pack("<I", 1) + line
    arc = b"\x01" + struct.pack("<I", 8) + _points([(0, 0), (1, 1), (2, 0)])
    arc_z_big_endian = b"\x00" + struct.pack(">I", 1008) + struct.pack(">I", 3) + \
        b"".join(struct.pack(">ddd", x, y, 5) for x, y in [(0, 0), (1, 1), (2, 0)])
    surface = b"\x01" + struct.pack("<I", 12) + struct.pack("<I", 1) + \
        b"\x01" + struct.pack("<I", 10) + struct.pack("<I", 1) + arc
    wkbs = [point, polygon, straight, None, surface, arc_z_big_endian]
    assert list(curve_positions(wkbs)) == [2, 4, 5]
    assert [has_arcs(w) for w in (point, polygon, straight, surface, arc_z_big_endian)] == \
        [False, False, False, True, True]
    assert arc_positions([straight, surface, polygon]) == [1]
    with pytest.raises(ValueError, match="malformed WKB"):
        has_arcs(surface[:-8])
