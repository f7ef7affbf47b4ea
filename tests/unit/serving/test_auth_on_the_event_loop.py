"""The caller's dependencies ask Redis on the event loop (`serving.redis_async`): a Redis that
is away or silent must still answer 503 CACHE_UNAVAILABLE, never 500 and never let the
request through, as the blocking client did. Real redis-py clients against a closed port and
against a server that accepts and never answers; no Redis server is needed."""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.deps import CartRateLimit, CurrentUser
from serving.errors import install_error_handlers
from serving.ratelimit import RateLimiter
from serving.redis_async import bounded
from serving.revocation import RevokedSessions
from serving.security import Role, issue_token
from shoplake.config import Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _client(port: int) -> tuple[TestClient, Settings]:
    settings = Settings(
        _env_file=None,
        redis_url=f"redis://127.0.0.1:{port}/0",
        redis_socket_timeout_s=0.3,
        redis_connect_timeout_s=0.3,
    )
    url = settings.redis_endpoint
    sync = redis.Redis.from_url(url, socket_timeout=0.3, socket_connect_timeout=0.3)
    async_client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=0.3)
    app = FastAPI()
    install_error_handlers(app)
    app.state.settings = settings
    app.state.revoked_sessions = RevokedSessions(sync, async_client, settings)
    app.state.rate_limiter = RateLimiter(sync, async_client, settings.redis_socket_timeout_s)

    @app.get("/me")
    def me(user: CurrentUser) -> dict[str, str]:
        return {"user": user.user_id}

    @app.post("/cart", dependencies=[CartRateLimit])
    def cart() -> dict[str, str]:
        return {"ok": "cart"}

    return TestClient(app), settings


def _bearer(settings: Settings) -> dict[str, str]:
    token, _ = issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("route", ["/me", "/cart"])
def test_redis_away_answers_503_for_a_signed_in_caller(route: str) -> None:
    client, settings = _client(_closed_port())
    method = client.get if route == "/me" else client.post
    response = method(route, headers=_bearer(settings))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "CACHE_UNAVAILABLE"


@pytest.mark.parametrize("route", ["/me", "/cart"])
def test_a_silent_redis_answers_503_once_the_command_timeout_passes(
    route: str, silent_port: int
) -> None:
    client, settings = _client(silent_port)
    method = client.get if route == "/me" else client.post
    response = method(route, headers=_bearer(settings))
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "CACHE_UNAVAILABLE"


def test_bounded_turns_a_timeout_into_redis_s_own_error() -> None:
    async def slow() -> None:
        async with bounded(0.05):
            await asyncio.sleep(1)

    with pytest.raises(redis.TimeoutError):
        asyncio.run(slow())


def test_bounded_lets_a_quick_command_through() -> None:
    async def quick() -> int:
        async with bounded(1.0):
            await asyncio.sleep(0)
            return 7

    assert asyncio.run(quick()) == 7
