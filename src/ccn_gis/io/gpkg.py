"""The GeoPackage store: bulk reads with pyogrio, record by record with fiona on failure.

A store is read whole or not at all. When it opens, the file is checked
(:func:`ccn_gis.io.sqlite_file.open_readable`: ``PRAGMA quick_check``, no other program
writing it), and each layer read is compared with its row count in SQLite. A file in WAL
mode (QGIS editing it) is read from a private copy with its ``-wal``, because GDAL would
otherwise fold the ``-wal`` into the file. Curved geometries are turned into straight
segments, with a warning.

The file is only ever opened read-only; nothing here writes to it except
:func:`write_settings`, which a user calls on purpose, and :func:`write_transaction`, the
one way ccn-gis writes a GeoPackage (the settings, the users of :mod:`ccn_gis.io.users`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fiona
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError
from pyogrio.errors import DataSourceError as _PyogrioSourceError
from pyproj import CRS

from ccn_gis.errors import DataSourceError, LayerNotFoundError
from ccn_gis.io.curves import arc_positions, curve_positions, gpkg_wkb, has_arcs
from ccn_gis.io.sqlite_file import (
    being_written,
    damaged,
    file_revision,
    is_lock_message,
    open_readable,
    quoted,
    unreadable,
)
from ccn_gis.model import LAYERS, SETTINGS_TABLE
from ccn_gis.problems import Problem, Severity
from ccn_gis.stored import RawLayer
from ccn_gis.validation import feature_label

_BULK_ERRORS = (_PyogrioSourceError, DataLayerError, OSError, ValueError,
                shapely.errors.GEOSException)


class GeoPackageStore:
    """Layers kept in one GeoPackage file.

    Parameters
    ----------
    path
        The ``.gpkg`` file.

    Raises
    ------
    DataSourceError
        When the file does not exist, is not a readable GeoPackage, is damaged, or is
        being written by another program (or was left half written by one).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataSourceError(
                f"{self.path}: no such file; give the GeoPackage with --layers PATH "
                "or the CCN_GIS_LAYERS environment variable"
            )
        self._file = open_readable(self.path)
        try:
            listed = pyogrio.list_layers(self._file.path)
        except (_PyogrioSourceError, OSError) as err:
            if is_lock_message(str(err)):
                raise being_written(self.path, str(err)) from err
            raise unreadable(self.path, str(err)) from err
        self._geometry_types = {str(name): gtype for name, gtype in listed}

    @property
    def source(self) -> str:
        """The path of the file."""
        return str(self.path)

    @property
    def revision(self) -> str:
        """The revision of the data this store reads: the file's as it was checked."""
        return self._file.revision

    def latest_revision(self) -> str:
        """The revision of the file now (:func:`~ccn_gis.io.sqlite_file.file_revision`)."""
        return file_revision(self.path)

    def layer_names(self) -> tuple[str, ...]:
        """Return the names of the file's layers and tables."""
        return tuple(self._geometry_types)

    def read_layer(self, name: str) -> RawLayer:
        """Return layer ``name``, falling back to fiona to name unreadable features.

        Raises
        ------
        LayerNotFoundError
            When the file has no layer ``name``.
        DataSourceError
            When fewer rows could be read than the table holds (a damaged file), or
            another program is writing the file.
        """
        if name not in self._geometry_types:
            raise LayerNotFoundError(f"{self.path}: no layer {name!r}")
        geometry_type = self._geometry_types[name]
        try:
            frame, arcs = _read_arrow_layer(self._file.path, name)
        except _BULK_ERRORS as err:
            if is_lock_message(str(err)):
                raise being_written(self.path, str(err)) from err
            return self._read_record_by_record(name, geometry_type, err)
        self._check_complete(name, len(frame))
        crs = _layer_crs(frame) if geometry_type is not None else None
        problems = (_curve_warning(name, frame, arcs),) if arcs else ()
        return RawLayer(name, frame, crs, geometry_type, problems)

    def _check_complete(self, name: str, read: int) -> None:
        """Refuse layer ``name`` when ``read`` rows are fewer or more than its table holds.

        SQLite stops reading a table at a damaged page without an error; GDAL and fiona
        then hand over the rows before it as if they were all.
        """
        total = self._file.count_rows(name)
        if read == total:
            return
        if not self._file.copied and self._file.changed():
            raise being_written(self.path, f"layer {name!r} changed while it was read")
        raise damaged(self.path, f"{read:,} of the table's {total:,} rows could be read", name)

    def _read_record_by_record(
        self, name: str, geometry_type: str | None, err: Exception
    ) -> RawLayer:
        """Read what can be read with fiona, one problem per feature that cannot."""
        problems: list[Problem] = []
        rows: list[dict] = []
        fids: list[int] = []
        geoms = []
        crs: CRS | None = None
        try:
            with fiona.open(self._file.path, layer=name) as src:
                crs = CRS.from_user_input(src.crs.to_wkt()) if src.crs else None
                iterator = iter(src)
                position = 0
                while True:
                    position += 1
                    try:
                        feature = next(iterator)
                    except StopIteration:
                        break
                    except Exception as bad:  # noqa: BLE001 - fiona raises many kinds here
                        if is_lock_message(str(bad)):
                            raise
                        problems.append(
                            Problem(name, f"fid {position}", "geometry",
                                    f"the feature cannot be read ({bad})",
                                    "delete or redraw this feature in QGIS")
                        )
                        continue
                    fids.append(int(feature.id))
                    rows.append(dict(feature.properties))
                    geom = feature.geometry  # fiona makes curves straight segments
                    geoms.append(shapely.geometry.shape(geom) if geom is not None else None)
        except Exception as bad:  # noqa: BLE001
            if is_lock_message(f"{err} {bad}"):
                raise being_written(self.path, str(bad)) from bad
            raise DataSourceError(
                f"{self.path}: layer {name!r} cannot be read ({err}; {bad}); open it in QGIS "
                "and export it again"
            ) from bad
        self._check_complete(name, len(fids) + len(problems))
        frame = pd.DataFrame(rows, index=pd.Index(fids, name="fid"))
        if geometry_type is not None:
            frame = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
            arcs = self._stored_arcs(name, fids)
            if arcs:
                problems.append(_curve_warning(name, frame, arcs))
        if not any(p.is_error for p in problems):
            problems.append(
                Problem(name, None, None, f"the layer could not be read in bulk ({err})",
                        "open it in QGIS and export it again")
            )
        return RawLayer(name, frame, crs, geometry_type, tuple(problems))

    def _stored_arcs(self, name: str, fids: list[int]) -> list[int]:
        """The features among ``fids`` whose geometry, as stored, holds circular arcs."""
        # safe: identifiers (the layer's table and columns, from the file's own schema) are
        # quoted; the one value is a parameter
        table = quoted(name)
        columns = self._file.query(f"PRAGMA table_info({table})", layer=name)
        key = next((str(c[1]) for c in columns if c[5] == 1), "fid")
        geometry = self._file.query(
            "SELECT column_name FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
            (name,), layer=name)
        if not geometry:
            return []
        wanted = set(fids)
        stored = [(int(fid), gpkg_wkb(blob)) for fid, blob in self._file.query(
            f"SELECT {quoted(key)}, {quoted(str(geometry[0][0]))} FROM {table}", layer=name)
            if fid in wanted and isinstance(blob, bytes) and len(blob) >= 13]
        curved = [stored[i] for i in curve_positions(wkb for _, wkb in stored)]
        found = []
        for fid, wkb in curved:
            try:
                if has_arcs(wkb):
                    found.append(fid)
            except ValueError:  # unreadable: the read has named it already
                continue
        return found

    def read_settings(self) -> dict[str, str | None]:
        """Return the rows of the ``ccn_settings`` table, or ``{}`` when it is absent."""
        if SETTINGS_TABLE not in self._geometry_types:
            return {}
        frame = pyogrio.read_dataframe(self._file.path, layer=SETTINGS_TABLE,
                                       read_geometry=False)
        self._check_complete(SETTINGS_TABLE, len(frame))
        if "key" not in frame.columns or "value" not in frame.columns:
            return {}
        return {
            str(k): (None if pd.isna(v) else str(v))
            for k, v in zip(frame["key"], frame["value"], strict=True)
        }


def _read_arrow_frame(path: Path, name: str) -> pd.DataFrame:
    """Layer ``name`` as ``pyogrio.read_dataframe(use_arrow=True, fid_as_index=True)``
    returns it (``tests/test_validation.py`` compares them), a fifth faster on 500,000
    parcels: the WKB column is decoded straight from Arrow instead of passing through
    pandas first.
    """
    return _read_arrow_layer(path, name)[0]


def _read_arrow_layer(path: Path, name: str) -> tuple[pd.DataFrame, list[int]]:
    """Layer ``name`` as :func:`_read_arrow_frame` returns it, and the fids of its features
    whose circular arcs were turned into straight segments."""
    meta, table = pyogrio.read_arrow(path, layer=name, return_fids=True)
    try:  # text that is not UTF-8 (a damaged page, a wrong encoding) fails only later
        table.validate(full=True)
    except pa.ArrowInvalid as err:
        raise ValueError(f"text that is not UTF-8 ({err})") from err
    geometry_name = meta["geometry_name"] or "wkb_geometry"
    wkb = table.column(geometry_name) if geometry_name in table.column_names else None
    if wkb is not None:
        table = table.drop_columns([geometry_name])
    frame = table.to_pandas().set_index(meta["fid_column"])
    frame.index.names = ["fid"]
    if wkb is None:
        return frame, []
    values = wkb.to_numpy(zero_copy_only=False)
    try:
        geometries = shapely.from_wkb(values)
        arcs: list[int] = []
    except NotImplementedError:  # shapely's answer to curved WKB (GEOS cannot decode it)
        geometries, arcs = _linearised(path, name, values, frame.index.to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geometries, crs=meta["crs"]), arcs


def _linearised(
    path: Path, name: str, wkbs: np.ndarray, fids: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """Decode ``wkbs``, asking GDAL for straight-segment versions of the curved ones.

    GDAL makes them as ``ogr2ogr -nlt CONVERT_TO_LINEAR`` does (an arc becomes segments
    of at most 4°, ``OGR_ARC_STEPSIZE``); only those features are read again.

    Returns
    -------
    geometries, arcs
        The geometries in the order of ``wkbs``, and the fids of the features whose
        geometry held circular arcs (curve types with straight parts only convert exactly).

    Raises
    ------
    ValueError
        When a curved feature cannot be read again, or its WKB is malformed.
    """
    curved = curve_positions(wkbs)
    straight = wkbs.copy()
    straight[curved] = None
    geometries = shapely.from_wkb(straight)
    # a few features by fid; most of the layer (a MULTISURFACE layer) in one pass, 3x faster
    by_fid = len(curved) * 4 < len(wkbs)
    _, read, linear, _ = pyogrio.raw.read(path, layer=name, columns=[], return_fids=True,
                                          fids=fids[curved] if by_fid else None)
    if read is None:
        raise ValueError(f"{len(curved)} curved features could not be read again")
    position = pd.Index(fids).get_indexer(read)
    again = np.isin(position, curved) if not by_fid else np.ones(len(read), dtype=bool)
    if (position < 0).any() or again.sum() != len(curved):
        raise ValueError(f"{len(curved)} curved features could not be read again")
    geometries[position[again]] = shapely.from_wkb(linear[again])
    arcs = [int(fids[curved[i]]) for i in arc_positions(list(wkbs[curved]))]
    return geometries, arcs


def _curve_warning(name: str, frame: pd.DataFrame, fids: list[int]) -> Problem:
    """The warning naming the features of layer ``name`` whose arcs were made straight."""
    spec = LAYERS.get(name)
    labels = [feature_label(frame, spec, fid) if spec is not None else f"fid {fid}"
              for fid in fids]
    count = len(labels)
    more = count - 5
    shown = ", ".join(labels[:5]) + (f" and {more:,} more" if more > 0 else "")
    shown_vi = ", ".join(labels[:5]) + (f" và {more:,} đối tượng khác" if more > 0 else "")
    features = "1 feature" if count == 1 else f"{count:,} features"
    verb = "was" if count == 1 else "were"
    return Problem(
        name, labels[0] if count == 1 else None, "geometry",
        f"{features} with curved geometry {verb} turned into straight segments ({shown}); "
        "areas may differ slightly from QGIS",
        "nothing to do if that is close enough; for the same areas everywhere, turn the "
        "arcs into vertices in QGIS (Processing Toolbox → Segmentize by maximum angle) "
        "and save the layer",
        Severity.WARNING,
        f"{count:,} đối tượng có hình cong đã được chuyển thành các đoạn thẳng ({shown_vi}); "
        "diện tích có thể hơi khác so với QGIS",
        "không cần sửa nếu sai khác này chấp nhận được; để diện tích giống nhau ở mọi nơi, "
        "chuyển các cung thành đỉnh trong QGIS (Processing Toolbox → Segmentize by maximum "
        "angle) rồi lưu lớp",
    )


def _layer_crs(frame: pd.DataFrame) -> CRS | None:
    crs = getattr(frame, "crs", None)
    return CRS.from_user_input(crs) if crs is not None else None


def write_settings(
    path: str | Path, rows: dict[str, str], *, update: bool = False, timeout: float = 5.0
) -> dict[str, str]:
    """Write the ``ccn_settings`` table of the GeoPackage at ``path``, in one transaction.

    ``rows`` replaces the table or, with ``update``, is applied over the rows already there.
    An empty value removes its row: the key takes its default. The table that would result
    is checked first, every key and the rule thresholds' ranges
    (:func:`ccn_gis.settings.check_settings`); when a value is wrong nothing is written.
    A damaged file (``PRAGMA quick_check``) is not written to. The rows are written in one
    SQLite transaction: another program sees the old table or
    the new one, and a write cut short (killed, power lost) is rolled back by SQLite when
    the file is next opened. It waits up to ``timeout`` seconds for another program writing
    the file to finish.

    Returns
    -------
    dict
        The rows as written, ``key → value``.

    Raises
    ------
    SettingsError
        Naming each key whose value is malformed or out of range; the file is unchanged.
    DataSourceError
        When the file is missing, is not a GeoPackage, is damaged, is read-only, or is
        being written by another program for longer than ``timeout``; the file is
        unchanged.

    Examples
    --------
    >>> write_settings("nam_dinh.gpkg", {"area_crs": "EPSG:9210"}, update=True)  # doctest: +SKIP
    {'province_name': 'Nam Định', 'area_crs': 'EPSG:9210'}
    """
    from ccn_gis.errors import SettingsError
    from ccn_gis.settings import check_settings

    path = Path(path)
    table = SETTINGS_TABLE
    # safe: the identifier below is the constant SETTINGS_TABLE, quoted; every value is a
    # parameter (SQLite cannot take a table name as one)
    name = quoted(table)

    def refuse(rows: dict[str, str], where: str, *, pairs: bool = True) -> None:
        errors = [str(i) for i in check_settings(rows, pairs=pairs) if i.is_error]
        if errors:
            raise SettingsError(f"{path}: table {table}: {'; '.join(errors)}. {where}Nothing "
                                "was written; give an allowed value, or KEY= to take the "
                                "default")

    if not path.is_file():
        raise DataSourceError(f"{path}: no such file; give the GeoPackage with --layers PATH "
                              "or the CCN_GIS_LAYERS environment variable")
    # each value on its own before waiting for a lock; the pairs once the table is known
    refuse({k: v for k, v in rows.items() if str(v).strip()}, "", pairs=not update)
    with write_transaction(path, timeout=timeout, what="the settings") as (con, tables):
        current: dict[str, str] = {}
        if table in tables:
            # safe: name is the constant SETTINGS_TABLE, quoted
            columns = {str(c[1]) for c in con.execute(f"PRAGMA table_info({name})")}
            if not {"key", "value"} <= columns:
                raise DataSourceError(
                    f"{path}: table {table} has no columns key and value ({sorted(columns)}); "
                    "rename or delete that table in QGIS, then set the settings again")
            if update:
                current = {str(k): "" if v is None else str(v) for k, v in con.execute(
                    f"SELECT key, value FROM {name} WHERE key IS NOT NULL ORDER BY fid")}
        merged = {**current, **rows} if update else dict(rows)
        final = {k: str(v) for k, v in merged.items() if str(v).strip()}
        refuse(final, "Rows already in the file count too: fix them in the same command. ")
        if table in tables:
            con.execute(f"DELETE FROM {name}")  # safe: the constant SETTINGS_TABLE, quoted
        else:
            create_attribute_table(con, table, '"key" TEXT, "value" TEXT')
        con.executemany(f"INSERT INTO {name} (key, value) VALUES (?, ?)",
                        list(final.items()))
        table_changed(con, tables, table)
    return final


@contextmanager
def write_transaction(
    path: str | Path, *, timeout: float = 5.0, what: str = "the settings"
) -> Iterator[tuple[sqlite3.Connection, set[str]]]:
    """One write to the GeoPackage at ``path``: all of it, or nothing.

    Yields a connection inside a ``BEGIN IMMEDIATE`` transaction (the write lock taken,
    waiting up to ``timeout`` seconds for another program writing the file) and the
    names of the file's tables and views. The file has passed ``PRAGMA quick_check``
    and has a ``gpkg_contents`` table. Leaving the block commits; an exception rolls
    back, so a refused or failed write leaves the file unchanged, and a write cut short
    (killed, power lost) is rolled back by SQLite when the file is next opened. An
    SQLite error becomes a :class:`DataSourceError` saying what to do; ``what`` names
    what was being written in its messages.

    Raises
    ------
    DataSourceError
        When the file is missing, is not a GeoPackage, is damaged, is read-only, the
        disk is full, or another program writes it for longer than ``timeout``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file; give the GeoPackage with --layers PATH "
                              "or the CCN_GIS_LAYERS environment variable")
    try:  # mode=rw: never create a file; isolation_level None: the transaction is ours
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout,
                              isolation_level=None)
    except sqlite3.Error as err:
        raise _write_failure(path, err, timeout, what) from err
    try:
        con.execute("BEGIN IMMEDIATE")  # the write lock now, waiting up to timeout for it
        damage = [str(row[0]) for row in con.execute("PRAGMA quick_check(1)")]
        if damage != ["ok"]:  # writing would spread the damage: leave the file as it is
            raise DataSourceError(
                f"{path}: the file is damaged ({' '.join(damage[0].split()) if damage else '?'}); "
                "nothing was changed. Open it in QGIS and export the layers again, or go "
                "back to a copy")
        tables = {str(n) for (n,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        if "gpkg_contents" not in tables:
            raise DataSourceError(
                f"{path}: not a GeoPackage (no gpkg_contents table); {what} are kept "
                "in the province's GeoPackage; export the layers as one from QGIS")
        yield con, tables
        con.execute("COMMIT")
    except sqlite3.Error as err:
        raise _write_failure(path, err, timeout, what) from err
    except UnicodeDecodeError as err:  # names or values that are not UTF-8
        raise DataSourceError(
            f"{path}: the file holds text that is not UTF-8 ({err.reason} at byte "
            f"{err.start}): it is damaged, or was written by a program using another "
            "encoding; nothing was changed. Open it in QGIS and export the layers again"
        ) from err
    finally:
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:  # pragma: no cover - SQLite rolls back on close anyway
                pass
        con.close()


def create_attribute_table(con: sqlite3.Connection, table: str, columns: str) -> None:
    """Create ``table`` with a GeoPackage's ``fid`` key and ``columns`` (SQL), and register
    it in ``gpkg_contents`` as ``attributes``, as a GeoPackage requires of every table."""
    # safe: table is a constant of ccn-gis (ccn_users, ccn_history…), quoted; columns are
    # its constant definitions in ccn-gis's code, never a user's text
    con.execute(f'CREATE TABLE {quoted(table)} ("fid" INTEGER PRIMARY KEY AUTOINCREMENT '
                f"NOT NULL, {columns})")
    con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES (?, 'attributes', ?, '', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", (table, table))


def table_changed(con: sqlite3.Connection, tables: set[str], table: str) -> None:
    """Record in ``gpkg_contents`` (and GDAL's ``gpkg_ogr_contents``) that ``table``
    changed: its time of change and its row count, which GDAL trusts."""
    # safe: no text is built here: the SQL is a literal, the table's name a parameter
    con.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', "
                "'now') WHERE table_name = ?", (table,))
    if "gpkg_ogr_contents" in tables:  # GDAL's feature counts
        # safe: table is a ccn-gis table or a layer of the data model (LAYERS) that the
        # register wrote, never a name a client sent; quoted
        count = con.execute(f"SELECT COUNT(*) FROM {quoted(table)}").fetchone()[0]
        con.execute("DELETE FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)",
                    (table,))
        con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) "
                    "VALUES (?, ?)", (table, count))


def _write_failure(path: Path, err: sqlite3.Error, timeout: float, what: str
                   ) -> DataSourceError:
    """What an SQLite error while writing means, and what to do."""
    name = f"{getattr(err, 'sqlite_errorname', '')} {err}".lower()
    if "busy" in name or "locked" in name:
        return DataSourceError(
            f"{path}: the file is being written by another program (QGIS, another "
            f"ccn-gis?), still after {timeout:g} s; nothing was changed. Try again when it "
            "has finished, or close the layers' editing session there")
    if "readonly" in name or "cantopen" in name or "unable to open" in name:
        return DataSourceError(
            f"{path}: the file is read-only, or its folder is (SQLite writes a journal "
            f"beside it) ({err}); nothing was changed. Make both writable, or copy the "
            "file somewhere you may write and give the copy with --layers")
    if "full" in name:
        return DataSourceError(f"{path}: the disk is full ({err}); nothing was changed. "
                               "Free some space and try again")
    if "notadb" in name or "corrupt" in name or "not a database" in name \
            or "malformed" in name:
        return DataSourceError(
            f"{path}: not a GeoPackage, or a damaged one ({err}); nothing was changed. "
            "Open it in QGIS to check, or export the layers again as a GeoPackage")
    return DataSourceError(f"{path}: {what} could not be written ({err}); nothing "
                           "was changed")
