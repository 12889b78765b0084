"""``ccn-gis user``: the users of the web API, their roles and tokens."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ccn_gis.errors import CcnGisError
from ccn_gis.settings import AppSettings


def add_parser(sub: Any, with_layers: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``user add|list|remove|role|token`` to the command's subparsers ``sub``."""
    user = sub.add_parser("user", help="the users of the web API and their roles and tokens")
    user_sub = user.add_subparsers(dest="user_command", required=True,
                                   metavar="add|list|remove|role|token")
    roles = ["viewer", "editor", "admin"]
    add = user_sub.add_parser("add", help="add a user; the password is read from standard "
                              "input, or asked for twice at a terminal")
    add.add_argument("name", metavar="NAME", help="a login name: a-z, 0-9, . _ -, e.g. "
                     "nguyen.van.a")
    add.add_argument("--role", choices=roles, required=True,
                     help="viewer reads, editor also writes, admin also manages users")
    listing = user_sub.add_parser("list", help="the users and their roles")
    listing.add_argument("--json", action="store_true", help="print the users as JSON")
    user_sub.add_parser("remove", help="remove a user and its tokens").add_argument(
        "name", metavar="NAME")
    role = user_sub.add_parser("role", help="give a user another role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=roles, metavar="viewer|editor|admin")
    user_sub.add_parser("token", help="make an API token for scripts; shown once").add_argument(
        "name", metavar="NAME")
    for each in user_sub.choices.values():
        with_layers(each)


def run(args: argparse.Namespace, app: AppSettings) -> int:
    """Run a ``user`` command; its errors are the command line's to show."""
    from ccn_gis.io import users

    command, path, wait = args.user_command, app.layers, app.busy_timeout
    if command == "list":
        found = users.list_users(path)
        rows = [{"name": u.name, "role": u.role.value,
                 "created_at": u.created_at.isoformat()} for u in found]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            print("\n".join(f"{r['name']:<24} {r['role']:<8} {r['created_at']}" for r in rows)
                  or "ccn-gis: chưa có người dùng nào / no users yet")
        return 0
    if command == "add":
        done = users.add_user(path, args.name, args.role, _password(args.name), timeout=wait)
    elif command == "remove":
        done = users.remove_user(path, args.name, timeout=wait)
    elif command == "role":
        done = users.set_role(path, args.name, args.role, timeout=wait)
    else:
        print(users.new_token(path, args.name, timeout=wait), flush=True)
        print(f"ccn-gis: đây là token của {args.name}, chỉ hiện một lần: hãy cất giữ nó như một "
             "mật khẩu / the token of " f"{args.name} is shown once: keep it as a password",
             file=sys.stderr)
        return 0
    verb = {"add": "đã thêm / added", "remove": "đã xoá / removed",
            "role": "vai trò mới / new role"}[command]
    print(f"ccn-gis: {done.name}: {verb} ({done.role.value})")
    return 0


def _password(name: str) -> str:
    """The new password of user ``name``: a terminal asks twice; otherwise stdin's line."""
    if sys.stdin is None or not sys.stdin.isatty():
        line = sys.stdin.readline() if sys.stdin is not None else ""
        return line.removesuffix("\n").removesuffix("\r")
    import getpass

    first = getpass.getpass(f"mật khẩu của / password of {name}: ")
    if getpass.getpass("nhập lại / again: ") != first:
        raise CcnGisError("hai mật khẩu khác nhau; không có gì thay đổi / the two passwords "
                          "differ; nothing was changed")
    return first


