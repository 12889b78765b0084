"""The API's credentials: HTTP Basic and Bearer tokens through a tiny app whose routes
depend on :mod:`ccn_gis_api.auth`, the slowdown of failed logins, and no credential in
the logs."""

from __future__ import annotations

import asyncio
import base64
import logging
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import pytest
from argon2 import PasswordHasher
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from ccn_gis.io import users
from ccn_gis.settings import AppSettings
from ccn_gis.users import User
from ccn_gis_api.auth import (
    WWW_AUTHENTICATE,
    Gate,
    LoginThrottle,
    Reader,
    TooManyAttempts,
    require,
)
from ccn_gis_api.errors import install_error_handlers

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "layers" / "thai_binh.gpkg"
PASSWORD = "Mật-khẩu-bí-mật-4711"
GUESS = "S3cret-guessed-token-4711"  # headers are ASCII


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                        parallelism=1))


class Sleeps:
    """The throttle's sleep, recorded instead of slept."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def layers(tmp_path) -> Path:
    path = tmp_path / "thai_binh.gpkg"
    shutil.copyfile(SAMPLE, path)
    users.add_user(path, "boss", "admin", PASSWORD)
    users.add_user(path, "clerk", "editor", PASSWORD)
    users.add_user(path, "guest", "viewer", PASSWORD)
    return path


def make_app(layers: Path, *, public_read: bool = True, sleeps: Sleeps | None = None
             ) -> FastAPI:
    """One write-like route for editors, one for admins, one read."""
    app = FastAPI()
    app.state.service = SimpleNamespace(settings=AppSettings(layers=layers,
                                                             public_read=public_read))
    app.state.auth = Gate(throttle=LoginThrottle(sleep=sleeps or Sleeps()))
    install_error_handlers(app)

    @app.get("/edit")
    def edit(user: Annotated[User, Depends(require("editor"))]) -> dict[str, str]:
        return {"user": user.name, "role": user.role.value}

    @app.get("/admin", dependencies=[Depends(require("admin"))])
    def admin() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/read")
    def read(user: Reader) -> dict[str, str | None]:
        return {"user": user.name if user else None}

    @app.get("/throttled")
    def throttled() -> None:
        raise TooManyAttempts(8)

    return app


def basic(name: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_credentials_is_401_with_both_challenges(layers):
    with TestClient(make_app(layers)) as client:
        answer = client.get("/edit")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == WWW_AUTHENTICATE
    assert answer.json()["code"] == "Unauthorized" and "Bearer" in answer.json()["description"]


def test_basic_credentials(layers):
    with TestClient(make_app(layers)) as client:
        assert client.get("/edit", headers=basic("clerk", PASSWORD)).json() == {
            "user": "clerk", "role": "editor"}
        assert client.get("/edit", headers=basic("boss", PASSWORD)).status_code == 200
        refused = client.get("/edit", headers=basic("guest", PASSWORD))
        assert refused.status_code == 403 and refused.json()["code"] == "Forbidden"
        assert "'guest' is viewer" in refused.json()["description"]
        assert client.get("/admin", headers=basic("clerk", PASSWORD)).status_code == 403
        assert client.get("/admin", headers=basic("boss", PASSWORD)).status_code == 200
        wrong = client.get("/edit", headers=basic("clerk", PASSWORD + "x"))
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == WWW_AUTHENTICATE
        assert client.get("/edit", headers=basic("nobody", PASSWORD)).status_code == 401


def test_bearer_tokens(layers):
    token = users.new_token(layers, "clerk")
    viewer = users.new_token(layers, "guest")
    with TestClient(make_app(layers)) as client:
        assert client.get("/edit", headers=bearer(token)).json()["user"] == "clerk"
        assert client.get("/edit", headers={"Authorization": f"bearer  {token} "}
                          ).status_code == 200
        assert client.get("/edit", headers=bearer(viewer)).status_code == 403
        assert client.get("/edit", headers=bearer(token[:-2] + "zz")).status_code == 401
        assert client.get("/edit", headers=bearer("nonsense")).status_code == 401
        users.remove_user(layers, "clerk")
        assert client.get("/edit", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("header", [
    "Basic", "Basic !!!", "Basic " + base64.b64encode(b"no colon").decode(), "Digest x=y",
    "Token abc",
])
def test_malformed_credentials_are_401(layers, header):
    with TestClient(make_app(layers)) as client:
        answer = client.get("/read", headers={"Authorization": header})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == WWW_AUTHENTICATE


def test_reads_are_public_unless_switched_off(layers):
    with TestClient(make_app(layers)) as client:
        assert client.get("/read").json() == {"user": None}
        assert client.get("/read", headers=basic("guest", PASSWORD)).json() == {"user": "guest"}
        assert client.get("/read", headers=basic("guest", "wrong-password")).status_code == 401
    with TestClient(make_app(layers, public_read=False)) as client:
        assert client.get("/read").status_code == 401
        assert client.get("/read", headers=basic("guest", PASSWORD)).json() == {"user": "guest"}


def test_the_setting_is_read_from_the_environment(monkeypatch):
    assert AppSettings().public_read is True
    monkeypatch.setenv("CCN_GIS_PUBLIC_READ", "false")
    assert AppSettings().public_read is False


def test_a_right_password_is_remembered_until_the_file_changes(layers, monkeypatch):
    from ccn_gis_api import auth

    calls = []
    real = auth.authenticate

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(auth, "authenticate", counted)
    with TestClient(make_app(layers)) as client:
        for _ in range(3):
            assert client.get("/edit", headers=basic("clerk", PASSWORD)).status_code == 200
        assert calls == ["clerk"]
        users.set_role(layers, "clerk", "viewer")  # a new revision of the file
        assert client.get("/edit", headers=basic("clerk", PASSWORD)).status_code == 403
        assert calls == ["clerk", "clerk"]
        assert client.get("/edit", headers=basic("clerk", "wrong-one!")).status_code == 401


def test_failed_logins_are_slowed_down_through_the_api(layers):
    sleeps = Sleeps()
    with TestClient(make_app(layers, sleeps=sleeps)) as client:
        for _ in range(8):
            assert client.get("/edit", headers=basic("clerk", "wrong-pass")).status_code == 401
        assert sleeps.slept == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
        assert client.get("/edit", headers=basic("clerk", PASSWORD)).status_code == 200
        assert len(sleeps.slept) == 8  # a success is never slowed down
        client.get("/edit", headers=bearer("ccn_00000000_" + "x" * 43))
        assert sleeps.slept[-1] == 8.0  # the client's failures count for its tokens too


def test_too_many_attempts_is_429_with_retry_after(layers):
    with TestClient(make_app(layers)) as client:
        answer = client.get("/throttled")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "8"


def test_the_slowdown_grows_is_bounded_and_forgotten():
    now = [0.0]
    sleeps = Sleeps()
    throttle = LoginThrottle(clock=lambda: now[0], sleep=sleeps)

    async def fail() -> None:
        return None

    async def succeed() -> str:
        return "ok"

    async def attempts() -> None:
        for _ in range(10):
            assert await throttle.attempt(["name:a", "client:1"], fail) is None
        assert throttle.failures("name:a") == 10
        assert await throttle.attempt(["name:a", "client:1"], succeed,
                                      resets=["name:a"]) == "ok"
        assert throttle.failures("name:a") == 0 and throttle.failures("client:1") == 10
        now[0] += 901  # fifteen minutes without a failure
        assert throttle.failures("client:1") == 0
        await throttle.attempt(["client:1"], fail)

    asyncio.run(attempts())
    delays = sleeps.slept
    assert delays[:6] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert max(delays) == 8.0 and delays == sorted(delays[:10]) + [0.25]
    assert [throttle.delay(n) for n in (0, 1, 2, 50, 10_000)] == [0.0, 0.25, 0.5, 8.0, 8.0]


def test_attempts_of_a_suspect_run_one_at_a_time():
    throttle = LoginThrottle(max_s=0.2)
    running, most = [0], [0]

    async def slow_failure() -> None:
        running[0] += 1
        most[0] = max(most[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1
        return None

    async def attempts() -> list[object]:
        throttle.delay = lambda failures: 0.0  # type: ignore[method-assign]
        await throttle.attempt(["client:1"], slow_failure)
        return await asyncio.gather(*(throttle.attempt(["client:1"], slow_failure)
                                      for _ in range(5)), return_exceptions=True)

    results = asyncio.run(attempts())
    assert most[0] == 1 and results == [None] * 5

    async def held_too_long() -> list[object]:
        throttle.delay = lambda failures: 0.5  # type: ignore[method-assign]
        return await asyncio.gather(*(throttle.attempt(["client:1"], slow_failure)
                                      for _ in range(3)), return_exceptions=True)

    results = asyncio.run(held_too_long())
    assert any(isinstance(r, TooManyAttempts) for r in results)


def test_the_throttle_remembers_a_bounded_number_of_keys():
    throttle = LoginThrottle(max_keys=3, sleep=Sleeps())

    async def fail() -> None:
        return None

    async def attempts() -> None:
        for n in range(10):
            await throttle.attempt([f"name:{n}"], fail)

    asyncio.run(attempts())
    assert len(throttle._records) == 3 and throttle.failures("name:9") == 1


def test_credentials_never_reach_the_log(layers, caplog):
    token = users.new_token(layers, "clerk")
    wrong_token = token[:-4] + "abcd"
    with caplog.at_level(logging.DEBUG), TestClient(make_app(layers)) as client:
        answers = [
            client.get("/edit", headers=basic("clerk", PASSWORD + "-typo")),
            client.get("/edit", headers=basic(PASSWORD, "")),  # the password as the name
            client.get("/edit", headers=basic("boss", PASSWORD[:-1])),
            client.get("/edit", headers=bearer(wrong_token)),
            client.get("/edit", headers=bearer(GUESS)),
        ]
    assert all(a.status_code == 401 for a in answers)
    logged = caplog.text + "".join(a.text for a in answers)
    for secret in (PASSWORD, PASSWORD[:-1], GUESS, wrong_token, wrong_token.split("_")[2],
                   token):
        assert secret not in logged
    assert "user 'clerk'" in caplog.text and "unknown user name" in caplog.text
    assert f"token id {users.token_public_id(token)}" in caplog.text
