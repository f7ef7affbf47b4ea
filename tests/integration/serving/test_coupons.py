"""Coupons on carts: a usage limit that counts orders (never carts, anonymous or not) and holds
under concurrent checkouts, re-applying, removing, window and state errors, and the claim that
follows an anonymous cart into the user's."""

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
from tests.support.callers import Caller
from tests.support.shop_api import do_checkout, fill_cart, token_headers
from tests.support.shop_api import product as shop_product

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


def claims_used(engine: Engine, promotion_id: str) -> int:
    """Claims an order holds: what the usage limit counts."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    coupon_redemptions.c.promotion_id == promotion_id,
                    coupon_redemptions.c.order_id.is_not(None),
                )
            ).scalar_one()
        )


def apply(client: TestClient, code: str, headers: dict[str, str]) -> Any:
    return client.post("/v1/cart/coupon", json={"code": code}, headers=headers)


def anonymous() -> dict[str, str]:
    return {"X-Cart-Token": secrets.token_urlsafe(24)}


# ------------------------------------------------------------------ the usage limit


def test_the_limit_counts_orders_and_holds_under_concurrent_checkouts(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    make_coupon: MakeCoupon,
    engine: Engine,
) -> None:
    limit, shoppers = 3, [token_headers(api_settings) for _ in range(10)]
    coupon = make_coupon(usage_limit=limit)
    sku = shop_product(client, admin, units=20)
    for headers in shoppers:  # every cart may carry the coupon: carts use up nothing
        fill_cart(client, headers, sku, 1)
        assert apply(client, coupon["coupon_code"], headers).status_code == 200
    assert claims_used(engine, coupon["id"]) == 0

    with ThreadPoolExecutor(max_workers=len(shoppers)) as pool:
        responses = list(
            pool.map(lambda h: do_checkout(client, h, f"k-{uuid.uuid4().hex}"), shoppers)
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * limit + [409] * (len(shoppers) - limit)
    refused = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert refused == {"COUPON_EXHAUSTED"}  # refused up front: no order, no hold, no charge
    assert claims_used(engine, coupon["id"]) == limit
    shown = client.get(f"/v1/admin/promotions/{coupon['id']}", headers=admin.headers)
    assert shown.json()["redemptions"] == limit


def test_anonymous_carts_use_up_nothing(
    client: TestClient, make_coupon: MakeCoupon, engine: Engine, admin: Caller, customer: Caller
) -> None:
    """Finding 7 of the hardening issue: three anonymous carts exhausted a limit of 3."""
    limit, carts = 3, [anonymous() for _ in range(12)]
    coupon = make_coupon(usage_limit=limit)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(
            pool.map(lambda h: apply(client, coupon["coupon_code"], h).status_code, carts)
        )
    assert statuses == [200] * len(carts)
    assert claims_used(engine, coupon["id"]) == 0
    shown = client.get(f"/v1/admin/promotions/{coupon['id']}", headers=admin.headers)
    assert shown.json()["redemptions"] == 0
    assert apply(client, coupon["coupon_code"], customer.headers).status_code == 200


def test_reapplying_spends_no_use(
    client: TestClient, customer: Caller, other_customer: Caller, make_coupon: MakeCoupon
) -> None:
    coupon = make_coupon(usage_limit=1)
    code = coupon["coupon_code"]
    assert apply(client, code, customer.headers).status_code == 200
    again = apply(client, code.lower(), customer.headers)  # codes are case-insensitive
    assert again.status_code == 200
    assert again.json()["coupon"]["code"] == code
    assert apply(client, code, other_customer.headers).status_code == 200


def test_a_used_up_coupon_is_refused_at_apply_and_a_failed_order_gives_its_use_back(
    client: TestClient,
    admin: Caller,
    api_settings: Settings,
    make_coupon: MakeCoupon,
    engine: Engine,
) -> None:
    coupon = make_coupon(usage_limit=1)
    code = coupon["coupon_code"]
    sku = shop_product(client, admin, units=5)
    declined, paid, late = (token_headers(api_settings) for _ in range(3))
    for headers in (declined, paid, late):
        fill_cart(client, headers, sku, 1)
        assert apply(client, code, headers).status_code == 200
    response = do_checkout(client, declined, f"k-{uuid.uuid4().hex}", token="tok_decline")
    assert response.status_code == 402, response.text
    assert claims_used(engine, coupon["id"]) == 0  # the failed order gave its use back
    assert do_checkout(client, paid, f"k-{uuid.uuid4().hex}").status_code == 201
    exhausted = do_checkout(client, late, f"k-{uuid.uuid4().hex}")
    assert exhausted.status_code == 409
    assert exhausted.json()["error"]["code"] == "COUPON_EXHAUSTED"
    other = apply(client, code, token_headers(api_settings))
    assert other.status_code == 409
    assert other.json()["error"]["details"] == {"usage_limit": 1}


def test_removing_the_coupon_drops_the_claim(
    client: TestClient, customer: Caller, make_coupon: MakeCoupon, engine: Engine
) -> None:
    coupon = make_coupon(usage_limit=1)
    code = coupon["coupon_code"]
    assert apply(client, code, customer.headers).status_code == 200
    removed = client.delete("/v1/cart/coupon", headers=customer.headers)
    assert removed.status_code == 200
    assert removed.json()["coupon"] is None
    assert claims(engine, coupon["id"]) == {}
    again = client.delete("/v1/cart/coupon", headers=customer.headers)  # idempotent
    assert again.status_code == 200
    assert again.json()["version"] == removed.json()["version"]


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
    assert set(claims(engine, coupon["id"])) == {customer.user_id}  # the claim, now the user's
    assert claims_used(engine, coupon["id"]) == 0  # a use is an order's, not a cart's


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
