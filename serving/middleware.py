"""The app's middleware, as plain ASGI callables (no `BaseHTTPMiddleware`): a failure in a
handler never changes the shape of an answer, and nothing here buffers the response.

From the outside in (`install`):
- `Metrics`: Prometheus request counts and latency per route template (the final status).
- `SecurityHeaders`: nosniff, frame denial, no referrer, no `server` header, and
  `Cache-Control: no-store` on every answer that may hold personal data.
- `ErrorBoundary`: a request id for every request (`X-Request-Id`, the caller's if it looks
  like one); any exception that escapes the app becomes the JSON 503 of its dependency or the
  JSON 500 with that id, and one structured log line carries the id — the answer is sent
  unless one had already started.
- `BodyLimits`: a body over `api_max_body_bytes` is a 413 (read and discarded up to
  `api_body_drain_max_bytes` first, so the client gets its answer instead of a reset), a JSON
  body nested deeper than `api_max_json_depth` a 422 — both before any handler parses it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import Counter, Histogram

from serving.errors import CommonError, error_body, unavailable_dependency
from shoplake.config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("shoplake.serving.errors")

REQUESTS = Counter("shoplake_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "shoplake_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Prefixes whose answers are about one person (or an admin's view of people).
_PERSONAL = ("/v1/auth", "/v1/users", "/v1/cart", "/v1/orders", "/v1/checkout", "/v1/wishlist")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def request_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        given = _header(scope, b"x-request-id")
        state["request_id"] = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
    return str(state["request_id"])


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class ErrorBoundary:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            dependency = unavailable_dependency(exc)
            log.error(
                json.dumps(
                    {
                        "event": "unhandled_error" if dependency is None else "dependency_error",
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "error": type(exc).__name__,
                        "dependency": dependency[0] if dependency else None,
                        "response_started": started,
                        "traceback": "".join(traceback.format_exception(exc))[-4000:],
                    }
                )
            )
            if started:
                return  # the answer is on its way; the connection closes with it
            headers = {"x-request-id": request_id}
            if dependency is not None:
                code, message = dependency
                headers["retry-after"] = str(self.settings.dependency_retry_after_s)
                body = error_body(code, message, {"request_id": request_id})
                await _send_json(send, 503, body, headers)
            else:
                body = error_body(
                    CommonError.INTERNAL, "an unexpected error occurred", {"request_id": request_id}
                )
                await _send_json(send, 500, body, headers)


class Metrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = str(scope.get("method", ""))
            LATENCY.labels(method, route).observe(time.perf_counter() - began)
            REQUESTS.labels(method, route, str(status)).inc()


_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        personal = (
            path.startswith(_PERSONAL)
            or "/admin/" in path
            or _header(scope, b"authorization") is not None
            or _header(scope, b"x-cart-token") is not None
        )

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"server"  # no product or version advertised
                ]
                headers += _SECURITY_HEADERS
                if personal and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)


_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(body: bytes) -> int:
    """How deep the JSON text nests (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"}", b"]"):
            depth -= 1
    return deepest


class BodyLimits:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.api_max_body_bytes
        self.drain_bytes = settings.api_body_drain_max_bytes
        self.max_depth = settings.api_max_json_depth

    async def _too_large(self, receive: Receive, send: Send, seen: int, more: bool) -> None:
        # Read what the client is still sending (up to a bound) before answering: closing a
        # socket with unread data makes the kernel reset it, and the client would never see
        # the 413.
        while more and seen <= self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        body = error_body(
            CommonError.PAYLOAD_TOO_LARGE,
            f"the request body is larger than {self.max_bytes} bytes",
            {"max_bytes": self.max_bytes},
        )
        headers = {"connection": "close"} if more else None
        await _send_json(send, 413, body, headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        chunked = _header(scope, b"transfer-encoding") is not None
        if length is None and not chunked:
            await self.app(scope, receive, send)
            return
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(receive, send, 0, True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > self.max_bytes:
                await self._too_large(receive, send, size, more)
                return
            chunks.append(chunk)
            if not more:
                break
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or "").lower()
        if body and "json" in content_type and json_depth(body) > self.max_depth:
            await _send_json(
                send,
                422,
                error_body(
                    CommonError.VALIDATION_FAILED,
                    f"the JSON body is nested deeper than {self.max_depth} levels",
                    {"max_depth": self.max_depth},
                ),
            )
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install(app: Any, settings: Settings) -> None:
    """Wrap the app, innermost first: what is added last runs first."""
    app.add_middleware(BodyLimits, settings=settings)
    app.add_middleware(ErrorBoundary, settings=settings)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Metrics)
