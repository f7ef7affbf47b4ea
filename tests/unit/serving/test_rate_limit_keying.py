"""Whose bucket checkout and cart writes spend: the signed-in user's (the token's subject),
never the address's, so a crowd behind one address is not turned away; anonymous callers and
invalid tokens spend their address's. On an in-memory limiter, through the real dependencies."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.deps import CartRateLimit, CheckoutRateLimit, Keying, limit_subject
from serving.errors import install_error_handlers
from serving.security import Role, issue_token
from shoplake.config import Settings
from tests.support.fakes import InMemoryLimiter

SETTINGS = Settings(
    _env_file=None,
    rate_limit_checkout_per_minute=2,
    rate_limit_cart_per_minute=3,
)


def _client() -> tuple[TestClient, InMemoryLimiter]:
    app = FastAPI()
    install_error_handlers(app)
    limiter = InMemoryLimiter()
    app.state.settings = SETTINGS
    app.state.rate_limiter = limiter

    @app.post("/checkout", dependencies=[CheckoutRateLimit])
    def checkout() -> dict[str, str]:
        return {"ok": "checkout"}

    @app.post("/cart", dependencies=[CartRateLimit])
    def cart() -> dict[str, str]:
        return {"ok": "cart"}

    # Every caller comes from the one address, as from behind a NAT.
    return TestClient(app, client=("203.0.113.9", 4000)), limiter


def _bearer(user_id: str | None = None) -> dict[str, str]:
    token, _ = issue_token(SETTINGS, user_id or str(uuid.uuid4()), Role.CUSTOMER, "access")
    return {"Authorization": f"Bearer {token}"}


def test_the_subject_is_the_user_when_signed_in_else_the_address() -> None:
    assert limit_subject(Keying.USER, "u-1", "203.0.113.9") == "user:u-1"
    assert limit_subject(Keying.USER, None, "203.0.113.9") == "ip:203.0.113.9"
    assert limit_subject(Keying.ADDRESS, "u-1", "203.0.113.9") == "ip:203.0.113.9"


def test_fifty_shoppers_behind_one_address_each_have_their_own_checkout_bucket() -> None:
    client, limiter = _client()
    shoppers = [_bearer() for _ in range(50)]
    statuses = [client.post("/checkout", headers=h).status_code for h in shoppers for _ in (1, 2)]
    assert statuses == [200] * 100
    assert not any(subject.startswith("ip:") for _, subject in limiter.spent)
    # ...and each bucket is still a limit: a third checkout within the minute is refused.
    refused = client.post("/checkout", headers=shoppers[0])
    assert refused.status_code == 429
    assert refused.json()["error"]["details"]["rule"] == "checkout"


def test_cart_writes_count_per_user_and_apart_from_checkouts() -> None:
    client, limiter = _client()
    user = str(uuid.uuid4())
    headers = _bearer(user)
    assert [client.post("/cart", headers=headers).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    assert client.post("/checkout", headers=headers).status_code == 200
    assert limiter.spent[("cart", f"user:{user}")] == 3
    assert limiter.spent[("checkout", f"user:{user}")] == 1


def test_anonymous_and_invalid_tokens_share_the_address_bucket() -> None:
    client, limiter = _client()
    invalid = {"Authorization": "Bearer not-a-token"}
    statuses = [client.post("/cart").status_code, client.post("/cart", headers=invalid).status_code]
    statuses += [client.post("/cart").status_code, client.post("/cart").status_code]
    assert statuses == [200, 200, 200, 429]
    assert limiter.spent[("cart", "ip:203.0.113.9")] == 3
