"""Promotions (admin CRUD, authorization, validation) and server-side quotes with explanations.

Every promotion made here is scoped to this test's own SKUs or categories, or needs a coupon,
so no other test's quote ever sees it; the fixture deletes them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.pricing.tables import coupon_redemptions
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller, MakeCaller

MakeProduct = Callable[..., dict[str, Any]]
MakePromotion = Callable[..., dict[str, Any]]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def tag() -> str:
    """A unique slug for this test's SKUs, categories and coupon codes."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def make_product(client: TestClient, admin: Caller, tag: str) -> MakeProduct:
    """Create an active product through the catalog's admin route."""
    count = iter(range(1, 1000))

    def make(**fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sku": f"PR-{tag}-{next(count)}",
            "name": "Trail runner",
            "brand": "acme",
            "category_path": [f"shoes-{tag}", "running"],
            "price_cents": 10_000,
            "currency": "EUR",
        }
        body.update(fields)
        response = client.post("/v1/admin/products", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


@pytest.fixture
def make_promotion(client: TestClient, admin: Caller) -> Iterator[MakePromotion]:
    created: list[str] = []

    def make(**fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "Spring sale",
            "kind": "percentage",
            "value": 1000,
            "scope": "sku",
            "starts_at": _iso(datetime.now(UTC) - timedelta(hours=1)),
        }
        body.update(fields)
        response = client.post("/v1/admin/promotions", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
        return dict(response.json())

    yield make
    for promotion_id in created:
        client.delete(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)


# ------------------------------------------------------------------ admin CRUD


def test_promotion_crud_round_trip(
    client: TestClient, admin: Caller, make_promotion: MakePromotion, tag: str
) -> None:
    created = make_promotion(
        name="Ten off shoes",
        scope="category",
        scope_values=[f"shoes-{tag}"],
        coupon_code=f"shoes{tag}",
        usage_limit=5,
        stackable=False,
        priority=3,
    )
    assert created["coupon_code"] == f"SHOES{tag.upper()}"  # codes are stored upper-case
    assert created["usage_limit"] == 5
    assert created["stackable"] is False
    assert created["redemptions"] == 0
    promotion_id = created["id"]

    fetched = client.get(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "Ten off shoes"

    listed = client.get(
        "/v1/admin/promotions", params={"coupon_code": f"shoes{tag}"}, headers=admin.headers
    )
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [promotion_id]
    assert listed.json()["total"] == 1

    patched = client.patch(
        f"/v1/admin/promotions/{promotion_id}",
        json={"value": 2500, "ends_at": _iso(datetime.now(UTC) + timedelta(days=3))},
        headers=admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["value"] == 2500
    assert patched.json()["ends_at"] is not None
    assert patched.json()["name"] == "Ten off shoes"  # untouched fields stay

    # A change that would make the promotion invalid is refused as a whole.
    invalid = client.patch(
        f"/v1/admin/promotions/{promotion_id}", json={"value": 20_000}, headers=admin.headers
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "VALIDATION_FAILED"
    unchanged = client.get(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)
    assert unchanged.json()["value"] == 2500

    deleted = client.delete(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)
    assert deleted.status_code == 204
    gone = client.get(f"/v1/admin/promotions/{promotion_id}", headers=admin.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "PROMOTION_NOT_FOUND"


def test_list_pages_and_filters_by_active(
    client: TestClient, admin: Caller, make_promotion: MakePromotion, tag: str
) -> None:
    inactive = make_promotion(scope_values=[f"X-{tag}"], coupon_code=f"off{tag}", active=False)
    page = client.get(
        "/v1/admin/promotions",
        params={"active": "false", "coupon_code": f"off{tag}", "limit": 1},
        headers=admin.headers,
    )
    assert page.status_code == 200
    assert [p["id"] for p in page.json()["items"]] == [inactive["id"]]
    active_page = client.get(
        "/v1/admin/promotions",
        params={"active": "true", "coupon_code": f"off{tag}"},
        headers=admin.headers,
    )
    assert active_page.json()["items"] == []


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"value": 10_001}, "10000"),
        ({"kind": "fixed", "value": 500}, "currency"),
        ({"kind": "percentage", "currency": "EUR"}, "currency"),
        ({"scope": "cart", "scope_values": ["A"]}, "scope_values"),
        ({"scope": "sku", "scope_values": []}, "scope_values"),
        ({"scope": "category", "scope_values": ["Not A Slug"]}, "category"),
        ({"scope_values": ["A"], "usage_limit": 3}, "coupon"),
        ({"scope_values": ["A"], "value": 0}, "greater than 0"),
        ({"scope_values": ["A"], "starts_at": "2026-01-01T00:00:00"}, "timezone"),
    ],
)
def test_invalid_promotions_are_422(
    client: TestClient, admin: Caller, fields: dict[str, Any], fragment: str
) -> None:
    body: dict[str, Any] = {
        "name": "bad",
        "kind": "percentage",
        "value": 1000,
        "scope": "sku",
        "scope_values": ["A"],
        "starts_at": _iso(datetime.now(UTC)),
    }
    body.update(fields)
    response = client.post("/v1/admin/promotions", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert fragment in response.text


def test_ends_before_start_is_422(client: TestClient, admin: Caller) -> None:
    now = datetime.now(UTC)
    response = client.post(
        "/v1/admin/promotions",
        json={
            "name": "backwards",
            "kind": "percentage",
            "value": 100,
            "scope": "sku",
            "scope_values": ["A"],
            "starts_at": _iso(now),
            "ends_at": _iso(now - timedelta(days=1)),
        },
        headers=admin.headers,
    )
    assert response.status_code == 422
    assert "ends_at" in response.text


def test_coupon_code_is_unique(
    client: TestClient, admin: Caller, make_promotion: MakePromotion, tag: str
) -> None:
    make_promotion(scope_values=["A"], coupon_code=f"uniq{tag}")
    clash = client.post(
        "/v1/admin/promotions",
        json={
            "name": "again",
            "kind": "percentage",
            "value": 100,
            "scope": "sku",
            "scope_values": ["B"],
            "starts_at": _iso(datetime.now(UTC)),
            "coupon_code": f"UNIQ{tag}",
        },
        headers=admin.headers,
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "COUPON_CODE_TAKEN"


def test_bad_or_unknown_promotion_ids(client: TestClient, admin: Caller) -> None:
    assert client.get("/v1/admin/promotions/not-a-uuid", headers=admin.headers).status_code == 422
    unknown = f"/v1/admin/promotions/{uuid.uuid4()}"
    assert client.get(unknown, headers=admin.headers).status_code == 404
    assert client.patch(unknown, json={"value": 5}, headers=admin.headers).status_code == 404
    assert client.delete(unknown, headers=admin.headers).status_code == 404


def test_promotion_used_by_an_order_cannot_be_deleted(
    client: TestClient,
    admin: Caller,
    make_promotion: MakePromotion,
    api_settings: Settings,
    tag: str,
) -> None:
    promotion = make_promotion(scope_values=["A"], coupon_code=f"used{tag}")
    engine = make_engine(api_settings, pool_size=1)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(coupon_redemptions).values(
                promotion_id=promotion["id"],
                holder=f"user-{tag}",
                expires_at=datetime.now(UTC),
                order_id=f"order-{tag}",
            )
        )
    try:
        refused = client.delete(f"/v1/admin/promotions/{promotion['id']}", headers=admin.headers)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "PROMOTION_IN_USE"
        shown = client.get(f"/v1/admin/promotions/{promotion['id']}", headers=admin.headers)
        assert shown.json()["redemptions"] == 1
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.delete(coupon_redemptions).where(
                    coupon_redemptions.c.promotion_id == promotion["id"]
                )
            )
        engine.dispose()


# ------------------------------------------------------------------ authorization


ADMIN_ROUTES = [
    ("POST", "/v1/admin/promotions"),
    ("GET", "/v1/admin/promotions"),
    ("GET", "/v1/admin/promotions/{id}"),
    ("PATCH", "/v1/admin/promotions/{id}"),
    ("DELETE", "/v1/admin/promotions/{id}"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_need_an_admin(
    client: TestClient, make_caller: MakeCaller, method: str, path: str
) -> None:
    url = path.format(id=uuid.uuid4())
    body = {"value": 5} if method in ("POST", "PATCH") else None
    anonymous = client.request(method, url, json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "NOT_AUTHENTICATED"
    customer = make_caller()
    forbidden = client.request(method, url, json=body, headers=customer.headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "FORBIDDEN"


# ------------------------------------------------------------------ quotes


def _adjustments(line: dict[str, Any]) -> dict[str, int]:
    return {a["promotion_id"]: a["amount_cents"] for a in line["adjustments"]}


def test_quote_prices_live_and_explains_each_adjustment(
    client: TestClient,
    make_product: MakeProduct,
    make_promotion: MakePromotion,
    tag: str,
) -> None:
    shoe = make_product(price_cents=12_999)
    sock = make_product(price_cents=1_050, category_path=[f"socks-{tag}"])
    shoe_sale = make_promotion(name="Shoe sale", value=1500, scope_values=[shoe["sku"]])
    sock_deal = make_promotion(
        name="Sock deal",
        kind="fixed",
        value=200,
        currency="EUR",
        scope="category",
        scope_values=[f"socks-{tag}"],
    )
    coupon = make_promotion(
        name="Welcome", value=1000, scope="cart", coupon_code=f"hello{tag}", usage_limit=10
    )
    response = client.post(
        "/v1/pricing/quote",
        json={
            "items": [{"sku": shoe["sku"], "quantity": 1}, {"sku": sock["sku"], "quantity": 3}],
            "coupon_code": f"hello{tag}",
        },
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    shoe_line, sock_line = quote["lines"]
    # 15% of 12999 = 1949.85 -> 1950 (not a tie, so to the nearest cent)
    assert _adjustments(shoe_line) == {shoe_sale["id"]: 1_950}
    assert shoe_line["adjustments"][0]["name"] == "Shoe sale"
    assert shoe_line["adjustments"][0]["description"].startswith("15.00% off")
    assert shoe_line["total_cents"] == 12_999 - 1_950
    assert sock_line["name"] == "Trail runner"
    assert _adjustments(sock_line) == {sock_deal["id"]: 600}  # 200 off each of 3 units
    assert sock_line["total_cents"] == 3 * 1_050 - 600
    # The coupon: 10% of what is left of the cart (11049 + 2550 = 13599) = 1359.9 -> 1360
    assert [(a["promotion_id"], a["amount_cents"]) for a in quote["cart_adjustments"]] == [
        (coupon["id"], 1_360)
    ]
    assert quote["coupon"] == {
        "code": f"HELLO{tag.upper()}",
        "status": "applied",
        "promotion_id": coupon["id"],
    }
    assert quote["subtotal_cents"] == 12_999 + 3_150
    assert quote["discount_cents"] == 1_950 + 600 + 1_360
    assert quote["total_cents"] == quote["subtotal_cents"] - quote["discount_cents"]
    assert quote["currency"] == "EUR"


def test_quote_reflects_the_live_catalog_price(
    client: TestClient, admin: Caller, make_product: MakeProduct
) -> None:
    product = make_product(price_cents=5_000)
    changed = client.patch(
        f"/v1/admin/products/{product['sku']}", json={"price_cents": 4_200}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    response = client.post(
        "/v1/pricing/quote", json={"items": [{"sku": product["sku"], "quantity": 2}]}
    )
    assert response.status_code == 200
    assert response.json()["lines"][0]["unit_price_cents"] == 4_200
    assert response.json()["subtotal_cents"] == 8_400


def test_quote_picks_the_best_non_stackable_and_says_why(
    client: TestClient, make_product: MakeProduct, make_promotion: MakePromotion
) -> None:
    product = make_product(price_cents=10_000)
    small = make_promotion(name="small", value=500, scope_values=[product["sku"]])
    big = make_promotion(name="big", value=3000, scope_values=[product["sku"]], stackable=False)
    response = client.post(
        "/v1/pricing/quote", json={"items": [{"sku": product["sku"], "quantity": 1}]}
    )
    quote = response.json()
    assert _adjustments(quote["lines"][0]) == {big["id"]: 3_000}
    assert {"promotion_id": small["id"], "name": "small", "reason": "better_offer"} in quote[
        "not_applied"
    ]


def test_quote_ignores_promotions_outside_their_window(
    client: TestClient, make_product: MakeProduct, make_promotion: MakePromotion
) -> None:
    product = make_product()
    now = datetime.now(UTC)
    make_promotion(scope_values=[product["sku"]], starts_at=_iso(now + timedelta(days=1)))
    make_promotion(
        scope_values=[product["sku"]],
        starts_at=_iso(now - timedelta(days=5)),
        ends_at=_iso(now - timedelta(days=1)),
    )
    make_promotion(scope_values=[product["sku"]], active=False)
    response = client.post(
        "/v1/pricing/quote", json={"items": [{"sku": product["sku"], "quantity": 1}]}
    )
    assert response.status_code == 200
    assert response.json()["discount_cents"] == 0
    assert response.json()["total_cents"] == 10_000


def test_quote_explains_a_coupon_that_does_not_apply(
    client: TestClient, make_product: MakeProduct, make_promotion: MakePromotion, tag: str
) -> None:
    product = make_product()
    now = datetime.now(UTC)
    make_promotion(
        scope="cart",
        coupon_code=f"late{tag}",
        starts_at=_iso(now - timedelta(days=5)),
        ends_at=_iso(now - timedelta(days=1)),
    )
    items = [{"sku": product["sku"], "quantity": 1}]
    expired = client.post("/v1/pricing/quote", json={"items": items, "coupon_code": f"late{tag}"})
    assert expired.status_code == 200
    assert expired.json()["coupon"]["status"] == "expired"
    assert expired.json()["discount_cents"] == 0
    unknown = client.post("/v1/pricing/quote", json={"items": items, "coupon_code": f"nope{tag}"})
    assert unknown.json()["coupon"] == {
        "code": f"NOPE{tag.upper()}",
        "status": "unknown",
        "promotion_id": None,
    }


def test_quote_rejects_unknown_and_discontinued_skus_per_line(
    client: TestClient, admin: Caller, make_product: MakeProduct, tag: str
) -> None:
    good = make_product()
    gone = make_product()
    draft = make_product(status="draft")
    assert (
        client.delete(f"/v1/admin/products/{gone['sku']}", headers=admin.headers).status_code == 204
    )
    response = client.post(
        "/v1/pricing/quote",
        json={
            "items": [
                {"sku": good["sku"], "quantity": 1},
                {"sku": f"NOPE-{tag}", "quantity": 1},
                {"sku": gone["sku"], "quantity": 2},
                {"sku": draft["sku"], "quantity": 1},
            ]
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ITEMS_UNAVAILABLE"
    assert error["details"] == [
        {"index": 1, "sku": f"NOPE-{tag}", "reason": "unknown"},
        {"index": 2, "sku": gone["sku"], "reason": "discontinued"},
        {"index": 3, "sku": draft["sku"], "reason": "draft"},
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"sku": "A", "quantity": 0}]},
        {"items": [{"sku": "A", "quantity": 100}]},
        {"items": [{"sku": "bad sku!", "quantity": 1}]},
        {"items": [{"sku": f"S{i}", "quantity": 1} for i in range(101)]},
        {"items": [{"sku": "A", "quantity": 1}], "coupon_code": "x"},
        {"items": [{"sku": "A", "quantity": 1}], "extra": True},
    ],
)
def test_quote_validation_is_422(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/v1/pricing/quote", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_quote_refuses_a_sku_twice(client: TestClient, make_product: MakeProduct) -> None:
    product = make_product()
    item = {"sku": product["sku"], "quantity": 1}
    response = client.post("/v1/pricing/quote", json={"items": [item, item]})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "DUPLICATE_ITEMS"
