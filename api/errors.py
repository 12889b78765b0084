"""How errors become HTTP answers: one table, domain code never raises HTTP errors."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ccn_gis.errors import (
    CcnGisError,
    CrsError,
    LayerNotFoundError,
    UnknownValueError,
)
from ccn_gis_api.query import BadRequest

STATUS_CODES: dict[type[Exception], tuple[int, str]] = {
    BadRequest: (400, "InvalidParameterValue"),
    UnknownValueError: (400, "InvalidParameterValue"),
    CrsError: (400, "InvalidParameterValue"),
    LayerNotFoundError: (404, "NotFound"),
    CcnGisError: (500, "ServerError"),
}
"""Exception class → (HTTP status, OGC exception code); the first match in MRO order wins."""


def _problem(
    status: int, code: str, description: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status_code=status,
                        headers=dict(headers) if headers else None)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every known error with its status and a message; never a bare 500."""

    async def known(request: Request, exc: Exception) -> JSONResponse:
        for cls in type(exc).__mro__:
            if cls in STATUS_CODES:
                status, code = STATUS_CODES[cls]
                return _problem(status, code, str(exc))
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

    for cls in STATUS_CODES:
        app.add_exception_handler(cls, known)
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]
