"""Checkout and cart limits count users, not addresses: a crowd of signed-in shoppers behind
one address (a campus, a carrier's NAT) all get through, each still limited on their own; the
anonymous carts of one address share its bucket. On the real app, Redis and Postgres."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from serving.app import create_app
from serving.security import Role, issue_token
from shoplake.config import Settings
from tests.support.api import generous_limits

ADDRESS = {
    "full_name": "Crowd Shopper",
    "line1": "1 Campus Road",
    "city": "Lyon",
    "postal_code": "69001",
    "country": "FR",
}


def _one_address() -> tuple[str, int]:
    n = uuid.uuid4().int
    return f"10.{n % 200 + 20}.{n // 200 % 250}.{n // 50000 % 250 + 1}", 5000


def _tight(settings: Settings) -> Settings:
    # Five per minute: keyed by address, the sixth shopper would already be refused.
    return generous_limits(settings).model_copy(
        update={"rate_limit_checkout_per_minute": 5, "rate_limit_cart_per_minute": 5}
    )


def _bearer(settings: Settings) -> dict[str, str]:
    token, _ = issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")
    return {"Authorization": f"Bearer {token}"}


def test_fifty_shoppers_from_one_address_all_get_through_checkouts_limiter(
    settings: Settings,
) -> None:
    tight = _tight(settings)
    with TestClient(create_app(tight), client=_one_address()) as client:
        shoppers = [_bearer(tight) for _ in range(50)]
        answers = [
            client.post(
                "/v1/checkout",
                json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
                headers={**h, "Idempotency-Key": f"crowd-{uuid.uuid4().hex}"},
            )
            for h in shoppers
        ]
        # Past the limiter, into the saga: their carts are empty.
        assert [a.status_code for a in answers] == [422] * 50, answers[0].text
        assert {a.json()["error"]["code"] for a in answers} == {"CART_EMPTY"}
        # One shopper's own bucket still holds: the sixth checkout in a minute is a 429.
        again = [
            client.post(
                "/v1/checkout",
                json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
                headers={**shoppers[0], "Idempotency-Key": f"crowd-{uuid.uuid4().hex}"},
            ).status_code
            for _ in range(5)
        ]
        assert again == [422, 422, 422, 422, 429]


def test_cart_writes_count_per_shopper_and_anonymous_ones_per_address(
    settings: Settings,
) -> None:
    tight = _tight(settings)
    with TestClient(create_app(tight), client=_one_address()) as client:
        item = {"sku": f"NOPE-{uuid.uuid4().hex[:8].upper()}", "quantity": 1}
        signed_in = [
            client.post("/v1/cart/items", json=item, headers=_bearer(tight)).status_code
            for _ in range(20)
        ]
        assert 429 not in signed_in and len(set(signed_in)) == 1  # all refused by the cart
        anonymous = [client.post("/v1/cart/items", json=item).status_code for _ in range(6)]
        assert 429 not in anonymous[:5]
        assert anonymous[5] == 429
