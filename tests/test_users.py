"""Users and roles: the rules of names and passwords, the users' tables in the GeoPackage,
and the ``ccn-gis user`` commands (run in-process on a copy of the sample)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest
from argon2 import PasswordHasher

from ccn_gis import cli
from ccn_gis.errors import DataSourceError, UnknownValueError
from ccn_gis.io import load_dataset, users, validate_store
from ccn_gis.model import Role
from ccn_gis.users import (
    User,
    UserError,
    UserNotFoundError,
    check_admins_remain,
    check_name,
    check_password,
    suggest_name,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "mật khẩu rất dài 123"
AT = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2 with the least work: the fast suite stays fast (production: the defaults)."""
    monkeypatch.setattr(users, "HASHER", CHEAP)


@pytest.fixture
def layers(tmp_path) -> Path:
    path = tmp_path / "thai_binh.gpkg"
    shutil.copyfile(SAMPLE, path)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """``ccn-gis ARGS`` in-process with ``stdin`` (not a terminal): status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    old = cli.sys.stdin
    cli.sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(list(args))
    finally:
        cli.sys.stdin = old
    return status, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------------------ domain
@pytest.mark.parametrize("name", ["nguyen.van.a", "tranthib", "so-ct.1", "a", "x" * 64])
def test_login_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize(("name", "suggested"), [
    ("nguyễn.văn.a", "nguyen.van.a"), ("Nguyen Van A", "nguyen.van.a"),
    ("Đỗ Thị Hà", "do.thi.ha"), ("1abc", "abc"), ("a:b", "ab"), ("", "nguyen.van.a"),
])
def test_other_names_are_refused_with_a_suggestion(name, suggested):
    with pytest.raises(UserError) as caught:
        check_name(name)
    assert suggest_name(name) == suggested
    assert repr(suggested) in str(caught.value)
    assert "tên người dùng" in str(caught.value) and "user name" in str(caught.value)
    assert str(caught.value).index("tên") < str(caught.value).index("user name")  # vi first


def test_long_names_are_refused():
    with pytest.raises(UserError):
        check_name("x" * 65)


def test_passwords():
    assert check_password("12345678", name="a") == "12345678"
    for bad in ("short", "x" * 1025):
        with pytest.raises(UserError) as caught:
            check_password(bad, name="nguyen.van.a")
        assert bad not in str(caught.value) and "'nguyen.van.a'" in str(caught.value)
    with pytest.raises(UserError):
        check_password("Nguyen.Van.A", name="nguyen.van.a")


def test_roles_are_ordered_and_closed():
    assert [r.value for r in Role] == ["viewer", "editor", "admin"]
    assert Role.ADMIN.allows(Role.EDITOR) and Role.EDITOR.allows(Role.EDITOR)
    assert not Role.VIEWER.allows(Role.EDITOR)
    assert Role.parse("admin") is Role.ADMIN
    with pytest.raises(UnknownValueError, match="viewer, editor, admin"):
        Role.parse("boss")
    assert User("a", Role.EDITOR, AT).may(Role.VIEWER)


def test_the_last_admin_stays():
    one = [User("a", Role.ADMIN, AT), User("b", Role.EDITOR, AT)]
    for role in (None, Role.EDITOR, Role.VIEWER):
        with pytest.raises(UserError, match="last admin"):
            check_admins_remain(one, "a", role)
    check_admins_remain(one, "a", Role.ADMIN)
    check_admins_remain(one, "b", None)
    check_admins_remain([*one, User("c", Role.ADMIN, AT)], "a", None)
    check_admins_remain([User("b", Role.EDITOR, AT)], "b", None)  # no admin to lose


# ---------------------------------------------------------------------------------- io
def test_users_are_kept_hashed_and_authenticate(layers):
    added = users.add_user(layers, "nguyen.van.a", "editor", PASSWORD)
    assert added.role is Role.EDITOR and added.created_at.tzinfo is not None
    assert users.list_users(layers) == [added]
    assert users.find_user(layers, "nguyen.van.a") == added
    assert users.authenticate(layers, "nguyen.van.a", PASSWORD) == added
    assert users.authenticate(layers, "nguyen.van.a", PASSWORD + "x") is None
    assert users.authenticate(layers, "no.one", PASSWORD) is None
    assert users.authenticate(layers, "not a name", PASSWORD) is None
    (stored,) = rows(layers, "SELECT password_hash FROM ccn_users")
    assert stored[0] != PASSWORD and PASSWORD not in stored[0]
    assert stored[0].startswith("$argon2id$")
    assert PASSWORD.encode() not in layers.read_bytes()


def test_the_default_hasher_is_the_librarys():
    default = PasswordHasher()
    assert users.PasswordHasher().time_cost == default.time_cost
    assert (default.time_cost, default.memory_cost) >= (2, 19 * 1024)  # OWASP's minimum


def test_the_tables_are_geopackage_attribute_tables(layers):
    users.add_user(layers, "admin", "admin", PASSWORD)
    users.new_token(layers, "admin")
    contents = dict(rows(layers, "SELECT table_name, data_type FROM gpkg_contents "
                                 "WHERE table_name LIKE 'ccn_%'"))
    assert contents["ccn_users"] == "attributes" and contents["ccn_tokens"] == "attributes"
    listed = {str(n): g for n, g in pyogrio.list_layers(layers)}
    assert listed["ccn_users"] is None and listed["ccn_tokens"] is None
    frame = pyogrio.read_dataframe(layers, layer="ccn_users", read_geometry=False)
    assert list(frame["name"]) == ["admin"]
    assert pyogrio.read_info(layers, layer="ccn_tokens")["features"] == 1


def test_the_layers_readers_ignore_the_users(layers):
    before = [p.to_dict() for p in validate_store(layers)]
    users.add_user(layers, "admin", "admin", PASSWORD)
    users.new_token(layers, "admin")
    assert [p.to_dict() for p in validate_store(layers)] == before
    dataset = load_dataset(layers)
    assert not [w for w in dataset.warnings if "ccn_" in str(w)]
    status, out, _ = run("validate", "--layers", str(layers), "--lang", "en")
    assert status == 0 and "ccn_users" not in out and "ccn_tokens" not in out


def test_tokens_verify_and_only_their_hash_is_kept(layers):
    user = users.add_user(layers, "script", "viewer", PASSWORD)
    token = users.new_token(layers, "script")
    assert users.TOKEN_PATTERN.fullmatch(token)
    assert users.authenticate_token(layers, token) == user
    public = users.token_public_id(token)
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    for bad in (wrong, f"ccn_{public}_" + "x" * 43, "ccn_00000000_" + "x" * 43, "", "Bearer",
                token + "x", PASSWORD):
        assert users.authenticate_token(layers, bad) is None
    (stored,) = rows(layers, "SELECT token_id, token_hash FROM ccn_tokens")
    assert stored[0] == public and token not in stored[1] and token.split("_")[2] not in stored[1]
    assert token.encode() not in layers.read_bytes()
    second = users.new_token(layers, "script")
    assert second != token and users.authenticate_token(layers, second) == user
    users.remove_user(layers, "script")
    assert users.authenticate_token(layers, token) is None
    assert rows(layers, "SELECT COUNT(*) FROM ccn_tokens") == [(0,)]


def test_roles_change_and_users_go(layers):
    users.add_user(layers, "boss", "admin", PASSWORD)
    users.add_user(layers, "clerk", "viewer", PASSWORD)
    assert users.set_role(layers, "clerk", "editor").role is Role.EDITOR
    assert users.find_user(layers, "clerk").role is Role.EDITOR
    assert users.authenticate(layers, "clerk", PASSWORD).role is Role.EDITOR
    assert users.remove_user(layers, "clerk").name == "clerk"
    assert [u.name for u in users.list_users(layers)] == ["boss"]
    assert pyogrio.read_info(layers, layer="ccn_users")["features"] == 1


def test_refused_writes_leave_the_file_byte_identical(layers):
    users.add_user(layers, "boss", "admin", PASSWORD)
    users.add_user(layers, "clerk", "editor", PASSWORD)
    before = sha256(layers)
    attempts = [
        (UserError, lambda: users.add_user(layers, "clerk", "viewer", PASSWORD)),
        (UserError, lambda: users.add_user(layers, "Clerk", "viewer", PASSWORD)),
        (UserError, lambda: users.add_user(layers, "new", "viewer", "short")),
        (UnknownValueError, lambda: users.add_user(layers, "new", "boss", PASSWORD)),
        (UserError, lambda: users.remove_user(layers, "boss")),
        (UserError, lambda: users.set_role(layers, "boss", "editor")),
        (UserNotFoundError, lambda: users.remove_user(layers, "nobody")),
        (UserNotFoundError, lambda: users.set_role(layers, "nobody", "admin")),
        (UserNotFoundError, lambda: users.new_token(layers, "nobody")),
    ]
    for kind, attempt in attempts:
        with pytest.raises(kind):
            attempt()
        assert sha256(layers) == before
    with pytest.raises(UserNotFoundError) as caught:
        users.remove_user(layers, "nobody")
    assert "'nobody'" in str(caught.value) and "ccn-gis user list" in str(caught.value)


def test_a_busy_file_is_waited_for_then_left_unchanged(layers):
    before = sha256(layers)
    other = sqlite3.connect(layers, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DataSourceError, match="being written by another program"):
            users.add_user(layers, "clerk", "editor", PASSWORD, timeout=0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sha256(layers) == before


def test_a_foreign_users_table_is_refused(layers):
    con = sqlite3.connect(layers)
    con.execute("CREATE TABLE ccn_users (id INTEGER PRIMARY KEY, login TEXT)")
    con.commit()
    con.close()
    before = sha256(layers)
    with pytest.raises(DataSourceError, match="password_hash"):
        users.add_user(layers, "clerk", "editor", PASSWORD)
    assert sha256(layers) == before


def test_no_file_and_no_users(tmp_path, layers):
    assert users.list_users(layers) == []
    assert users.authenticate(layers, "admin", PASSWORD) is None
    assert users.authenticate_token(layers, "ccn_00000000_" + "x" * 43) is None
    with pytest.raises(DataSourceError, match="no such file"):
        users.list_users(tmp_path / "missing.gpkg")
    with pytest.raises(DataSourceError, match="no such file"):
        users.add_user(tmp_path / "missing.gpkg", "a.b", "viewer", PASSWORD)


def test_an_unknown_role_in_the_table_gives_no_access(layers):
    users.add_user(layers, "clerk", "editor", PASSWORD)
    con = sqlite3.connect(layers)
    con.execute("UPDATE ccn_users SET role = 'boss'")
    con.commit()
    con.close()
    assert users.authenticate(layers, "clerk", PASSWORD) is None
    with pytest.raises(DataSourceError, match="ccn-gis user role clerk"):
        users.list_users(layers)
    assert users.set_role(layers, "clerk", "viewer").role is Role.VIEWER


# --------------------------------------------------------------------------------- CLI
def test_the_user_commands(layers):
    where = ("--layers", str(layers))
    status, out, err = run("user", "add", "boss", "--role", "admin", *where,
                           stdin=PASSWORD + "\n")
    assert (status, err) == (0, "") and "boss" in out and "admin" in out
    assert users.authenticate(layers, "boss", PASSWORD) is not None  # without the newline
    assert run("user", "add", "clerk", "--role", "viewer", *where, stdin=PASSWORD)[0] == 0
    status, out, _ = run("user", "list", *where)
    assert status == 0 and out.split()[0:2] == ["boss", "admin"] and "clerk" in out
    status, out, _ = run("user", "list", "--json", *where)
    assert '"role": "viewer"' in out
    assert run("user", "role", "clerk", "editor", *where)[0] == 0
    assert users.find_user(layers, "clerk").role is Role.EDITOR
    status, out, err = run("user", "token", "clerk", *where)
    assert status == 0 and "keep it" in err and "token" in err
    assert users.authenticate_token(layers, out.strip()).name == "clerk"
    assert run("user", "remove", "clerk", *where)[0] == 0
    assert [u.name for u in users.list_users(layers)] == ["boss"]


def test_user_command_mistakes(layers):
    where = ("--layers", str(layers))
    run("user", "add", "boss", "--role", "admin", *where, stdin=PASSWORD)
    before = sha256(layers)
    status, _, err = run("user", "remove", "boss", *where)
    assert status == 1 and "last admin" in err and "(admin) cuối cùng" in err
    assert "Traceback" not in err
    status, _, err = run("user", "role", "boss", "viewer", *where)
    assert status == 1 and "last admin" in err
    status, _, err = run("user", "add", "Nguyễn Văn A", "--role", "editor", *where,
                         stdin=PASSWORD)
    assert status == 1 and "'nguyen.van.a'" in err
    status, _, err = run("user", "add", "clerk", "--role", "editor", *where, stdin="")
    assert status == 1 and "8" in err
    status, _, err = run("user", "remove", "nobody", *where)
    assert status == 1 and "no user 'nobody'" in err
    assert run("user", "token", "nobody", *where)[0] == 1
    assert run("user", "add", "clerk", "--role", "boss", *where, stdin=PASSWORD)[0] == 2
    assert run("user", "add", "clerk", *where, stdin=PASSWORD)[0] == 2
    assert run("user", *where)[0] == 2
    assert run("user", "role", "boss", *where)[0] == 2
    assert sha256(layers) == before
    status, _, err = run("user", "list", "--layers", str(layers.with_name("none.gpkg")))
    assert status == 1 and "no such file" in err


def test_a_terminal_asks_for_the_password_twice(layers, monkeypatch):
    import getpass

    answers = iter([PASSWORD, PASSWORD, PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(cli.sys, "stdin", Terminal())
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["user", "add", "boss", "--role", "admin", "--layers", str(layers)]) == 0
        assert cli.main(["user", "add", "clerk", "--role", "viewer",
                         "--layers", str(layers)]) == 1
    assert "differ" in err.getvalue()
    assert [u.name for u in users.list_users(layers)] == ["boss"]
