"""How errors become HTTP answers: one table, domain code never raises HTTP errors.

Whatever the table does not name is a bug: :class:`LastResortMiddleware` answers it with a
500 problem that gives a reference to the server's log, where the traceback is; the client
never sees a traceback or a dropped connection.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.budget import DeadlineExceeded
from ccn_gis.edits import EditError, FeatureNotFoundError
from ccn_gis.errors import (
    CcnGisError,
    CrsError,
    LayerNotFoundError,
    SettingsError,
    UnknownValueError,
    ValidationError,
)
from ccn_gis.io.register import NoSuchChange, RefusedChange, RevertConflict, StaleVersion
from ccn_gis.problems import Problem
from ccn_gis.scenario import ScenarioError
from ccn_gis.users import UserError, UserNotFoundError
from ccn_gis_api.auth import Forbidden, TooManyAttempts, Unauthorized
from ccn_gis_api.limits import Busy
from ccn_gis_api.middleware import ASGIApp, Message, Receive, Scope, Send
from ccn_gis_api.query import BadRequest

log = logging.getLogger("ccn_gis_api")

STATUS_CODES: dict[type[Exception], tuple[int, str]] = {
    Busy: (503, "ServiceUnavailable"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    TooManyAttempts: (429, "TooManyRequests"),
    UserNotFoundError: (404, "NotFound"),
    StaleVersion: (412, "PreconditionFailed"),
    RevertConflict: (409, "Conflict"),
    NoSuchChange: (404, "NotFound"),
    RefusedChange: (422, "UnprocessableEntity"),
    FeatureNotFoundError: (404, "NotFound"),
    EditError: (400, "InvalidParameterValue"),
    UserError: (400, "InvalidParameterValue"),
    BadRequest: (400, "InvalidParameterValue"),
    UnknownValueError: (400, "InvalidParameterValue"),
    CrsError: (400, "InvalidParameterValue"),
    ScenarioError: (400, "InvalidParameterValue"),
    SettingsError: (400, "InvalidParameterValue"),
    LayerNotFoundError: (404, "NotFound"),
    DeadlineExceeded: (422, "UnprocessableEntity"),
    CcnGisError: (500, "ServerError"),
}
"""Exception class → (HTTP status, OGC exception code); the first match in MRO order wins.
An exception with a ``headers`` mapping (:class:`Busy`: ``Retry-After``) adds them."""


def _problem(
    status: int, code: str, description: str, headers: Mapping[str, str] | None = None,
    problems: list[Problem] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "description": description}
    if problems:  # the layers' problems, each naming layer, feature and field
        body["problems"] = [{"layer": p.layer, "feature": p.feature, "field": p.field,
                             "severity": p.severity.value, "message": p.message,
                             "hint": p.hint} for p in problems]
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every known error with its status and a message; never a bare 500."""

    async def known(request: Request, exc: Exception) -> JSONResponse:
        for cls in type(exc).__mro__:
            if cls in STATUS_CODES:
                status, code = STATUS_CODES[cls]
                problems = getattr(exc, "problems", None)
                description = str(exc)
                if problems and isinstance(exc, ValidationError):  # say what, not "N errors"
                    description = "; ".join(str(p) for p in problems if p.is_error)
                return _problem(status, code, description,
                                headers=getattr(exc, "headers", None), problems=problems)
        return _problem(500, "ServerError", "internal error")

    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {error.get('msg')}")
        return _problem(400, "InvalidParameterValue", "; ".join(parts))

    async def http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
                413: "PayloadTooLarge", 415: "UnsupportedMediaType"}.get(
            exc.status_code, "Error")
        return _problem(exc.status_code, code, str(exc.detail), headers=exc.headers)

    app.add_middleware(LastResortMiddleware)  # the innermost: added first
    for cls in STATUS_CODES:
        app.add_exception_handler(cls, known)
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]


class LastResortMiddleware:
    """Answer an unexpected exception with a 500 problem; log its traceback with a reference.

    ``{"code": "ServerError", "description": "internal error; the server's log has the
    details (reference 3f9a0c1d)"}`` — the same reference is in the log line. An exception
    raised after the answer started (a streamed download) can only end the connection: it
    goes on to the server, which logs it and closes the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the last resort
            if started:
                raise  # too late for an answer: the server logs it and ends the connection
            reference = secrets.token_hex(4)
            log.error("unexpected error (reference %s) in %s %s", reference,
                      scope.get("method"), scope.get("path"), exc_info=exc)
            body = _problem_bytes(
                "ServerError",
                f"internal error; the server's log has the details (reference {reference})")
            await send({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})


def _problem_bytes(code: str, description: str) -> bytes:
    value: dict[str, Any] = {"code": code, "description": description}
    return orjson.dumps(value)
