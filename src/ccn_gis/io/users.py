"""The users of the register and their API tokens, kept in the province's GeoPackage.

Two plain attribute tables, registered in ``gpkg_contents`` as a GeoPackage requires
(QGIS lists them as tables; the layer readers, ``validate`` and the web map ignore them,
as they ignore every table that is not a layer of the data model)::

    ccn_users (fid, name UNIQUE, role, password_hash, created_at)
    ccn_tokens(fid, token_id UNIQUE, name, token_hash, created_at)

**Passwords** are kept as argon2id hashes (``argon2-cffi``'s :class:`PasswordHasher`
with the library's defaults: 3 passes over 64 MiB, 4 lanes, a random salt each), never
as themselves. **Tokens** (``ccn_1a2b3c4d_…``: ``ccn``, a public id of 8 hex digits and
a secret of 32 random bytes, ``secrets.token_urlsafe(32)``) are shown once, when made,
and kept as the SHA-256 of the whole token. A fast hash is enough for them: a slow hash
protects secrets people choose, which can be guessed; 256 random bits cannot, however
fast each guess is. Checking a token is then a lookup by its public id and one
constant-time comparison, cheap enough for every request of a script; the token's
``created_at`` is kept, but not when it was last used, because writing the file on
every request would change its revision and make the server read the layers again.

Every change is one transaction (:func:`~ccn_gis.io.gpkg.write_transaction`): a damaged
file is not written, another writer is waited for up to ``timeout`` seconds, and a
refused or failed change leaves the file as it was. Reading the users reads these two
tables only (:func:`~ccn_gis.io.sqlite_file.open_readable`), never the layers.

Tests pass a cheaper hasher, ``hasher=PasswordHasher(time_cost=1, memory_cost=8,
parallelism=1)``, or replace :data:`HASHER` for the command line run in-process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ccn_gis.errors import DataSourceError
from ccn_gis.io.gpkg import create_attribute_table, table_changed, write_transaction
from ccn_gis.io.sqlite_file import open_readable, quoted
from ccn_gis.model import Role
from ccn_gis.users import (
    MAX_PASSWORD,
    NAME_PATTERN,
    User,
    UserError,
    UserNotFoundError,
    check_admins_remain,
    check_name,
    check_password,
)

USERS_TABLE = "ccn_users"
TOKENS_TABLE = "ccn_tokens"
HASHER = PasswordHasher()
"""How new passwords are hashed: argon2id with the library's defaults."""
TOKEN_PATTERN = re.compile(r"ccn_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
"""What a token looks like: its public id, then its secret."""
_COLUMNS = {
    USERS_TABLE: '"name" TEXT NOT NULL UNIQUE, "role" TEXT NOT NULL, '
                 '"password_hash" TEXT NOT NULL, "created_at" TEXT NOT NULL',
    TOKENS_TABLE: '"token_id" TEXT NOT NULL UNIQUE, "name" TEXT NOT NULL, '
                  '"token_hash" TEXT NOT NULL, "created_at" TEXT NOT NULL',
}
_NEEDED = {USERS_TABLE: {"name", "role", "password_hash", "created_at"},
           TOKENS_TABLE: {"token_id", "name", "token_hash", "created_at"}}
_WHAT = "the users"
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def list_users(path: str | Path) -> list[User]:
    """Return the users kept in the GeoPackage at ``path``, by name (none: ``[]``).

    Raises
    ------
    DataSourceError
        When the file cannot be read, or a user's role is not one of ccn-gis's.

    Examples
    --------
    >>> [u.name for u in list_users("layers/thai_binh.gpkg")]  # doctest: +SKIP
    ['nguyen.van.a']
    """
    rows = _read(path, f"SELECT name, role, created_at FROM {quoted(USERS_TABLE)} "
                 "ORDER BY name")
    users = []
    for name, role, created_at in rows:
        user = _user(name, role, created_at)
        if user is None:
            raise DataSourceError(
                f"{path}: table {USERS_TABLE}, user {name!r}: role {role!r} is not one of "
                f"{', '.join(Role.values())}; give one with ccn-gis user role {name} viewer")
        users.append(user)
    return users


def find_user(path: str | Path, name: str) -> User | None:
    """Return user ``name``, or None when there is none (or its role is not one).

    Raises
    ------
    DataSourceError
        When the file cannot be read.
    """
    if not NAME_PATTERN.fullmatch(name):
        return None
    rows = _read(path, f"SELECT name, role, created_at FROM {quoted(USERS_TABLE)} "
                 "WHERE name = ?", (name,))
    return _user(*rows[0]) if rows else None


def add_user(path: str | Path, name: str, role: Role | str, password: str, *,
             timeout: float = 5.0, hasher: PasswordHasher | None = None) -> User:
    """Add user ``name`` with ``role`` and ``password`` (kept as its argon2 hash).

    Raises
    ------
    UserError
        When the name or the password is not allowed, or the user exists already.
    UnknownValueError
        When ``role`` is not a role.
    DataSourceError
        When the file cannot be written; it is unchanged.

    Examples
    --------
    >>> add_user("thai_binh.gpkg", "nguyen.van.a", "editor", "mật khẩu dài")  # doctest: +SKIP
    User(name='nguyen.van.a', role=<Role.EDITOR: 'editor'>, created_at=...)
    """
    check_name(name)
    role = Role.parse(role)
    check_password(password, name=name)
    password_hash = (hasher or HASHER).hash(password)  # before the lock: it takes a while
    user = User(name, role, _now())
    with write_transaction(path, timeout=timeout, what=_WHAT) as (con, tables):
        _ensure_tables(con, tables, path)
        if _find(con, name) is not None:
            raise UserError(
                f"người dùng {name!r} đã có; đổi vai trò bằng ccn-gis user role {name} VAI_TRÒ, "
                f"hoặc xoá trước bằng ccn-gis user remove {name}",
                f"user {name!r} exists already; change the role with ccn-gis user role {name} "
                f"ROLE, or remove it first with ccn-gis user remove {name}")
        con.execute(f"INSERT INTO {quoted(USERS_TABLE)} (name, role, password_hash, "
                    "created_at) VALUES (?, ?, ?, ?)",
                    (name, role.value, password_hash, _text(user.created_at)))
        table_changed(con, tables, USERS_TABLE)
    return user


def remove_user(path: str | Path, name: str, *, timeout: float = 5.0) -> User:
    """Remove user ``name`` and its tokens; return the user removed.

    Raises
    ------
    UserNotFoundError
        When there is no such user.
    UserError
        When it is the last admin.
    DataSourceError
        When the file cannot be written; it is unchanged.
    """
    with write_transaction(path, timeout=timeout, what=_WHAT) as (con, tables):
        _ensure_tables(con, tables, path)
        user = _existing(con, name)
        check_admins_remain(_all(con), name, None)
        con.execute(f"DELETE FROM {quoted(USERS_TABLE)} WHERE name = ?", (name,))
        con.execute(f"DELETE FROM {quoted(TOKENS_TABLE)} WHERE name = ?", (name,))
        table_changed(con, tables, USERS_TABLE)
        table_changed(con, tables, TOKENS_TABLE)
    return user


def set_role(path: str | Path, name: str, role: Role | str, *, timeout: float = 5.0) -> User:
    """Give user ``name`` the role ``role``; return the user as changed.

    Raises
    ------
    UserNotFoundError
        When there is no such user.
    UserError
        When it would leave the register without an admin.
    UnknownValueError
        When ``role`` is not a role.
    DataSourceError
        When the file cannot be written; it is unchanged.
    """
    role = Role.parse(role)
    with write_transaction(path, timeout=timeout, what=_WHAT) as (con, tables):
        _ensure_tables(con, tables, path)
        user = _existing(con, name)
        check_admins_remain(_all(con), name, role)
        con.execute(f"UPDATE {quoted(USERS_TABLE)} SET role = ? WHERE name = ?",
                    (role.value, name))
        table_changed(con, tables, USERS_TABLE)
    return User(user.name, role, user.created_at)


def new_token(path: str | Path, name: str, *, timeout: float = 5.0) -> str:
    """Make an API token for user ``name`` and return it; only its hash is kept.

    Raises
    ------
    UserNotFoundError
        When there is no such user.
    DataSourceError
        When the file cannot be written; it is unchanged.
    """
    with write_transaction(path, timeout=timeout, what=_WHAT) as (con, tables):
        _ensure_tables(con, tables, path)
        _existing(con, name)
        taken = {str(i) for (i,) in con.execute(
            f"SELECT token_id FROM {quoted(TOKENS_TABLE)}")}
        token_id = secrets.token_hex(4)
        while token_id in taken:  # pragma: no cover - one in four billion
            token_id = secrets.token_hex(4)
        token = f"ccn_{token_id}_{secrets.token_urlsafe(32)}"
        con.execute(f"INSERT INTO {quoted(TOKENS_TABLE)} (token_id, name, token_hash, "
                    "created_at) VALUES (?, ?, ?, ?)",
                    (token_id, name, _token_hash(token), _text(_now())))
        table_changed(con, tables, TOKENS_TABLE)
    return token


def authenticate(path: str | Path, name: str, password: str, *,
                 hasher: PasswordHasher | None = None) -> User | None:
    """Return user ``name`` when ``password`` is theirs, else None.

    An unknown name costs as long as a wrong password (a hash is checked all the same),
    so that the answer's time does not tell which names exist.

    Raises
    ------
    DataSourceError
        When the file cannot be read.
    """
    hasher = hasher or HASHER
    rows = []
    if NAME_PATTERN.fullmatch(name) and len(password) <= MAX_PASSWORD:
        rows = _read(path, f"SELECT name, role, created_at, password_hash FROM "
                     f"{quoted(USERS_TABLE)} WHERE name = ?", (name,))
    if not rows:
        _verify(hasher, _dummy_hash(hasher), password)
        return None
    stored_name, role, created_at, password_hash = rows[0]
    if not _verify(hasher, str(password_hash), password):
        return None
    return _user(stored_name, role, created_at)


def authenticate_token(path: str | Path, token: str) -> User | None:
    """Return the user whose token ``token`` is, else None.

    Raises
    ------
    DataSourceError
        When the file cannot be read.
    """
    token_id = token_public_id(token)
    if token_id is None:
        return None
    rows = _read(path, f"SELECT t.token_hash, u.name, u.role, u.created_at FROM "
                 f"{quoted(TOKENS_TABLE)} AS t JOIN {quoted(USERS_TABLE)} AS u "
                 "ON u.name = t.name WHERE t.token_id = ?", (token_id,), TOKENS_TABLE)
    if not rows or not hmac.compare_digest(str(rows[0][0]), _token_hash(token)):
        return None
    return _user(*rows[0][1:])


def token_public_id(token: str) -> str | None:
    """The public id of ``token`` (``1a2b3c4d``), or None when it is not shaped as one.

    Examples
    --------
    >>> token_public_id("ccn_1a2b3c4d_" + 43 * "x")
    '1a2b3c4d'
    """
    match = TOKEN_PATTERN.fullmatch(token)
    return match.group(1) if match else None


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash made with ``hasher``'s parameters, to check when there is no user."""
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _text(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(name: object, role: object, created_at: object) -> User | None:
    """The user of a row, or None when its role is not one (fail closed)."""
    if str(role) not in Role.values():
        return None
    try:
        when = dt.datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
    except ValueError:
        when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return User(str(name), Role(str(role)), when)


def _read(path: str | Path, sql: str, parameters: tuple = (), table: str = USERS_TABLE
          ) -> list[tuple]:
    """The rows of ``sql``, read-only from the checked file; ``[]`` without the tables."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file; give the GeoPackage with --layers PATH "
                              "or the CCN_GIS_LAYERS environment variable")
    readable = open_readable(path)
    present = {str(n) for (n,) in readable.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
        (USERS_TABLE, TOKENS_TABLE))}
    if USERS_TABLE not in present or table not in present:
        return []
    return readable.query(sql, parameters, layer=table)


def _ensure_tables(con: sqlite3.Connection, tables: set[str], path: str | Path) -> None:
    """Create the users' tables when absent; refuse tables of that name made otherwise."""
    for table, columns in _COLUMNS.items():
        if table not in tables:
            create_attribute_table(con, table, columns)
            tables.add(table)
            continue
        found = {str(c[1]) for c in con.execute(f"PRAGMA table_info({quoted(table)})")}
        if not _NEEDED[table] <= found:
            raise DataSourceError(
                f"{path}: table {table} has not the columns ccn-gis keeps users in "
                f"({', '.join(sorted(_NEEDED[table] - found))} missing); nothing was "
                "changed. Rename or delete that table in QGIS, then add the users again")


def _find(con: sqlite3.Connection, name: str) -> User | None:
    row = con.execute(f"SELECT name, role, created_at FROM {quoted(USERS_TABLE)} "
                      "WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    return _user(*row) or User(str(row[0]), Role.VIEWER, _now())  # an unknown role: renamable


def _existing(con: sqlite3.Connection, name: str) -> User:
    user = _find(con, name)
    if user is None:
        raise UserNotFoundError(
            f"không có người dùng {name!r}; xem danh sách bằng ccn-gis user list",
            f"no user {name!r}; see the users with ccn-gis user list")
    return user


def _all(con: sqlite3.Connection) -> list[User]:
    rows = con.execute(f"SELECT name, role, created_at FROM {quoted(USERS_TABLE)}")
    return [u for u in (_user(*row) for row in rows) if u is not None]
