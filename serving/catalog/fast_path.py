"""The catalogue's hottest read, answered before FastAPI routes the request.

An anonymous `GET /v1/products/{sku}` whose product is in the cache and public is answered
here with the cached JSON, byte for byte what the route would send (the same body, content
type and ETag). Everything else — a token (an admin may see drafts), a SKU the route's pattern
refuses, a miss, an unreadable entry, Redis away, a draft, any other method or path — goes on
to the route, which stays the one definition of the endpoint: its docs, its access decision
(`Public`), its 404 and 422 answers, its read of Postgres.

Why: a cache hit is one Redis GET, yet FastAPI's routing over every route before it and the
resolution of the route's dependencies cost more than that GET and the middlewares together
(profiled in ARCHITECTURE.md, "Performance of the serving path"). The app's middlewares still
wrap this answer (request id, security headers, metrics under the route's template).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from serving.catalog import service
from serving.catalog.schemas import SKU_PATTERN

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/v1/products/"
_SKU = re.compile(SKU_PATTERN)


@dataclass(frozen=True)
class RouteTemplate:
    """What the metrics middleware reads of a matched route: its template."""

    path: str


ROUTE = RouteTemplate(PREFIX + "{sku}")


def _anonymous(scope: Scope) -> bool:
    return all(key != b"authorization" for key, _ in scope.get("headers", ()))


class CachedProductReads:
    """ASGI middleware: public cache hits of `GET /v1/products/{sku}` without routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sku = self._sku_of(scope)
        if sku is not None:
            state = scope["app"].state
            found = await service.cached_public_product(state.async_redis, state.settings, sku)
            if found is not None:
                scope["route"] = ROUTE
                headers = [  # as Starlette's Response lays out the route's
                    (b"etag", found.etag.encode()),
                    (b"content-length", str(len(found.body)).encode()),
                    (b"content-type", b"application/json"),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": found.body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _sku_of(scope: Scope) -> str | None:
        """The SKU of a request this path may answer, else None."""
        if scope["type"] != "http" or scope.get("method") != "GET":
            return None
        path = str(scope.get("path", ""))
        if not path.startswith(PREFIX) or scope.get("root_path"):
            return None
        sku = path[len(PREFIX) :]
        if not _SKU.fullmatch(sku) or not _anonymous(scope):
            return None
        return sku
