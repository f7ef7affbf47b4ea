"""Accounts over HTTP: registration, tokens, profile, addresses, rate limits."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from serving.app import create_app
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent, parse_data
from shoplake.events.user import UserRegistered
from shoplake.outbox import outbox
from tests.support.callers import Caller

PASSWORD = "a long enough password"


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@Example.com"


def _login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_register_stores_a_hash_and_emits_user_registered(
    client: TestClient, api_settings: Settings
) -> None:
    email = _email()
    response = client.post(
        "/v1/auth/register", json={"email": email, "password": PASSWORD, "country": "FR"}
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == email.lower()
    assert user["role"] == "customer"
    assert "password" not in response.text

    engine = make_engine(api_settings, pool_size=1)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("select password_hash from users where id = :id"), {"id": user["id"]}
        ).scalar_one()
        rows = (
            conn.execute(sa.select(outbox.c.payload).where(outbox.c.key == user["id"]))
            .scalars()
            .all()
        )
    engine.dispose()
    assert stored.startswith("$argon2") and PASSWORD not in stored
    assert len(rows) == 1
    event = CloudEvent.model_validate(rows[0])
    assert event.type == UserRegistered.event_type()
    assert parse_data(event) == UserRegistered(
        user_id=user["id"], email=email.lower(), role="customer", country="FR"
    )


def test_register_errors(client: TestClient, customer: Caller) -> None:
    # A taken address answers like a new registration (its owner is told by e-mail instead:
    # tests/integration/serving/test_notifications.py); nothing is created.
    taken = client.post("/v1/auth/register", json={"email": customer.email, "password": PASSWORD})
    assert taken.status_code == 201
    assert taken.json()["id"] != customer.user_id

    short = client.post("/v1/auth/register", json={"email": _email(), "password": "short"})
    assert short.status_code == 422
    error = short.json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert error["details"][0]["loc"] == ["body", "password"]

    bad_email = client.post("/v1/auth/register", json={"email": "nope", "password": PASSWORD})
    assert bad_email.status_code == 422
    extra = client.post(
        "/v1/auth/register", json={"email": _email(), "password": PASSWORD, "role": "admin"}
    )
    assert extra.status_code == 422  # nobody registers themselves as admin


def test_token_refresh_and_me(client: TestClient) -> None:
    email = _email()
    assert (
        client.post("/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )
    tokens = _login(client, email.upper())  # emails are case-insensitive
    assert tokens["token_type"] == "bearer" and int(tokens["expires_in"]) > 0

    me = client.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == email.lower()

    # A refresh token is not an access token, and vice versa.
    wrong_kind = client.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert wrong_kind.status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": tokens["access_token"]}).status_code
        == 401
    )

    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_access = refreshed.json()["access_token"]
    assert (
        client.get("/v1/users/me", headers={"Authorization": f"Bearer {new_access}"}).status_code
        == 200
    )


def test_wrong_password_and_unknown_user_look_the_same(
    client: TestClient, customer: Caller
) -> None:
    wrong = client.post(
        "/v1/auth/token", data={"username": customer.email, "password": "not the password"}
    )
    unknown = client.post("/v1/auth/token", data={"username": _email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_expired_and_forged_tokens_are_refused(client: TestClient, api_settings: Settings) -> None:
    from serving.security import Role, issue_token

    expired_settings = api_settings.model_copy(update={"jwt_access_ttl_s": -10})
    expired, _ = issue_token(expired_settings, str(uuid.uuid4()), Role.ADMIN, "access")
    forged_settings = api_settings.model_copy(
        update={"jwt_secret": SecretStr("someone else's secret key 123456")}
    )
    forged, _ = issue_token(forged_settings, str(uuid.uuid4()), Role.ADMIN, "access")
    for token in (expired, forged, "not.a.jwt"):
        response = client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_update_profile_and_password(client: TestClient, customer: Caller) -> None:
    updated = client.patch(
        "/v1/users/me", json={"display_name": "Ada", "country": "DE"}, headers=customer.headers
    )
    assert updated.status_code == 200
    assert (updated.json()["display_name"], updated.json()["country"]) == ("Ada", "DE")

    no_current = client.patch(
        "/v1/users/me", json={"password": "a brand new password"}, headers=customer.headers
    )
    assert no_current.status_code == 403
    changed = client.patch(
        "/v1/users/me",
        json={"password": "a brand new password", "current_password": customer.password},
        headers=customer.headers,
    )
    assert changed.status_code == 200
    _login(client, customer.email, "a brand new password")
    old = client.post(
        "/v1/auth/token", data={"username": customer.email, "password": customer.password}
    )
    assert old.status_code == 401


ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def test_addresses_crud_and_isolation(
    client: TestClient, customer: Caller, other_customer: Caller
) -> None:
    first = client.post("/v1/users/me/addresses", json=ADDRESS, headers=customer.headers)
    assert first.status_code == 201
    assert first.json()["is_default"] is True  # the first address is the default
    second = client.post(
        "/v1/users/me/addresses",
        json={**ADDRESS, "label": "work", "is_default": True},
        headers=customer.headers,
    )
    listed = client.get("/v1/users/me/addresses", headers=customer.headers).json()
    assert [a["is_default"] for a in listed] == [False, True]

    patched = client.patch(
        f"/v1/users/me/addresses/{first.json()['id']}",
        json={"city": "Oxford"},
        headers=customer.headers,
    )
    assert patched.status_code == 200 and patched.json()["city"] == "Oxford"

    # Another customer cannot see, change or delete it: 404, as if it did not exist.
    address_id = second.json()["id"]
    assert (
        client.patch(
            f"/v1/users/me/addresses/{address_id}",
            json={"city": "X"},
            headers=other_customer.headers,
        ).status_code
        == 404
    )
    assert (
        client.delete(
            f"/v1/users/me/addresses/{address_id}", headers=other_customer.headers
        ).status_code
        == 404
    )
    assert client.get("/v1/users/me/addresses", headers=other_customer.headers).json() == []

    assert (
        client.delete(f"/v1/users/me/addresses/{address_id}", headers=customer.headers).status_code
        == 204
    )
    assert (
        client.delete(f"/v1/users/me/addresses/{address_id}", headers=customer.headers).status_code
        == 404
    )
    bad = client.post(
        "/v1/users/me/addresses", json={**ADDRESS, "country": "gb"}, headers=customer.headers
    )
    assert bad.status_code == 422


def test_auth_routes_are_rate_limited_per_ip(settings: Settings) -> None:
    tight = settings.model_copy(update={"rate_limit_auth_per_minute": 3})
    with TestClient(create_app(tight), client=(f"10.9.{uuid.uuid4().int % 250}.7", 5000)) as client:
        statuses = [
            client.post("/v1/auth/token", data={"username": _email(), "password": "x"}).status_code
            for _ in range(5)
        ]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3:] == [429, 429]
        limited = client.post("/v1/auth/token", data={"username": _email(), "password": "x"})
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
        assert int(limited.headers["Retry-After"]) >= 1
