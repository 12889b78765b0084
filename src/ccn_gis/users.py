"""The users of the register: who they are, what each may do, and the rules of names and
passwords. Pure: where users are kept is :mod:`ccn_gis.io.users`.

A user **name** is an ASCII login name, as Vietnamese offices write e-mail addresses:
lowercase letters ``a``–``z``, digits and ``.``, ``_`` or ``-``, beginning with a letter,
at most 64 characters: ``nguyen.van.a``, ``tranthib``, ``so-ct.1``. Diacritics are not
allowed (``nguyễn.văn.a`` is refused with ``nguyen.van.a`` suggested): a name is typed
in HTTP Basic, in scripts and on keyboards without a Vietnamese input method, where
``ễ`` and its decomposed twin would be two different names. A **password** has 8 to
1,024 characters, any of them, and is not the user's name.

Every error says, in Vietnamese then English, which user and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ccn_gis.errors import CcnGisError
from ccn_gis.model import Role

NAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{0,63}")
"""What a user name may be (matched whole)."""
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
"""The shortest and the longest password accepted, in characters."""

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "NAME_PATTERN", "Role", "User", "UserError",
           "UserNotFoundError", "check_admins_remain", "check_name", "check_password",
           "suggest_name"]


class UserError(CcnGisError, ValueError):
    """A user cannot be added, changed or removed; the message names the user and says
    what to do, in Vietnamese then English."""

    def __init__(self, vi: str, en: str) -> None:
        self.vi, self.en = vi, en
        super().__init__(f"{vi} / {en}")


class UserNotFoundError(UserError, KeyError):
    """No user of that name."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return f"{self.vi} / {self.en}"


@dataclass(frozen=True)
class User:
    """A user of the register: the login name, the role and when the user was added.

    Examples
    --------
    >>> user = User("nguyen.van.a", Role.EDITOR, dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc))
    >>> user.may(Role.VIEWER), user.may(Role.ADMIN)
    (True, False)
    """

    name: str
    role: Role
    created_at: dt.datetime

    def may(self, needed: Role) -> bool:
        """Whether the user's role allows what ``needed`` may do."""
        return self.role.allows(needed)


def suggest_name(text: str) -> str:
    """A login name close to ``text``: diacritics dropped, lowercase, spaces as dots.

    Examples
    --------
    >>> suggest_name("Nguyễn Văn Đức")
    'nguyen.van.duc'
    """
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    dotted = re.sub(r"\s+", ".", ascii_text.strip())
    name = re.sub(r"[^a-z0-9._-]", "", dotted).lstrip("0123456789._-")[:64]
    return name or "nguyen.van.a"


def check_name(name: str) -> str:
    """Return ``name`` when it is a valid user name, else raise :class:`UserError`.

    Examples
    --------
    >>> check_name("nguyen.van.a")
    'nguyen.van.a'
    """
    if NAME_PATTERN.fullmatch(name):
        return name
    shown = name if len(name) <= 80 else f"{name[:77]}…"
    suggestion = suggest_name(name)
    raise UserError(
        f"tên người dùng {shown!r} không hợp lệ: chỉ dùng chữ thường không dấu a–z, chữ số "
        f"và . _ -, bắt đầu bằng một chữ cái, tối đa 64 ký tự; ví dụ {suggestion!r}",
        f"user name {shown!r} is not valid: use lowercase letters a–z without diacritics, "
        f"digits and . _ -, beginning with a letter, at most 64 characters; e.g. "
        f"{suggestion!r}")


def check_password(password: str, *, name: str) -> str:
    """Return ``password`` when user ``name`` may have it, else raise :class:`UserError`.

    The message never quotes the password.

    Examples
    --------
    >>> len(check_password("đủ dài rồi", name="nguyen.van.a"))
    10
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(
            f"mật khẩu của {name!r} phải dài từ {MIN_PASSWORD} đến {MAX_PASSWORD:,} ký tự "
            f"(có {len(password):,}); hãy chọn mật khẩu khác",
            f"the password of {name!r} must have {MIN_PASSWORD} to {MAX_PASSWORD:,} "
            f"characters (it has {len(password):,}); choose another one")
    if password.strip().lower() == name:
        raise UserError(f"mật khẩu của {name!r} không được trùng với tên; hãy chọn mật khẩu "
                        "khác",
                        f"the password of {name!r} must not be the name; choose another one")
    return password


def check_admins_remain(users: Iterable[User], name: str, role: Role | None) -> None:
    """Refuse to remove user ``name`` (``role`` None) or give it ``role`` when that
    leaves the register without an admin, while it has one now.

    Examples
    --------
    >>> at = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)
    >>> check_admins_remain([User("a", Role.ADMIN, at), User("b", Role.ADMIN, at)], "a", None)
    """
    admins = {u.name for u in users if u.role is Role.ADMIN}
    if admins != {name} or role is Role.ADMIN:
        return
    what_vi = "xoá" if role is None else f"chuyển sang vai trò {role.value}"
    what_en = "removed" if role is None else f"made {role.value}"
    raise UserError(
        f"không thể {what_vi} {name!r}: đây là quản trị viên (admin) cuối cùng; hãy thêm "
        "một admin khác trước (ccn-gis user add TÊN --role admin)",
        f"{name!r} cannot be {what_en}: it is the last admin; add another admin first "
        "(ccn-gis user add NAME --role admin)")
