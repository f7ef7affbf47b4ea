"""Coupons on carts: usage limits that hold under concurrent shoppers, re-applying, removing,
window and state errors, and the claim that follows an anonymous cart into the user's."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.cart.service import anonymous_cart_id
from serving.pricing.tables import coupon_redemptions
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller, MakeCaller

MakeCoupon = Callable[..., dict[str, Any]]


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def make_coupon(client: TestClient, admin: Caller, tag: str) -> Iterator[MakeCoupon]:
    """A cart-wide percentage coupon (only ever applied with its code); deleted afterwards."""
    created: list[str] = []
    count = iter(range(1, 1000))

    def make(**fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "Coupon",
            "kind": "percentage",
            "value": 1000,
            "scope": "cart",
            "starts_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "coupon_code": f"C{tag}{next(count)}",
        }
        body.update(fields)
        response = client.post("/v1/admin/promotions", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
        return dict(response.json())

    yield make
    for promotion_id in created:
        client.delete(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)


@pytest.fixture
def product(client: TestClient, admin: Caller, tag: str) -> dict[str, Any]:
    response = client.post(
        "/v1/admin/products",
        json={
            "sku": f"CP-{tag}",
            "name": "Coupon thing",
            "brand": "acme",
            "category_path": [f"coupons-{tag}"],
            "price_cents": 2_000,
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def claims(engine: Engine, promotion_id: str) -> dict[str, bool]:
    """holder -> alive, for the promotion's claims."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                coupon_redemptions.c.holder,
                (coupon_redemptions.c.expires_at > sa.func.now()).label("alive"),
            ).where(coupon_redemptions.c.promotion_id == promotion_id)
        ).all()
    return {row.holder: row.alive for row in rows}


def apply(client: TestClient, code: str, headers: dict[str, str]) -> Any:
    return client.post("/v1/cart/coupon", json={"code": code}, headers=headers)


def anonymous() -> dict[str, str]:
    return {"X-Cart-Token": secrets.token_urlsafe(24)}


# ------------------------------------------------------------------ the usage limit


def test_limit_holds_under_concurrent_users(
    client: TestClient, make_caller: MakeCaller, make_coupon: MakeCoupon, engine: Engine
) -> None:
    limit, shoppers = 3, [make_caller() for _ in range(10)]
    coupon = make_coupon(usage_limit=limit)

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        responses = list(
            pool.map(lambda c: apply(client, coupon["coupon_code"], c.headers), shoppers)
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * limit + [409] * (len(shoppers) - limit)
    refused = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(refused) == {"COUPON_EXHAUSTED"}
    winners = {s.user_id for s, r in zip(shoppers, responses, strict=True) if r.status_code == 200}
    assert set(claims(engine, coupon["id"])) == winners
    shown = client.get(f"/v1/admin/promotions/{coupon['id']}", headers=shoppers[0].headers)
    assert shown.status_code == 403  # (customers cannot read promotions)


def test_limit_holds_under_many_anonymous_carts(
    client: TestClient, make_coupon: MakeCoupon, engine: Engine, admin: Caller
) -> None:
    limit, carts = 5, [anonymous() for _ in range(24)]
    coupon = make_coupon(usage_limit=limit)
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(lambda h: apply(client, coupon["coupon_code"], h).status_code, carts)
        )
    assert statuses.count(200) == limit
    assert statuses.count(409) == len(carts) - limit
    assert len(claims(engine, coupon["id"])) == limit
    shown = client.get(f"/v1/admin/promotions/{coupon['id']}", headers=admin.headers)
    assert shown.json()["redemptions"] == limit


def test_reapplying_spends_no_second_use(
    client: TestClient, customer: Caller, other_customer: Caller, make_coupon: MakeCoupon
) -> None:
    coupon = make_coupon(usage_limit=1)
    code = coupon["coupon_code"]
    assert apply(client, code, customer.headers).status_code == 200
    again = apply(client, code.lower(), customer.headers)  # codes are case-insensitive
    assert again.status_code == 200
    assert again.json()["coupon"]["code"] == code
    other = apply(client, code, other_customer.headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "COUPON_EXHAUSTED"
    assert other.json()["error"]["details"] == {"usage_limit": 1}


def test_removing_the_coupon_frees_its_use(
    client: TestClient,
    customer: Caller,
    other_customer: Caller,
    make_coupon: MakeCoupon,
    engine: Engine,
) -> None:
    coupon = make_coupon(usage_limit=1)
    code = coupon["coupon_code"]
    assert apply(client, code, customer.headers).status_code == 200
    assert apply(client, code, other_customer.headers).status_code == 409

    removed = client.delete("/v1/cart/coupon", headers=customer.headers)
    assert removed.status_code == 200
    assert removed.json()["coupon"] is None
    assert claims(engine, coupon["id"]) == {}
    again = client.delete("/v1/cart/coupon", headers=customer.headers)  # idempotent
    assert again.status_code == 200
    assert again.json()["version"] == removed.json()["version"]

    assert apply(client, code, other_customer.headers).status_code == 200
    assert set(claims(engine, coupon["id"])) == {other_customer.user_id}


def test_replacing_a_coupon_releases_the_first(
    client: TestClient, customer: Caller, make_coupon: MakeCoupon, engine: Engine
) -> None:
    first, second = make_coupon(usage_limit=2), make_coupon(usage_limit=2)
    assert apply(client, first["coupon_code"], customer.headers).status_code == 200
    swapped = apply(client, second["coupon_code"], customer.headers)
    assert swapped.status_code == 200
    assert swapped.json()["coupon"]["code"] == second["coupon_code"]
    assert claims(engine, first["id"]) == {}
    assert set(claims(engine, second["id"])) == {customer.user_id}


def test_a_stale_if_match_spends_no_use(
    client: TestClient,
    customer: Caller,
    other_customer: Caller,
    make_coupon: MakeCoupon,
    product: dict[str, Any],
    engine: Engine,
) -> None:
    coupon = make_coupon(usage_limit=1)
    client.post("/v1/cart/items", json={"sku": product["sku"]}, headers=customer.headers)
    stale = apply(client, coupon["coupon_code"], {**customer.headers, "If-Match": '"0"'})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "CART_VERSION_MISMATCH"
    assert claims(engine, coupon["id"]) == {}
    assert apply(client, coupon["coupon_code"], other_customer.headers).status_code == 200


# ------------------------------------------------------------------ what the cart shows


def test_applied_coupon_discounts_the_cart(
    client: TestClient, customer: Caller, make_coupon: MakeCoupon, product: dict[str, Any]
) -> None:
    coupon = make_coupon(value=2500)
    client.post(
        "/v1/cart/items", json={"sku": product["sku"], "quantity": 2}, headers=customer.headers
    )
    cart = apply(client, coupon["coupon_code"], customer.headers).json()
    assert cart["coupon"] == {
        "code": coupon["coupon_code"],
        "status": "applied",
        "promotion_id": coupon["id"],
    }
    ours = [a for a in cart["cart_adjustments"] if a["promotion_id"] == coupon["id"]]
    assert [a["amount_cents"] for a in ours] == [1_000]  # 25% of 4000
    assert cart["total_cents"] == cart["subtotal_cents"] - cart["discount_cents"]
    assert cart["discount_cents"] >= 1_000


# ------------------------------------------------------------------ refusals


def test_unknown_coupon_is_404(client: TestClient, customer: Caller, tag: str) -> None:
    response = apply(client, f"NOPE{tag}", customer.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "COUPON_NOT_FOUND"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (
            {
                "starts_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
                "ends_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            },
            "COUPON_EXPIRED",
        ),
        (
            {"starts_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            "COUPON_NOT_STARTED",
        ),
        ({"active": False}, "COUPON_INACTIVE"),
    ],
)
def test_coupons_outside_their_window_or_inactive_are_409(
    client: TestClient,
    customer: Caller,
    make_coupon: MakeCoupon,
    engine: Engine,
    fields: dict[str, Any],
    code: str,
) -> None:
    coupon = make_coupon(**fields)
    response = apply(client, coupon["coupon_code"], customer.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    assert claims(engine, coupon["id"]) == {}
    assert client.get("/v1/cart", headers=customer.headers).json()["coupon"] is None


def test_a_coupon_an_order_used_cannot_be_claimed_again(
    client: TestClient, customer: Caller, make_coupon: MakeCoupon, engine: Engine
) -> None:
    coupon = make_coupon()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(coupon_redemptions).values(
                promotion_id=coupon["id"],
                holder=customer.user_id,
                expires_at=datetime.now(UTC),
                order_id=f"order-{uuid.uuid4()}",
            )
        )
    try:
        response = apply(client, coupon["coupon_code"], customer.headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "COUPON_ALREADY_USED"
    finally:  # an order-used promotion cannot be deleted: drop the fake use first
        with engine.begin() as conn:
            conn.execute(
                sa.delete(coupon_redemptions).where(
                    coupon_redemptions.c.promotion_id == coupon["id"]
                )
            )


# ------------------------------------------------------------------ anonymous carts and login


def test_anonymous_coupon_moves_to_the_user_on_login(
    client: TestClient,
    customer: Caller,
    make_coupon: MakeCoupon,
    product: dict[str, Any],
    engine: Engine,
) -> None:
    coupon = make_coupon(usage_limit=1)
    cart = anonymous()
    client.post("/v1/cart/items", json={"sku": product["sku"]}, headers=cart)
    assert apply(client, coupon["coupon_code"], cart).status_code == 200
    assert set(claims(engine, coupon["id"])) == {anonymous_cart_id(cart["X-Cart-Token"])}

    login = client.post(
        "/v1/auth/token",
        data={"username": customer.email, "password": customer.password},
        headers=cart,
    )
    assert login.status_code == 200
    user_cart = client.get("/v1/cart", headers=customer.headers).json()
    assert user_cart["coupon"]["code"] == coupon["coupon_code"]
    assert set(claims(engine, coupon["id"])) == {customer.user_id}  # one use, now the user's
    assert apply(client, coupon["coupon_code"], anonymous()).status_code == 409


def test_user_coupon_wins_and_the_anonymous_claim_is_released(
    client: TestClient,
    customer: Caller,
    make_coupon: MakeCoupon,
    product: dict[str, Any],
    engine: Engine,
) -> None:
    mine, theirs = make_coupon(), make_coupon()
    assert apply(client, mine["coupon_code"], customer.headers).status_code == 200
    cart = anonymous()
    client.post("/v1/cart/items", json={"sku": product["sku"]}, headers=cart)
    assert apply(client, theirs["coupon_code"], cart).status_code == 200
    client.post(
        "/v1/auth/token",
        data={"username": customer.email, "password": customer.password},
        headers=cart,
    )
    user_cart = client.get("/v1/cart", headers=customer.headers).json()
    assert user_cart["coupon"]["code"] == mine["coupon_code"]
    assert claims(engine, theirs["id"]) == {}
    assert {line["sku"] for line in user_cart["lines"]} == {product["sku"]}
