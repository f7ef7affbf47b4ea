"""One JSON error shape everywhere: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class CommonError(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    INVALID_CURSOR = "INVALID_CURSOR"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class ApiError(Exception):
    """Raised by services and routers; rendered as the error shape with its status."""

    def __init__(
        self,
        status: int,
        code: StrEnum,  # every domain names its codes in a StrEnum: mypy refuses a bare string
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
        self.details = details
        self.headers = headers


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The one error shape of every route."""

    error: ErrorDetail


# Declared on every route so the OpenAPI document tells clients what errors look like.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "malformed request",
        401: "missing, invalid or expired token",
        403: "the caller's role may not do this",
        404: "no such resource (or not the caller's)",
        409: "conflicts with the current state",
        412: "a precondition (If-Match) failed",
        422: "the request is not valid",
        429: "rate limited; see Retry-After",
        503: "a dependency is unavailable",
    }.items()
}


def not_found(what: str, key: str) -> ApiError:
    return ApiError(404, CommonError.NOT_FOUND, f"{what} '{key}' not found")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}


_STATUS_CODES = {
    401: CommonError.NOT_AUTHENTICATED,
    403: CommonError.FORBIDDEN,
    404: CommonError.NOT_FOUND,
    405: CommonError.METHOD_NOT_ALLOWED,
    409: CommonError.CONFLICT,
    412: CommonError.PRECONDITION_FAILED,
    429: CommonError.RATE_LIMITED,
    503: CommonError.UNAVAILABLE,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body(CommonError.VALIDATION_FAILED, "the request is not valid", details), 422
        )

    @app.exception_handler(sa_exc.DataError)
    async def _unstorable(_request: Request, exc: sa_exc.DataError) -> JSONResponse:
        # Input that passed validation but the database cannot store (a NUL byte in text, a
        # number out of range): the client's fault, so a 422 rather than a 500. Only the
        # driver's first line is returned: never the SQL or its parameters.
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
        return JSONResponse(
            error_body(
                CommonError.VALIDATION_FAILED, "a value in the request cannot be stored", reason
            ),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
        return JSONResponse(
            error_body(str(code), str(exc.detail)), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(CommonError.INTERNAL, "an unexpected error occurred"), 500)
