"""Reading a GeoPackage's SQLite file whole or not at all, and without ever writing to it.

Three things stand between a read-only command and the data in the file:

- **Damage.** A damaged page makes SQLite (and so GDAL and fiona) stop reading a
  table without an error: half the parcels come out and the figures look plausible.
  :func:`open_readable` runs ``PRAGMA quick_check`` once, and :meth:`ReadableFile.count_rows`
  gives the real row count to compare each layer with once it is read.
- **Another writer.** A write lock held, or a hot ``-journal`` left by a program killed
  while writing, is refused with "being written by another program". The file is never
  opened while a hot journal is beside it, because opening it would roll the journal back.
- **WAL mode.** Every reader of a GeoPackage in WAL mode writes to it: while QGIS has it
  open, GDAL (pyogrio, fiona) and even a ``mode=ro`` SQLite connection write their read
  marks into the ``-shm``; when no program has it open (QGIS closed or crashed), GDAL
  closing it copies the ``-wal`` into the file and deletes the ``-wal`` and ``-shm``; a
  ``mode=ro`` connection leaves a new ``-wal`` and ``-shm`` behind when there were none. In
  a read-only folder GDAL retries with ``IMMUTABLE=YES``, ignores the ``-wal`` and stale
  data comes out. So a file in WAL mode, or with a ``-wal`` beside it, is read from a
  private copy of the file and its ``-wal`` in a temporary folder. The folder is removed
  when the last store using it is gone, or at the latest when the process exits.

Every other file is read in place, through read-only connections
(``file:…?mode=ro``) that cannot write to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from ccn_gis.errors import DataSourceError

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT = 1.0
"""Seconds to wait for another program's write lock before refusing the file."""
COPY_ATTEMPTS = 3
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 5, 6, 8
_SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 14, 26


def damaged(
    source: str | Path, detail: str, layer: str | Sequence[str] | None = None
) -> DataSourceError:
    """The error for a file whose pages or rows cannot all be read (in ``layer``)."""
    names = [layer] if isinstance(layer, str) else list(layer or ())
    plural = "s" if len(names) > 1 else ""
    where = f", layer{plural} {', '.join(map(repr, names))}" if names else ""
    return DataSourceError(
        f"{source}{where}: the file is damaged ({detail}); restore it from a backup, or open "
        "it in QGIS and export the layers again into a new GeoPackage"
    )


def being_written(
    source: str | Path, detail: str, journal: Path | None = None
) -> DataSourceError:
    """The error for a file another program holds locked, or left half written."""
    keep = f"; do not delete {journal.name}, it holds what is needed to undo that change" \
        if journal is not None else ""
    return DataSourceError(
        f"{source} is being written by another program (or a program stopped while writing "
        f"it: {detail}); try again when it has finished. If no program has the file open, "
        "open it once in QGIS, which finishes or undoes the interrupted change, and try "
        f"again{keep}"
    )


def unreadable(source: str | Path, detail: str) -> DataSourceError:
    """The error for a file that is not a GeoPackage at all."""
    return DataSourceError(
        f"{source}: not a readable GeoPackage ({detail}); open it in QGIS to check, "
        "or export the layers again with 'Save Features As… → GeoPackage'"
    )


def is_lock_message(text: str) -> bool:
    """Whether an SQLite or GDAL error message says another program is writing."""
    text = text.lower()
    return "database is locked" in text or "database table is locked" in text or \
        "attempt to write a readonly database" in text


def sqlite_failure(
    err: sqlite3.Error, source: str | Path, layer: str | None = None
) -> DataSourceError:
    """The :class:`DataSourceError` that tells the user what an SQLite error means."""
    code = getattr(err, "sqlite_errorcode", None)  # Python 3.11+; the message before
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(err)
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY) or is_lock_message(text):
        return being_written(source, text)
    if primary == _SQLITE_NOTADB or "not a database" in text:
        return unreadable(source, text)
    if primary == _SQLITE_CANTOPEN:
        return DataSourceError(
            f"{source}: the file cannot be opened ({text}); check that you may read it and "
            "the folder it is in"
        )
    return damaged(source, text, layer)


def quoted(name: str) -> str:
    """``name`` as an SQL identifier: ``"name"``, inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def connect(path: Path) -> sqlite3.Connection:
    """A connection that cannot write to ``path``.

    Its pages are read, never mapped into memory: SQLite reading a damaged file through a
    memory map can crash the process (seen with SQLite 3.40 on a fuzzed GeoPackage)
    where a plain read reports "database disk image is malformed". Text that is not
    UTF-8 (a damaged page, or a message quoting one) is decoded with replacement
    characters instead of failing.
    """
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, check_same_thread=False)
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")
    return con


def _identity(path: Path) -> tuple[tuple[int, ...] | None, ...]:
    """What changes when any program writes to the file, its ``-wal`` or its ``-journal``.

    The inode, size and modification time of each, and the file's own change counter
    (bytes 24–27 of an SQLite header, raised by every transaction that writes the file
    in place): two writes within the file system's clock tick, which leave size and time
    as they were, still differ by it.
    """
    found: list[tuple[int, ...] | None] = []
    for suffix in ("", "-wal", "-journal"):
        try:
            stat = _beside(path, suffix).stat()
        except FileNotFoundError:
            found.append(None)
        else:
            found.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    try:
        with path.open("rb") as f:
            header = f.read(28)
    except OSError:
        header = b""
    found.append((int.from_bytes(header[24:28], "big"),) if len(header) == 28 else None)
    return tuple(found)


def file_revision(path: Path) -> str:
    """The revision of the file now: a short text that changes whenever any program
    writes to it (its ``-wal`` and ``-journal`` included), and only then.

    It costs three ``stat`` calls and one 28-byte read, so a server can ask on every
    request whether the file it serves is still the one it read.
    """
    return _revision(_identity(path))


def _revision(identity: tuple[tuple[int, ...] | None, ...]) -> str:
    return hashlib.blake2b(repr(identity).encode(), digest_size=8).hexdigest()


def _hot_journal(path: Path) -> Path | None:
    """The ``-journal`` beside ``path`` when SQLite would have to roll it back.

    An empty journal (``journal_mode=TRUNCATE``) or one whose header is zeroed
    (``PERSIST``) belongs to a finished transaction; anything else is an unfinished one,
    whether its writer is still running or was killed.
    """
    journal = _beside(path, "-journal")
    try:
        with journal.open("rb") as f:
            first = f.read(1)
    except FileNotFoundError:
        return None
    except OSError:  # unreadable: SQLite will say what it makes of it
        return None
    return journal if first not in (b"", b"\x00") else None


class ReadableFile:
    """A GeoPackage checked whole, and the path to read it from.

    Build one with :func:`open_readable`. ``path`` is the file itself, or a private copy
    (with its ``-wal``) when the file is in WAL mode; ``source`` is always the file the
    user named, for messages. Its one read-only connection (shared by threads, one query
    at a time) and the private copy are released when it is garbage collected, or at the
    latest when the process exits.
    """

    def __init__(self, source: Path, path: Path, folder: Path | None = None) -> None:
        self.source = source
        self.path = path
        self.copied = folder is not None
        self._identity = _identity(source)
        self.revision = _revision(self._identity)
        """The file's :func:`file_revision` when it was checked: the data read from it."""
        self._lock = threading.Lock()
        self._connection: list[sqlite3.Connection] = []  # made on first use
        weakref.finalize(self, _release, self._connection, folder)

    def changed(self) -> bool:
        """Whether a program wrote to the file since it was checked."""
        return _identity(self.source) != self._identity or _hot_journal(self.source) is not None

    def query(self, sql: str, parameters: tuple = (), layer: str | None = None
              ) -> list[tuple]:
        """Return the rows of ``sql`` with its ``parameters``, run read-only on the file read.

        Values go in ``parameters``; an identifier (a layer's table, its columns), which
        SQLite cannot take as one, is written with :func:`quoted`.

        Raises
        ------
        DataSourceError
            When SQLite cannot run it: the file is damaged, locked or unreadable.
        """
        try:
            return self._run(sql, parameters)
        except sqlite3.Error as err:
            raise sqlite_failure(err, self.source, layer) from err

    def count_rows(self, table: str) -> int:
        """Return the number of rows of ``table``, counted by SQLite."""
        # safe: the table's name is an identifier of the file's own schema, quoted
        return int(self.query(f"SELECT COUNT(*) FROM {quoted(table)}", layer=table)[0][0])

    def _run(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        with self._lock:
            if not self._connection:
                self._connection.append(connect(self.path))
            return _fetch(self._connection[0], sql, parameters)


def _release(connection: list[sqlite3.Connection], folder: Path | None) -> None:
    for con in connection:
        con.close()
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


_RECENT: OrderedDict[tuple, ReadableFile] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_SIZE = 2  # `ccn-gis serve` opens the same file three times: check and copy it once


def open_readable(path: Path) -> ReadableFile:
    """Check the GeoPackage at ``path`` and return where to read it from.

    Files that do not start like an SQLite database are returned unchecked, for
    GDAL to say what it makes of them.

    Raises
    ------
    DataSourceError
        When the file is damaged, being written by another program, or cannot be read
        (or copied, in WAL mode).
    """
    try:
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as err:
        raise DataSourceError(
            f"{path}: the file cannot be opened ({err}); check that you may read it"
        ) from err
    if not header.startswith(SQLITE_MAGIC):
        return ReadableFile(path, path)
    journal = _hot_journal(path)
    if journal is not None:
        raise being_written(path, f"{journal.name} beside it holds an unfinished change",
                            journal)
    key = (str(path.resolve()), _identity(path))
    with _RECENT_LOCK:
        if key in _RECENT:
            _RECENT.move_to_end(key)
            return _RECENT[key]
        wal_mode = len(header) > 19 and 2 in (header[18], header[19])
        if wal_mode or _beside(path, "-wal").exists():
            folder, copy = _private_copy(path)
            readable = ReadableFile(path, copy, folder)
            _out_of_wal_mode(readable)
        else:
            readable = ReadableFile(path, path)
        _quick_check(readable)
        _RECENT[key] = readable
        while len(_RECENT) > _RECENT_SIZE:
            _RECENT.popitem(last=False)
        return readable


def _quick_check(readable: ReadableFile) -> None:
    """``PRAGMA quick_check``: every page of every table and index is readable and in place.

    It reads the whole file once (0.13 s for 500,000 parcels from the page cache); unlike
    ``integrity_check`` it does not compare indexes with their tables, which the layers do
    not use. When it fails, each table is checked on its own to name the damaged ones.
    """
    try:
        rows = readable._run("PRAGMA quick_check(5)")
    except sqlite3.Error as err:
        failure = sqlite_failure(err, readable.source)
        if not _is_damage(err):
            raise failure from err
        detail = str(err)
    else:
        if rows == [("ok",)]:
            return
        lines = [line for (row,) in rows for line in str(row).splitlines()
                 if line and not line.startswith("***")]
        detail = "; ".join(lines[:2]) + ("; …" if len(lines) > 2 else "")
    layers, others = _damaged_tables(readable.path)
    if others:
        detail += f", in table{'s' if len(others) > 1 else ''} " + ", ".join(map(repr, others))
    raise damaged(readable.source, detail, layers)


def _is_damage(err: sqlite3.Error) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == _SQLITE_CORRUPT) or \
        "malformed" in str(err)


def _damaged_tables(path: Path) -> tuple[list[str], list[str]]:
    """The layers (tables of ``gpkg_contents``) and other tables that fail quick_check."""
    try:
        tables = [str(n) for (n,) in _run(
            path, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rootpage")]
        layers = {str(n) for (n,) in _run(path, "SELECT table_name FROM gpkg_contents")}
    except sqlite3.Error:  # the schema itself is damaged
        return [], []
    bad = []
    for table in tables:
        try:
            # safe: a table named by the file's own schema, quoted
            ok = _run(path, f"PRAGMA quick_check({quoted(table)})") == [("ok",)]
        except sqlite3.Error:
            ok = False
        if not ok:
            bad.append(table)
    return [t for t in bad if t in layers], [t for t in bad if t not in layers]


def _run(path: Path, sql: str) -> list[tuple]:
    con = connect(path)
    try:
        return _fetch(con, sql)
    finally:
        con.close()


def _fetch(con: sqlite3.Connection, sql: str, parameters: tuple = ()) -> list[tuple]:
    """The rows of ``sql``; an error whose message is not UTF-8 (it quotes bytes of a
    damaged page, which Python cannot decode) is reported as the damage it is."""
    try:
        return con.execute(sql, parameters).fetchall()
    except UnicodeDecodeError as err:
        raise sqlite3.DatabaseError("database disk image is malformed (SQLite's message "
                                    "quotes unreadable bytes)") from err


def _out_of_wal_mode(readable: ReadableFile) -> None:
    """Fold the private copy's ``-wal`` into it and take it out of WAL mode.

    GDAL and Python's ``sqlite3`` are two SQLite libraries in one process: closing the
    copy, GDAL would drop the locks of the checks' connection and fold the ``-wal`` in under
    it. A copy in rollback mode is read by both without that.
    """
    try:
        con = sqlite3.connect(readable.path, isolation_level=None, timeout=BUSY_TIMEOUT)
        try:
            con.execute("PRAGMA journal_mode = DELETE").fetchall()
        finally:
            con.close()
    except sqlite3.Error as err:
        raise sqlite_failure(err, readable.source) from err


def _copy_state(path: Path) -> tuple[object, ...]:
    """What a copy of the file and its ``-wal`` must not see change while it is made.

    New transactions appended to the ``-wal`` are harmless: a half-copied one is ignored
    by SQLite. A checkpoint (which writes the file) or a restarted ``-wal`` (a new header)
    would mix two states.
    """
    stat = path.stat()
    try:
        with _beside(path, "-wal").open("rb") as f:
            wal_header = f.read(32)
    except FileNotFoundError:
        wal_header = None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, wal_header


COPY_PREFIX = "ccn-gis-wal-"
"""The temporary folders of private copies: ``ccn-gis-wal-<pid>-…``."""


def sweep_copies(root: Path | None = None) -> list[Path]:
    """Remove the private copies left by processes no longer running (``kill -9``).

    Only folders named ``ccn-gis-wal-<pid>-…`` whose process is gone are removed.
    """
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{COPY_PREFIX}*-*"):
        pid = folder.name[len(COPY_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except OSError:  # it exists, run by someone else
            continue
    return removed


def _private_copy(path: Path) -> tuple[Path, Path]:
    """Copy the file and its ``-wal`` into a new temporary folder; return both paths."""
    sweep_copies()
    folder = Path(tempfile.mkdtemp(prefix=f"{COPY_PREFIX}{os.getpid()}-"))
    copy = folder / path.name
    try:
        for _ in range(COPY_ATTEMPTS):
            before = _copy_state(path)
            shutil.copyfile(path, copy)
            try:
                shutil.copyfile(_beside(path, "-wal"), _beside(copy, "-wal"))
            except FileNotFoundError:
                _beside(copy, "-wal").unlink(missing_ok=True)
            if _copy_state(path) == before:
                return folder, copy
    except OSError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise DataSourceError(
            f"{path}: the file is in WAL mode (QGIS keeps it so while editing) and cannot be "
            f"copied to be read without changing it ({err}); free some space in "
            f"{tempfile.gettempdir()}, or set TMPDIR to a folder with room"
        ) from err
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    raise being_written(path, "it changed each time it was copied to be read")
