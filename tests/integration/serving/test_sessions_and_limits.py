"""Regression tests of the hardening findings about accounts (issue 10): refresh tokens rotate
and a reused one revokes its family, logout and a password change end sessions (finding 5);
login limits per address and per account that no Authorization header escapes, X-Forwarded-For
believed only from trusted proxies, a lockout with backoff, registration limited per address,
and a taken address that registers like a free one (finding 6); and logins that queue in the
bounded hashing pool (finding 8)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.security import Role, issue_token
from shoplake.config import Settings
from tests.support.api import generous_limits
from tests.support.callers import Caller

PASSWORD = "a long enough password"


def _address() -> tuple[str, int]:
    """A client address of its own, so the per-address buckets of other tests never meet."""
    n = uuid.uuid4().int
    return f"10.{n % 200 + 20}.{n // 200 % 250}.{n // 50000 % 250 + 1}", 5000


def _email() -> str:
    return f"session-{uuid.uuid4().hex[:10]}@example.com"


def _login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def _me(client: TestClient, access: str) -> int:
    response = client.get("/v1/users/me", headers={"Authorization": f"Bearer {access}"})
    return int(response.status_code)


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_whole_family(
    client: TestClient, customer: Caller
) -> None:
    first = _login(client, customer.email, customer.password)
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert _me(client, rotated["access_token"]) == 200

    # The old refresh token again: it leaked (or was stolen). Refused, and the session ends.
    reused = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "INVALID_REFRESH_TOKEN"
    assert _me(client, rotated["access_token"]) == 401
    assert _me(client, first["access_token"]) == 401
    after = client.post("/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401

    # Another session of the same user is not touched.
    other = _login(client, customer.email, customer.password)
    assert _me(client, other["access_token"]) == 200


def test_logout_ends_the_session_and_only_it(client: TestClient, customer: Caller) -> None:
    one = _login(client, customer.email, customer.password)
    two = _login(client, customer.email, customer.password)
    out = client.post("/v1/auth/logout", headers={"Authorization": f"Bearer {one['access_token']}"})
    assert out.status_code == 204
    assert _me(client, one["access_token"]) == 401
    refused = client.post("/v1/auth/refresh", json={"refresh_token": one["refresh_token"]})
    assert refused.status_code == 401
    assert _me(client, two["access_token"]) == 200
    assert client.post("/v1/auth/logout").status_code == 401


def test_a_password_change_ends_every_session(client: TestClient, customer: Caller) -> None:
    sessions = [_login(client, customer.email, customer.password) for _ in range(3)]
    changed = client.patch(
        "/v1/users/me",
        json={"password": "another long password", "current_password": customer.password},
        headers={"Authorization": f"Bearer {sessions[0]['access_token']}"},
    )
    assert changed.status_code == 200
    for session in sessions:
        assert _me(client, session["access_token"]) == 401
        refresh = client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert refresh.status_code == 401


@pytest.fixture
def tight(settings: Settings) -> Iterator[TestClient]:
    """The real limits, small enough to reach: 3 tries per address, 4 per account a minute."""
    limited = settings.model_copy(
        update={
            "rate_limit_auth_per_minute": 3,
            "rate_limit_login_account_per_minute": 4,
            "readiness_gates": ["postgres", "redis"],
        }
    )
    with TestClient(create_app(limited), client=_address()) as client:
        yield client


def test_an_access_token_does_not_move_a_limited_address_to_a_fresh_bucket(
    tight: TestClient, settings: Settings
) -> None:
    for _ in range(3):
        tight.post("/v1/auth/token", data={"username": _email(), "password": "wrong password"})
    assert (
        tight.post("/v1/auth/token", data={"username": _email(), "password": "x"}).status_code
        == 429
    )
    any_token, _ = issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")
    with_token = tight.post(
        "/v1/auth/token",
        data={"username": _email(), "password": "x"},
        headers={"Authorization": f"Bearer {any_token}"},
    )
    assert with_token.status_code == 429
    # X-Forwarded-For from an untrusted peer (no proxy is trusted by default) changes nothing.
    forwarded = tight.post(
        "/v1/auth/token",
        data={"username": _email(), "password": "x"},
        headers={"X-Forwarded-For": "203.0.113.77"},
    )
    assert forwarded.status_code == 429


def test_one_account_is_limited_whatever_the_address(settings: Settings) -> None:
    limited = generous_limits(settings).model_copy(
        update={"rate_limit_login_account_per_minute": 3, "login_lockout_failures": 100}
    )
    target = _email()
    statuses = []
    for _ in range(5):  # each try from another address
        with TestClient(create_app(limited), client=_address()) as client:
            statuses.append(
                client.post(
                    "/v1/auth/token", data={"username": target, "password": "guess"}
                ).status_code
            )
    assert statuses == [401, 401, 401, 429, 429]


def test_repeated_failures_lock_the_account_with_a_growing_backoff(
    settings: Settings, make_caller: object, redis_client: redis.Redis
) -> None:
    locking = generous_limits(settings).model_copy(
        update={"login_lockout_failures": 3, "login_lockout_base_s": 30.0}
    )
    email = _email()
    with TestClient(create_app(generous_limits(settings))) as plain:
        assert (
            plain.post("/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code
            == 202
        )
    with TestClient(create_app(locking), client=_address()) as client:
        statuses = [
            client.post("/v1/auth/token", data={"username": email, "password": "wrong"}).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 401]  # the third failure locks
        locked = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert locked.status_code == 429  # even with the right password, until it expires
        assert locked.json()["error"]["code"] == "LOGIN_LOCKED"
        first_lock = int(locked.headers["Retry-After"])
        assert 25 <= first_lock <= 30
        # The lock ends; the next failure locks twice as long.
        keys = list(redis_client.scan_iter("lockout:login:*"))
        for key in keys:
            if redis_client.hget(key, "until") is not None:
                redis_client.hset(key, "until", "0")
        wrong = client.post("/v1/auth/token", data={"username": email, "password": "wrong"})
        assert wrong.status_code == 401
        again = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > first_lock
        for key in keys:
            redis_client.hset(key, "until", "0")
        # A success clears the count.
        assert (
            client.post(
                "/v1/auth/token", data={"username": email, "password": PASSWORD}
            ).status_code
            == 200
        )


def test_registration_is_limited_per_address(settings: Settings) -> None:
    limited = generous_limits(settings).model_copy(update={"rate_limit_register_per_minute": 2})
    with TestClient(create_app(limited), client=_address()) as client:
        statuses = [
            client.post(
                "/v1/auth/register", json={"email": _email(), "password": PASSWORD}
            ).status_code
            for _ in range(4)
        ]
    assert statuses == [202, 202, 429, 429]


def test_a_taken_address_registers_like_a_free_one(client: TestClient, customer: Caller) -> None:
    taken = client.post(
        "/v1/auth/register", json={"email": customer.email, "password": "some other password"}
    )
    free = client.post("/v1/auth/register", json={"email": _email(), "password": PASSWORD})
    assert taken.status_code == free.status_code == 202
    assert set(taken.json()) == set(free.json())
    assert taken.json()["message"] == free.json()["message"]
    # ... and the owner's password is still theirs.
    _login(client, customer.email, customer.password)


def test_logins_are_hashed_in_a_bounded_pool(client: TestClient) -> None:
    pool = client.app.state.password_pool  # type: ignore[attr-defined]
    assert 1 <= pool.threads <= 2  # the cores of this machine, shared by the workers
