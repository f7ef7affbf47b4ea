"""Revoked sessions, in Redis: every request with an access token asks whether its session
(`sid`) was revoked (logout, a password change, a refresh token used twice).

An access token lives `jwt_access_ttl_s`, so a revoked session is kept that long (and a
minute more for clock skew): after that no access token of it can still be valid, and its
refresh token is refused by Postgres, where the session row says it was revoked. Redis is
asked on every authenticated request, so an unavailable Redis makes those requests 503 (the
app's handler of Redis errors): an outage never lets a revoked token through.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
import redis.asyncio

from serving.redis_async import bounded
from shoplake.config import Settings

_PREFIX = "revoked:session:"


class RevokedSessions:
    def __init__(
        self, client: redis.Redis, async_client: redis.asyncio.Redis, settings: Settings
    ) -> None:
        self.client = client
        self.async_client = async_client
        self.ttl_s = settings.jwt_access_ttl_s + 60
        self.timeout_s = settings.redis_socket_timeout_s

    def revoke(self, session_ids: Iterable[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for session_id in session_ids:
            pipe.set(f"{_PREFIX}{session_id}", "1", ex=self.ttl_s)
        pipe.execute()

    def is_revoked(self, session_id: str) -> bool:
        return bool(self.client.exists(f"{_PREFIX}{session_id}"))

    async def is_revoked_async(self, session_id: str) -> bool:
        """`is_revoked` on the event loop: asked by every authenticated request, it must not
        cost each of them a hop to the thread pool."""
        async with bounded(self.timeout_s):
            return bool(await self.async_client.exists(f"{_PREFIX}{session_id}"))
