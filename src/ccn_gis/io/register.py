"""Writing the register: a change set into the GeoPackage, checked, with its history.

:func:`write_changes` is the one way ccn-gis changes layers. Under SQLite's write lock
(``BEGIN IMMEDIATE``: no other program writes meanwhile, readers keep reading the old
state) it reads the layers as stored, applies the change set in memory
(:func:`ccn_gis.edits.apply_changes`), checks the layers that result with the same checks
as a file on load (:func:`ccn_gis.validation.check_layers`), and only when they pass
writes the edited rows and one history row per edit, and commits. A write that fails,
is refused or is cut short (the process killed, the power lost) leaves the file as it
was: SQLite rolls an unfinished transaction back when the file is next opened.

The history is the table ``ccn_history`` of the same GeoPackage (an attribute table in
``gpkg_contents``), so it travels with the data; QGIS shows it as a table. One row per
edit: the change set's number, when (UTC), who, the note, the layer, the feature, the
operation and the stored values before and after as JSON (geometries as WKB in hex, in
the layer's CRS: exact).

Geometries are written as GeoPackage binary (the standard header with its envelope,
then ISO WKB) in the layer's declared type (a polygon in a MultiPolygon layer is stored
as a one-part MultiPolygon). The R-tree triggers GDAL and QGIS put on a layer call
``ST_IsEmpty``, ``ST_MinX`` … which plain SQLite lacks: they are given to the
connection here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sqlite3
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ccn_gis.crs import WGS84
from ccn_gis.dataset import Dataset, build_dataset
from ccn_gis.edits import (
    Applied,
    ChangeSet,
    Edit,
    Operation,
    apply_changes,
    same_row,
    stored_row,
)
from ccn_gis.errors import CcnGisError, ValidationError
from ccn_gis.io.curves import gpkg_wkb
from ccn_gis.io.gpkg import (
    GeoPackageStore,
    create_attribute_table,
    table_changed,
    write_transaction,
)
from ccn_gis.io.sqlite_file import file_revision, quoted
from ccn_gis.model import LAYERS
from ccn_gis.problems import Problem, Severity
from ccn_gis.settings import ProvinceSettings
from ccn_gis.stored import RawLayer
from ccn_gis.validation import check_layers

HISTORY_TABLE = "ccn_history"
"""The register's history, a table of the GeoPackage itself."""
OUTSIDE_USER = "(outside)"
"""The user of history rows that record another program's change."""
WRITE_TIMEOUT = 5.0
"""Seconds to wait for another program's write to finish before refusing."""

_HISTORY_COLUMNS = (
    '"change_id" INTEGER NOT NULL, "recorded_at" TEXT NOT NULL, "user_name" TEXT NOT NULL, '
    '"note" TEXT, "layer" TEXT NOT NULL, "feature_id" TEXT, "feature_fid" INTEGER, '
    '"operation" TEXT NOT NULL, "before" TEXT, "after" TEXT, '
    '"source" TEXT NOT NULL DEFAULT \'ccn-gis\''
)


class StaleVersion(CcnGisError, ValueError):
    """An edit was made on a version of the feature that is no longer the stored one:
    someone changed it meanwhile. ``current`` is the stored version (None: deleted)."""

    def __init__(self, layer: str, feature_id: str | None, current: str | None) -> None:
        self.layer, self.feature_id, self.current = layer, feature_id, current
        super().__init__(
            f"{layer}, feature {feature_id}: changed by someone else since you read it "
            f"(now version {current}); read it again and redo your change"
            if current else f"{layer}, feature {feature_id}: deleted since you read it")

    @property
    def headers(self) -> dict[str, str]:
        """The stored version as an HTTP ``ETag``, for the client to compare."""
        return {"ETag": f'"{self.current}"'} if self.current else {}


class RefusedChange(ValidationError):
    """The layers after a change set break the data model; nothing was written.
    ``problems`` are those of the edited features (layer, feature, field, what to do)."""


@dataclass(frozen=True)
class Written:
    """A change set written: its number in the history, when, the revision it made, and
    each edited feature's new version (None for a deleted one), in edit order."""

    change_id: int
    recorded_at: str
    revision: str
    applied: tuple[Applied, ...]
    versions: tuple[str | None, ...]


def write_changes(path: str | Path,
                  changes: ChangeSet | Callable[[Mapping[str, RawLayer | None]], ChangeSet],
                  *, user: str, timeout: float = WRITE_TIMEOUT) -> Written:
    """Apply ``changes`` to the GeoPackage at ``path``, all or nothing, as ``user``.

    ``changes`` may be a function of the layers as stored under the write lock, which
    returns the change set (or raises, and nothing is written): what to change can then
    depend on the stored values, with no other write between reading and writing.

    Raises
    ------
    EditError
        When an edit names an unknown layer, field or feature; nothing is written.
    RefusedChange
        When the layers after the change would not pass the checks on load; the problems
        name the edited features. Nothing is written.
    DataSourceError
        When the file cannot be written (read-only, damaged, another program holding
        the write lock for longer than ``timeout``); nothing is written.
    """
    path = Path(path)
    recorded_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with write_transaction(path, timeout=timeout, what="the change") as (con, tables):
        _add_geometry_functions(con)
        store = GeoPackageStore(path)
        names = set(store.layer_names())
        raw: dict[str, RawLayer | None] = {
            name: store.read_layer(name) if name in names else None for name in LAYERS}
        settings = ProvinceSettings.from_table(store.read_settings())
        if callable(changes):
            changes = changes(raw)
        after, applied = apply_changes(raw, changes)
        for edit, done in zip(changes.edits, applied, strict=True):
            if edit.if_match is not None and edit.operation is not Operation.CREATE:
                current = row_version(con, done.layer, done.fid)
                if current != edit.if_match:
                    raise StaleVersion(done.layer, done.feature_id, current)
        _refuse_if_broken(raw, after, applied, settings, path)
        for done in applied:
            _write_row(con, after, done)
        versions = tuple(row_version(con, done.layer, done.fid) for done in applied)
        change_id = _record(con, tables, changes, applied, user=user,
                            recorded_at=recorded_at)
        for table in sorted({done.layer for done in applied} | {HISTORY_TABLE}):
            table_changed(con, tables | {HISTORY_TABLE}, table)
    return Written(change_id, recorded_at, file_revision(path), tuple(applied), versions)


def row_version(con: sqlite3.Connection, layer: str, fid: int) -> str | None:
    """The version of the stored row ``fid`` of ``layer``: a hash of its columns as SQLite
    holds them (None when there is no such row). Any write to the row changes it, by
    ccn-gis or any other program; nothing else does."""
    # safe: the layer is one of the data model's, its key read from its own schema; quoted
    key, *_ = _layer_schema(con, layer)
    cursor = con.execute(f"SELECT * FROM {quoted(layer)} WHERE {quoted(key)} = ?", (fid,))
    row = cursor.fetchone()
    if row is None:
        return None
    digest = hashlib.blake2b(digest_size=16)
    for (name, *_), value in zip(cursor.description, row, strict=True):
        digest.update(f"{name}\x00{type(value).__name__}\x00".encode())
        digest.update(value if isinstance(value, bytes) else repr(value).encode())
        digest.update(b"\x01")
    return digest.hexdigest()


def feature_version(path: str | Path, layer: str, fid: int) -> str | None:
    """:func:`row_version` read from the file now, through a read-only connection."""
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return row_version(con, layer, fid)
    finally:
        con.close()


def record_outside(path: str | Path, counts: Mapping[str, tuple[int, int]], *,
                   timeout: float = 1.0) -> tuple[int, str]:
    """Record in the history that another program (QGIS, GDAL) changed ``counts``' layers:
    one row each, ``source`` ``outside``, with the features before and after. Return the
    change set's number and the revision the record made.

    The rows an outside program changed cannot be told from the file; the history says
    that it happened, and when ccn-gis noticed. It waits at most ``timeout`` for the
    other program's lock (QGIS editing): the caller may skip the record then.
    """
    recorded_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with write_transaction(path, timeout=timeout, what="the history") as (con, tables):
        history, change_id = _next_change(con, tables)
        con.executemany(
            f"INSERT INTO {history} (change_id, recorded_at, user_name, note, layer, "
            "operation, before, after, source) VALUES (?, ?, ?, ?, ?, 'outside', ?, ?, "
            "'outside')",
            [(change_id, recorded_at, OUTSIDE_USER,
              "thay đổi bởi chương trình khác (changed by another program)", layer,
              _json({"features": before}), _json({"features": after}))
             for layer, (before, after) in sorted(counts.items())])
        table_changed(con, tables | {HISTORY_TABLE}, HISTORY_TABLE)
    return change_id, file_revision(Path(path))


VIETNAM = dt.timezone(dt.timedelta(hours=7))
"""A time without an offset is Viet Nam's (UTC+7): the register's staff write it so."""


def recorded_time(text: str) -> dt.datetime:
    """An ISO 8601 time, ``2026-12-14T17:00:00+07:00`` or without offset (Viet Nam's).

    Examples
    --------
    >>> recorded_time("2026-12-14T17:00").isoformat()
    '2026-12-14T17:00:00+07:00'
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise ValueError(f"{text!r} is not a time; write YYYY-MM-DDTHH:MM, with +07:00 or "
                         "another offset if not Viet Nam's") from err
    return when if when.tzinfo is not None else when.replace(tzinfo=VIETNAM)


def load_recorded(path: str | Path, at: dt.datetime) -> Dataset:
    """The register as it stood at ``at``: the file's layers with every change ccn-gis
    recorded after ``at`` undone (newest first), checked as on load.

    Changes made by other programs after ``at`` cannot be undone (the history knows that
    they happened, not their rows): each is a warning of the dataset, naming the layer.

    Raises
    ------
    ValidationError, DataSourceError
        As :func:`ccn_gis.io.load_dataset`.
    """
    path = Path(path)
    store = GeoPackageStore(path)
    names = set(store.layer_names())
    raw: dict[str, RawLayer | None] = {
        name: store.read_layer(name) if name in names else None for name in LAYERS}
    settings = ProvinceSettings.from_table(store.read_settings())
    later = [h for h in read_history(path, limit=10**9)
             if dt.datetime.fromisoformat(h["recorded_at"].replace("Z", "+00:00")) > at]
    edits, warnings = [], []
    for entry in reversed(later):
        layer = raw.get(entry["layer"])
        if entry["source"] == "outside" or layer is None:
            warnings.append(Problem(
                entry["layer"], None, None,
                f"changed by another program (noticed {entry['recorded_at']}), after the "
                "time asked: those rows are shown as they are now",
                "the history of ccn-gis knows that such a change happened, not its rows",
                Severity.WARNING))
            continue
        edits.append(_undo(entry, layer))
    reverted, _ = apply_changes(raw, ChangeSet(tuple(edits)))
    frames_problems = check_layers(reverted, settings.area_crs)[1]
    if any(p.is_error for p in frames_problems):
        raise ValidationError(frames_problems, str(path))
    dataset = build_dataset(reverted, settings, source=str(path),
                            revision=f"{store.revision}@{at.isoformat()}")
    return dataclasses.replace(dataset, warnings=(*warnings, *dataset.warnings))


def _undo(entry: Mapping[str, Any], layer: RawLayer) -> Edit:
    """The edit that puts a history entry's feature back as it was before it."""
    operation = Operation(entry["operation"])
    if operation is Operation.CREATE:
        return Edit(layer.name, Operation.DELETE, entry["feature_id"])
    before = dict(entry["before"])
    shape = layer.frame.geometry.name if layer.has_geometry else None
    wkb = before.pop(shape, None) if shape else None
    geometry = shapely.from_wkb(bytes.fromhex(wkb)) if wkb else None
    undo = Operation.CREATE if operation is Operation.DELETE else Operation.REPLACE
    return Edit(layer.name, undo, None if undo is Operation.CREATE else entry["feature_id"],
                before, geometry, set_geometry=shape is not None,
                crs=layer.crs if layer.crs is not None else WGS84)


def recover(path: str | Path, *, timeout: float = WRITE_TIMEOUT) -> bool:
    """Roll back a write that was cut short (its process killed, the power lost), as
    SQLite does when a writer next opens the file; return whether there was one.

    A ``-journal`` left beside the file makes readers refuse it ("being written");
    taking the write lock once rolls the unfinished transaction back, so the file is as
    it was before that write. A writer still running holds the lock: this waits for it
    (up to ``timeout``) and finds nothing to undo.
    """
    path = Path(path)
    journal = path.with_name(path.name + "-journal")
    if not journal.exists():
        return False
    with write_transaction(path, timeout=timeout, what="the interrupted change"):
        pass  # SQLite rolled the journal back when the lock was taken
    return True


class NoSuchChange(CcnGisError, LookupError):
    """The history has no change set of that number."""

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


class RevertConflict(CcnGisError, ValueError):
    """A change set cannot be reverted: a feature it wrote has changed since."""


def revert_change(path: str | Path, change_id: int, *, user: str, note: str = "",
                  timeout: float = WRITE_TIMEOUT) -> Written:
    """Undo change set ``change_id`` as a new change set of ``user``: every feature it
    wrote is put back as it was before it, through the checks of any write.

    Raises
    ------
    NoSuchChange
        When the history has no change set ``change_id``.
    RevertConflict
        When a feature the change set wrote has changed since (revert the later change
        first), or the change set was made by another program (its rows are not known).
    RefusedChange
        When the register as it would be breaks the data model.
    """
    rows = read_history(path, change_id=change_id, limit=1)
    if not rows:
        raise NoSuchChange(f"no change set {change_id} in the history")
    if any(r["source"] == "outside" for r in rows):
        raise RevertConflict(f"change set {change_id} was made by another program: the "
                             "history knows that it happened, not its rows; edit the "
                             "features back instead")

    def undo(raw: Mapping[str, RawLayer | None]) -> ChangeSet:
        edits = []
        for entry in reversed(rows):
            layer = raw.get(entry["layer"])
            if layer is None:
                raise RevertConflict(f"change set {change_id}: layer {entry['layer']} is "
                                     "gone")
            shape = layer.frame.geometry.name if layer.has_geometry else None
            now = stored_row(layer, entry["feature_id"])
            if not same_row(now, entry["after"], shape):
                raise RevertConflict(
                    f"change set {change_id}: {entry['layer']}, feature "
                    f"{entry['feature_id']} has changed since; revert the later changes "
                    "first (GET /changes), or edit it back")
            edits.append(_undo(entry, layer))
        return ChangeSet(tuple(edits), note=note or f"hoàn tác thay đổi {change_id} "
                         f"(revert of change {change_id})")

    return write_changes(path, undo, user=user, timeout=timeout)


def read_history(path: str | Path, *, layer: str | None = None,
                 feature_id: str | None = None, since: int = 0, change_id: int | None = None,
                 limit: int = 1_000) -> list[dict[str, Any]]:
    """The history rows after change ``since``, oldest first (none when there is no
    history yet): those of one layer, feature or change set when given, at most
    ``limit`` change sets."""
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {n for (n,) in con.execute("SELECT name FROM sqlite_master")}
        if HISTORY_TABLE not in tables:
            return []
        table = quoted(HISTORY_TABLE)  # safe: a constant, quoted
        where = ("change_id > :since AND (:layer IS NULL OR layer = :layer) AND "
                 "(:feature IS NULL OR feature_id = :feature) AND "
                 "(:change IS NULL OR change_id = :change)")
        sql = (f"SELECT change_id, recorded_at, user_name, note, layer, feature_id, "
               f"operation, before, after, source FROM {table} WHERE {where} AND change_id "
               f"IN (SELECT DISTINCT change_id FROM {table} WHERE {where} "
               "ORDER BY change_id LIMIT :limit) ORDER BY fid")
        rows = con.execute(sql, {"since": since, "layer": layer, "feature": feature_id,
                                 "change": change_id, "limit": limit})
        keys = ("change_id", "recorded_at", "user", "note", "layer", "feature_id",
                "operation", "before", "after", "source")
        out = []
        for row in rows:
            entry = dict(zip(keys, row, strict=True))
            for side in ("before", "after"):
                entry[side] = None if entry[side] is None else json.loads(entry[side])
            out.append(entry)
        return out
    finally:
        con.close()


# ------------------------------------------------------------------------------ checks
def _refuse_if_broken(before: Mapping[str, RawLayer | None],
                      after: Mapping[str, RawLayer | None], applied: list[Applied],
                      settings: ProvinceSettings, path: Path) -> None:
    """Raise :class:`RefusedChange` with the errors the change brings.

    The layers before the change were served, so they passed; an error found after it
    that was not there before is the change's (a parcel now outside its cluster, a
    project naming a cluster just deleted…).
    """
    _, found = check_layers(after, settings.area_crs)
    errors = [p for p in found if p.is_error]
    if not errors:
        return
    _, earlier = check_layers(before, settings.area_crs)
    known = {str(p) for p in earlier if p.is_error}
    new = [p for p in errors if str(p) not in known]
    if new:
        raise RefusedChange(new, str(path))


# ------------------------------------------------------------------------------ writing
def _layer_schema(con: sqlite3.Connection, layer: str) -> tuple[str, str | None, int, str]:
    """The layer's primary key, geometry column, its SRS id and declared type."""
    columns = con.execute(f"PRAGMA table_info({quoted(layer)})").fetchall()  # safe: quoted
    key = next((str(c[1]) for c in columns if c[5] == 1), "fid")
    geometry = con.execute(
        "SELECT column_name, srs_id, geometry_type_name FROM gpkg_geometry_columns "
        "WHERE lower(table_name) = lower(?)", (layer,)).fetchone()
    if geometry is None:
        return key, None, 0, ""
    return key, str(geometry[0]), int(geometry[1]), str(geometry[2]).upper()


def _write_row(con: sqlite3.Connection, after: Mapping[str, RawLayer | None],
               done: Applied) -> None:
    """Write one applied edit's row (or delete it), keyed by its feature id."""
    table = quoted(done.layer)  # safe: identifiers of the file's own schema, quoted
    key, geometry_column, srs_id, declared = _layer_schema(con, done.layer)
    if done.operation is Operation.DELETE:
        con.execute(f"DELETE FROM {table} WHERE {quoted(key)} = ?", (done.fid,))
        return
    layer = after[done.layer]
    assert layer is not None
    row = layer.frame.loc[done.fid]
    shape = done.geometry_column  # the frame's geometry; stored in ``geometry_column``
    columns = [c for c in layer.frame.columns if c != shape]
    if done.operation is Operation.UPDATE and done.before is not None and done.after is not None:
        columns = [c for c in columns if done.before.get(c) != done.after.get(c)]
    values: dict[str, Any] = {c: _sql_value(row[c]) for c in columns}
    if geometry_column is not None and shape is not None and (
            done.before is None or done.after is None
            or done.before.get(shape) != done.after.get(shape)):
        values[geometry_column] = _gpkg_blob(row[shape], srs_id, declared)
    if done.operation is Operation.CREATE:
        names = [key, *values]
        marks = ", ".join("?" for _ in names)
        con.execute(f"INSERT INTO {table} ({', '.join(quoted(n) for n in names)}) "
                    f"VALUES ({marks})", (done.fid, *values.values()))
        return
    if not values:
        return
    assignments = ", ".join(f"{quoted(c)} = ?" for c in values)
    con.execute(f"UPDATE {table} SET {assignments} WHERE {quoted(key)} = ?",
                (*values.values(), done.fid))


def _next_change(con: sqlite3.Connection, tables: set[str]) -> tuple[str, int]:
    """The history table (quoted; made if missing) and the next change set's number."""
    history = quoted(HISTORY_TABLE)  # safe: a constant, quoted
    if HISTORY_TABLE not in tables:
        create_attribute_table(con, HISTORY_TABLE, _HISTORY_COLUMNS)
    change_id = int(con.execute(
        f"SELECT COALESCE(MAX(change_id), 0) + 1 FROM {history}").fetchone()[0])
    return history, change_id


def _record(con: sqlite3.Connection, tables: set[str], changes: ChangeSet,
            applied: list[Applied], *, user: str, recorded_at: str) -> int:
    """Append the history rows of one change set; return its number."""
    history, change_id = _next_change(con, tables)
    con.executemany(
        f"INSERT INTO {history} (change_id, recorded_at, user_name, note, layer, feature_id, "
        "feature_fid, operation, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(change_id, recorded_at, user, changes.note or None, d.layer, d.feature_id, d.fid,
          d.operation.value, _json(d.before), _json(d.after)) for d in applied])
    return change_id


def _json(row: Mapping[str, Any] | None) -> str | None:
    return None if row is None else json.dumps(row, ensure_ascii=False, allow_nan=False)


def _sql_value(value: Any) -> Any:
    """A frame's value as SQLite stores it in a GeoPackage column."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if value.time() == dt.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value


# ---------------------------------------------------------------- GeoPackage geometries
_GPKG_FLAGS_LE_XY = 0b0000_0011  # little-endian, an xy envelope
_GPKG_EMPTY = 0b0001_0000


def _gpkg_blob(geometry: BaseGeometry | None, srs_id: int, declared: str) -> bytes | None:
    """``geometry`` as a GeoPackage binary geometry of the layer's declared type."""
    if geometry is None:
        return None
    if declared.startswith("MULTI") and shapely.get_type_id(geometry) in (1, 2, 3):
        geometry = {1: shapely.multipoints, 2: shapely.multilinestrings,
                    3: shapely.multipolygons}[int(shapely.get_type_id(geometry))]([geometry])
    wkb = shapely.to_wkb(geometry, byte_order=1, flavor="iso")
    if geometry.is_empty:
        return b"GP\x00" + bytes([0b0000_0001 | _GPKG_EMPTY]) + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = geometry.bounds
    return (b"GP\x00" + bytes([_GPKG_FLAGS_LE_XY]) + struct.pack("<i", srs_id)
            + struct.pack("<4d", minx, maxx, miny, maxy) + wkb)


def _stored_geometry(blob: Any) -> BaseGeometry | None:
    if not isinstance(blob, bytes) or len(blob) < 8:
        return None
    try:
        return shapely.from_wkb(gpkg_wkb(blob))
    except (shapely.errors.GEOSException, ValueError):
        return None


def _add_geometry_functions(con: sqlite3.Connection) -> None:
    """The SQL functions a GeoPackage's R-tree triggers call (GDAL registers them too)."""

    def bound(index: int) -> Any:
        def f(blob: Any) -> float | None:
            geometry = _stored_geometry(blob)
            if geometry is None or geometry.is_empty:
                return None
            return float(geometry.bounds[index])
        return f

    def is_empty(blob: Any) -> int | None:
        if blob is None:
            return None
        geometry = _stored_geometry(blob)
        return 1 if geometry is None or geometry.is_empty else 0

    con.create_function("ST_IsEmpty", 1, is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        con.create_function(name, 1, bound(index), deterministic=True)
