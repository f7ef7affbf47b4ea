"""One JSON error shape everywhere: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import elasticsearch
import psycopg
import redis
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.payments.gateway import GatewayError

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
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class DependencyError(StrEnum):
    """The 503 codes: which dependency did not answer."""

    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    CACHE_UNAVAILABLE = "CACHE_UNAVAILABLE"
    EVENTS_UNAVAILABLE = "EVENTS_UNAVAILABLE"
    SEARCH_UNAVAILABLE = "SEARCH_UNAVAILABLE"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"


# Exceptions that mean "a dependency is away", not "this request is wrong". Deadlocks and
# serialization failures (psycopg's TransactionRollbackError is an OperationalError) land here
# too: a 503 "try again" is the right answer for them as well.
_UNAVAILABLE: tuple[tuple[tuple[type[Exception], ...], DependencyError, str], ...] = (
    (
        (
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,  # no pooled connection came free in time
            sa_exc.PendingRollbackError,  # the connection died inside a transaction
            psycopg.OperationalError,
            psycopg.InterfaceError,
        ),
        DependencyError.DATABASE_UNAVAILABLE,
        "the database is unavailable; try again shortly",
    ),
    (
        (redis.ConnectionError, redis.TimeoutError),
        DependencyError.CACHE_UNAVAILABLE,
        "the cache is unavailable; try again shortly",
    ),
    (
        (KafkaError,),
        DependencyError.EVENTS_UNAVAILABLE,
        "the event broker is unavailable; try again shortly",
    ),
    (
        (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout),
        DependencyError.SEARCH_UNAVAILABLE,
        "search is unavailable; try again shortly",
    ),
    (
        (GatewayError,),
        DependencyError.PAYMENT_UNAVAILABLE,
        "the payment gateway is unavailable; try again shortly",
    ),
)


def unavailable_dependency(exc: BaseException) -> tuple[DependencyError, str] | None:
    """The dependency whose outage `exc` reports (and a message), or None for a real bug."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return DependencyError.DATABASE_UNAVAILABLE, _UNAVAILABLE[0][2]
    for classes, code, message in _UNAVAILABLE:
        if isinstance(exc, classes):
            return code, message
    return None


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
        413: "the request body is too large",
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
    413: CommonError.PAYLOAD_TOO_LARGE,
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

    # Every other exception reaches serving/middleware.py's ErrorBoundary: the JSON 500 with
    # the request id, and one structured log line.
    for classes, _code, _message in _UNAVAILABLE:
        for cls in classes:
            app.add_exception_handler(cls, _dependency_unavailable)


async def _dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A dependency is away: 503 with Retry-After and the code that names it."""
    found = unavailable_dependency(exc)
    code, message = found if found else (CommonError.UNAVAILABLE, "a dependency is unavailable")
    request_id = getattr(request.state, "request_id", None)
    log.warning("%s on %s %s (%s): %s", code, request.method, request.url.path, request_id, exc)
    retry_after = request.app.state.settings.dependency_retry_after_s
    return JSONResponse(
        error_body(code, message, {"request_id": request_id}),
        503,
        headers={"Retry-After": str(retry_after)},
    )
