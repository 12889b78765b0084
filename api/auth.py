"""Who is asking: HTTP Basic or ``Authorization: Bearer TOKEN`` checked against the users
kept in the store (:mod:`ccn_gis.io.users`).

Routes state what they need with a dependency:

- :func:`current_user` — the user the credentials name, None without credentials;
- :func:`require` — ``Depends(require("editor"))``: the user, who must have that role at
  least; no credentials is 401 (with ``WWW-Authenticate: Basic realm="ccn-gis", Bearer``),
  too little a role is 403;
- :func:`reader` — for reads: public while ``CCN_GIS_PUBLIC_READ`` is true (the default),
  a viewer at least otherwise.

Wrong credentials are 401 even where none are needed, so that a script with a mistyped
token learns of it at once.

**Failed logins are slowed down** (:class:`LoginThrottle`), in memory, per user name
(or token id) and per client address: after the first failure of a key in a row, a
failed attempt is answered 0.25 s later, then 0.5, 1, 2, 4 and at most 8 s; while a key
has failures, its attempts run one at a time, so that guessing in parallel gains
nothing; an attempt that has waited 8 s for its turn is answered 429 with
``Retry-After: 8``. A key's failures are forgotten 15 minutes after its last
one, and a name's at its first success; at most 10,000 keys are kept (the oldest go
first). A successful login is never slowed down.

**Passwords are checked** with argon2 (64 MiB and about 0.15 s each), at most 4 at once
(503 with ``Retry-After`` beyond, after waiting 10 s); a password that was right is
remembered for 5 minutes, as a keyed hash (HMAC-SHA-256 with a key made when the
process starts) of the name and password with the file's revision, so that a script
sending Basic credentials does not pay for argon2 on every request and any change to
the file (a password, a role, a user removed) is seen at once. Tokens cost a lookup and
a SHA-256 each. Credentials are never logged: a failure is logged with the user name
only when such a user exists (a password typed into the name field stays out of the
log), and with a token's public id only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ccn_gis.io.sqlite_file import file_revision
from ccn_gis.io.users import authenticate, authenticate_token, find_user, token_public_id
from ccn_gis.model import Role
from ccn_gis.users import User
from ccn_gis_api.limiter import Limiter

log = logging.getLogger("ccn_gis_api.auth")
WWW_AUTHENTICATE = 'Basic realm="ccn-gis", Bearer'
T = TypeVar("T")


class Unauthorized(Exception):
    """No credentials, or wrong ones (401); the answer says how to log in."""

    headers = {"WWW-Authenticate": WWW_AUTHENTICATE}


class Forbidden(Exception):
    """The user's role is too little for what was asked (403)."""


class TooManyAttempts(Exception):
    """Too many failed logins of one name or client waiting their turn (429)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many failed logins; try again in {self.retry_after} s")

    @property
    def headers(self) -> dict[str, str]:
        """The headers of the 429 answer."""
        return {"Retry-After": str(self.retry_after), "WWW-Authenticate": WWW_AUTHENTICATE}


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    busy: bool = False


class LoginThrottle:
    """Failed logins slowed down, per key (``name:…``, ``token:…``, ``client:…``).

    Parameters
    ----------
    base_s, max_s
        The delay after the first failure in a row, doubled after each next one up to
        ``max_s``; also the longest an attempt waits for its turn.
    forget_s
        A key's failures are forgotten this long after its last one.
    max_keys
        At most this many keys are remembered (the least recent go first).
    clock, sleep
        For tests: the monotonic clock and the asynchronous sleep.

    Examples
    --------
    >>> [LoginThrottle().delay(n) for n in range(8)]
    [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    """

    POLL_S = 0.02

    def __init__(self, *, base_s: float = 0.25, max_s: float = 8.0, forget_s: float = 900.0,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = anyio.sleep) -> None:
        self.base_s, self.max_s, self.forget_s, self.max_keys = base_s, max_s, forget_s, max_keys
        self._clock, self._sleep = clock, sleep
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def delay(self, failures: int) -> float:
        """Seconds a failed attempt waits after ``failures`` failures in a row."""
        if failures <= 0:
            return 0.0
        return min(self.base_s * 2.0 ** min(failures - 1, 60), self.max_s)

    def failures(self, key: str) -> int:
        """The failures in a row of ``key`` that are not forgotten yet."""
        with self._lock:
            record = self._records.get(key)
            return 0 if record is None or self._stale(record) else record.failures

    async def attempt(self, keys: Sequence[str], check: Callable[[], Awaitable[T | None]], *,
                      resets: Sequence[str] = ()) -> T | None:
        """Run ``check`` (None: failed) as one login attempt of ``keys``.

        Attempts of keys with failures run one at a time; a failed one returns after
        :meth:`delay`; a success forgets the failures of ``resets``.

        Raises
        ------
        TooManyAttempts
            When the attempt would wait more than ``max_s`` for its turn.
        """
        held = await self._turn(sorted(set(keys)))
        try:
            result = await check()
            with self._lock:
                if result is not None:
                    for key in resets:
                        self._records.pop(key, None)
                    return result
                now = self._clock()
                failures = 0
                for key in keys:
                    record = self._records.pop(key, None) or _Record()
                    record.failures = 1 if self._stale(record) else record.failures + 1
                    record.last = now
                    self._records[key] = record  # the most recent last
                    failures = max(failures, record.failures)
                self._trim()
            await self._sleep(self.delay(failures))
            return None
        finally:
            with self._lock:
                for record in held:
                    record.busy = False

    async def _turn(self, keys: list[str]) -> list[_Record]:
        """Wait until no attempt of ``keys`` with failures runs; mark them running."""
        deadline = time.monotonic() + self.max_s  # real waiting, whatever the clock
        while True:
            with self._lock:
                records = [r for r in (self._records.get(k) for k in keys)
                           if r is not None and r.failures and not self._stale(r)]
                if not any(r.busy for r in records):
                    for record in records:
                        record.busy = True
                    return records
            if time.monotonic() >= deadline:
                raise TooManyAttempts(self.max_s)
            await anyio.sleep(self.POLL_S)

    def _stale(self, record: _Record) -> bool:
        return self._clock() - record.last > self.forget_s

    def _trim(self) -> None:
        while len(self._records) > self.max_keys:
            key = next((k for k, r in self._records.items() if not r.busy), None)
            if key is None:  # pragma: no cover - 10,000 attempts at once
                return
            del self._records[key]


class Gate:
    """How one app checks credentials: its throttle, its password checks at once and
    the passwords it remembers. :func:`gate` makes one per app on first use; a test may
    set ``app.state.auth`` to its own.
    """

    def __init__(self, *, throttle: LoginThrottle | None = None, checks_at_once: int = 4,
                 check_wait_s: float = 10.0, remember_s: float = 300.0,
                 remembered: int = 1024) -> None:
        self.throttle = throttle or LoginThrottle()
        self.checks = Limiter("password checks", checks_at_once, wait=check_wait_s)
        self.remember_s, self.remembered = remember_s, remembered
        self._key = secrets.token_bytes(32)
        self._known: OrderedDict[bytes, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()

    async def identify(self, request: Request, layers: Path) -> User | None:
        """The user the request's credentials name; None without credentials.

        Raises
        ------
        Unauthorized
            When the credentials are wrong or malformed.
        TooManyAttempts
            When too many failed attempts of the name or the client wait their turn.
        """
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, value = header.strip().partition(" ")
        client = f"client:{request.client.host if request.client else '?'}"
        if scheme.lower() == "basic":
            pair = _basic(value.strip())
            if pair is None:
                raise Unauthorized("malformed HTTP Basic credentials: send base64 of "
                                   "NAME:PASSWORD")
            name, password = pair
            user = await self.throttle.attempt(
                [client, f"name:{name[:64]}"], lambda: self._password(layers, name, password),
                resets=[f"name:{name[:64]}"])
            if user is None:
                known = await run_in_threadpool(find_user, layers, name)
                log.warning("failed login %s from %s", f"of user {name!r}" if known
                            else "with an unknown user name", client.removeprefix("client:"))
                raise Unauthorized("wrong user name or password")
            return user
        if scheme.lower() == "bearer":
            token = value.strip()
            public = token_public_id(token)
            keys = [client] + ([f"token:{public}"] if public else [])
            found = await self.throttle.attempt(
                keys, lambda: run_in_threadpool(authenticate_token, layers, token))
            if found is None:
                log.warning("failed token login%s from %s",
                            f" (token id {public})" if public else "",
                            client.removeprefix("client:"))
                raise Unauthorized("unknown or revoked token; make one with ccn-gis user "
                                   "token NAME")
            return found
        raise Unauthorized("send HTTP Basic credentials or Authorization: Bearer TOKEN")

    async def _password(self, layers: Path, name: str, password: str) -> User | None:
        key = hmac.new(self._key, "\0".join((file_revision(layers), name, password)).encode(
            "utf-8", "surrogatepass"), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            known = self._known.get(key)
            if known is not None and now - known[0] <= self.remember_s:
                return known[1]
        async with self.checks:  # argon2 takes 64 MiB a check: a few at once
            user = await run_in_threadpool(authenticate, layers, name, password)
        if user is not None:
            with self._lock:
                self._known[key] = (now, user)
                self._known.move_to_end(key)
                while len(self._known) > self.remembered:
                    self._known.popitem(last=False)
        return user


def _basic(value: str) -> tuple[str, str] | None:
    """The name and password of HTTP Basic credentials, None when malformed."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # RFC 7617's default before charset="UTF-8"
    name, sep, password = text.partition(":")
    return (name, password) if sep else None


def gate(request: Request) -> Gate:
    """The app's :class:`Gate`, made on first use."""
    state = request.app.state
    found = getattr(state, "auth", None)
    if found is None:
        found = state.auth = Gate()
    return found  # type: ignore[no-any-return]


async def current_user(request: Request) -> User | None:
    """The user the request's credentials name, None without credentials (401 if wrong)."""
    layers = Path(request.app.state.service.settings.layers)
    return await gate(request).identify(request, layers)


def require(role: Role | str) -> Callable[[Request], Awaitable[User]]:
    """A dependency returning the request's user, who must have ``role`` at least.

    Examples
    --------
    >>> editor = require("editor")  # @router.post(..., dependencies=[Depends(editor)])
    """
    needed = Role.parse(role)

    async def dependency(request: Request) -> User:
        user = await current_user(request)
        if user is None:
            raise Unauthorized(f"this needs a user ({needed.value} at least): log in with "
                               "HTTP Basic or Authorization: Bearer TOKEN")
        if not user.may(needed):
            raise Forbidden(f"user {user.name!r} is {user.role.value}; this needs "
                            f"{needed.value}: ask an admin for that role")
        return user

    dependency.__name__ = f"require_{needed.value}"
    return dependency


_viewer = require(Role.VIEWER)


async def reader(request: Request) -> User | None:
    """For reads: the user, if any; a viewer at least when ``CCN_GIS_PUBLIC_READ=false``."""
    if request.app.state.service.settings.public_read:
        return await current_user(request)
    return await _viewer(request)


CurrentUser = Annotated[User | None, Depends(current_user)]
Reader = Annotated[User | None, Depends(reader)]
Editor = Annotated[User, Depends(require(Role.EDITOR))]
Admin = Annotated[User, Depends(require(Role.ADMIN))]
