"""Carts in Redis: every route, versions and If-Match across devices, concurrent writers, TTL,
the merge of an anonymous cart on login, unavailable lines, and the events in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.cart.service import anonymous_cart_id
from serving.cart.store import cart_key
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.outbox import outbox
from tests.support.callers import Caller

MakeProduct = Callable[..., dict[str, Any]]


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def make_product(client: TestClient, admin: Caller, tag: str) -> MakeProduct:
    count = iter(range(1, 10_000))

    def make(**fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sku": f"CT-{tag}-{next(count)}",
            "name": "Cart thing",
            "brand": "acme",
            "category_path": [f"things-{tag}"],
            "price_cents": 1_000,
        }
        body.update(fields)
        response = client.post("/v1/admin/products", json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=2)
    yield engine
    engine.dispose()


def cart_events(engine: Engine, cart_id: str) -> list[tuple[str, str, int]]:
    """(fact, sku, quantity) of the cart's events in the outbox, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.event_type, outbox.c.payload)
            .where(outbox.c.key == cart_id)
            .order_by(outbox.c.id)
        ).all()
    return [
        (row.event_type.split(".")[2], row.payload["data"]["sku"], row.payload["data"]["quantity"])
        for row in rows
    ]


def ttl_of(client: redis.Redis, key: str) -> int:
    ttl = client.ttl(key)
    assert isinstance(ttl, int)
    return ttl


def lines_of(cart: dict[str, Any]) -> dict[str, int]:
    return {line["sku"]: line["quantity"] for line in cart["lines"]}


def add(
    client: TestClient, sku: str, quantity: int = 1, headers: dict[str, str] | None = None
) -> Any:
    return client.post("/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=headers)


# ------------------------------------------------------------------ anonymous carts


def test_first_anonymous_write_creates_a_token(
    client: TestClient, make_product: MakeProduct, redis_client: redis.Redis
) -> None:
    empty = client.get("/v1/cart")
    assert empty.status_code == 200
    assert empty.json()["lines"] == []
    assert empty.json()["version"] == 0
    assert empty.headers["ETag"] == '"0"'
    assert "X-Cart-Token" not in empty.headers  # a read creates nothing

    product = make_product(price_cents=2_500)
    created = add(client, product["sku"], 2)
    assert created.status_code == 200, created.text
    token = created.headers["X-Cart-Token"]
    assert created.json()["cart_token"] == token
    assert created.headers["ETag"] == '"1"'
    assert lines_of(created.json()) == {product["sku"]: 2}

    again = client.get("/v1/cart", headers={"X-Cart-Token": token})
    assert lines_of(again.json()) == {product["sku"]: 2}
    assert again.json()["subtotal_cents"] == 5_000
    # The token itself is a bearer secret: the Redis key holds only its hash.
    assert redis_client.exists(cart_key(anonymous_cart_id(token)))
    assert not redis_client.exists(cart_key(f"a:{token}"))


def test_cart_token_header_is_validated(client: TestClient) -> None:
    response = client.get("/v1/cart", headers={"X-Cart-Token": "short"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


# ------------------------------------------------------------------ every route


def test_line_routes_with_versions_prices_and_events(
    client: TestClient, customer: Caller, make_product: MakeProduct, engine: Engine
) -> None:
    shoe = make_product(price_cents=4_000)
    sock = make_product(price_cents=500)
    h = customer.headers

    first = add(client, shoe["sku"], 1, h)
    assert first.status_code == 200, first.text
    assert first.json()["cart_token"] is None  # a signed-in shopper's cart needs no token
    assert first.json()["version"] == 1
    more = add(client, shoe["sku"], 2, h)
    assert lines_of(more.json()) == {shoe["sku"]: 3}
    assert more.headers["ETag"] == '"2"'
    with_sock = add(client, sock["sku"], 4, h)
    cart = with_sock.json()
    assert [line["sku"] for line in cart["lines"]] == [shoe["sku"], sock["sku"]]  # added order
    assert cart["subtotal_cents"] == 3 * 4_000 + 4 * 500
    assert cart["total_cents"] == cart["subtotal_cents"] - cart["discount_cents"]
    assert cart["item_count"] == 7
    shoe_line = cart["lines"][0]
    assert shoe_line["available"] is True
    assert shoe_line["unit_price_cents"] == 4_000
    assert shoe_line["name"] == "Cart thing"

    lowered = client.patch(f"/v1/cart/items/{shoe['sku']}", json={"quantity": 1}, headers=h)
    assert lowered.status_code == 200
    assert lines_of(lowered.json()) == {shoe["sku"]: 1, sock["sku"]: 4}
    raised = client.patch(f"/v1/cart/items/{sock['sku']}", json={"quantity": 6}, headers=h)
    assert lines_of(raised.json())[sock["sku"]] == 6

    removed = client.delete(f"/v1/cart/items/{sock['sku']}", headers=h)
    assert removed.status_code == 200
    assert lines_of(removed.json()) == {shoe["sku"]: 1}
    assert removed.json()["version"] == 6
    assert removed.headers["ETag"] == '"6"'

    assert cart_events(engine, f"u:{customer.user_id}") == [
        ("CartItemAdded", shoe["sku"], 1),
        ("CartItemAdded", shoe["sku"], 2),
        ("CartItemAdded", sock["sku"], 4),
        ("CartItemRemoved", shoe["sku"], 2),
        ("CartItemAdded", sock["sku"], 2),
        ("CartItemRemoved", sock["sku"], 6),
    ]


def test_missing_lines_are_404(client: TestClient, customer: Caller, tag: str) -> None:
    patched = client.patch(
        f"/v1/cart/items/NONE-{tag}", json={"quantity": 2}, headers=customer.headers
    )
    assert patched.status_code == 404
    assert patched.json()["error"]["code"] == "LINE_NOT_FOUND"
    deleted = client.delete(f"/v1/cart/items/NONE-{tag}", headers=customer.headers)
    assert deleted.status_code == 404
    assert deleted.json()["error"]["code"] == "LINE_NOT_FOUND"


def test_unknown_or_discontinued_products_cannot_be_added(
    client: TestClient, admin: Caller, customer: Caller, make_product: MakeProduct, tag: str
) -> None:
    unknown = add(client, f"NOPE-{tag}", 1, customer.headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "PRODUCT_UNAVAILABLE"
    assert unknown.json()["error"]["details"] == {"sku": f"NOPE-{tag}", "reason": "unknown"}
    draft = make_product(status="draft")
    refused = add(client, draft["sku"], 1, customer.headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["reason"] == "draft"
    assert client.get("/v1/cart", headers=customer.headers).json()["lines"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/cart/items", {"sku": "A1", "quantity": 0}),
        ("POST", "/v1/cart/items", {"sku": "A1", "quantity": 100}),
        ("POST", "/v1/cart/items", {"sku": "no spaces", "quantity": 1}),
        ("POST", "/v1/cart/items", {"sku": "A1", "quantity": 1, "price_cents": 1}),
        ("POST", "/v1/cart/items", {"quantity": 1}),
        ("PATCH", "/v1/cart/items/A1", {"quantity": 0}),
        ("PATCH", "/v1/cart/items/A1", {"quantity": 100}),
        ("PATCH", "/v1/cart/items/bad%20sku", {"quantity": 1}),
        ("DELETE", "/v1/cart/items/.leading-dot", None),
        ("POST", "/v1/cart/coupon", {"code": "x"}),
        ("POST", "/v1/cart/coupon", {}),
    ],
)
def test_bad_input_is_422(
    client: TestClient, customer: Caller, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, path, json=body, headers=customer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_FAILED"


def test_line_quantity_and_line_count_limits(
    client: TestClient,
    customer: Caller,
    make_product: MakeProduct,
    redis_client: redis.Redis,
) -> None:
    product = make_product()
    assert add(client, product["sku"], 60, customer.headers).status_code == 200
    too_many = add(client, product["sku"], 40, customer.headers)
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "LINE_QUANTITY_EXCEEDED"
    assert too_many.json()["error"]["details"]["quantity"] == 60
    assert add(client, product["sku"], 39, customer.headers).status_code == 200  # 99 is fine

    # Fill the cart to 100 lines (99 more, straight into its hash), then one more is refused.
    key = cart_key(f"u:{customer.user_id}")
    fields = {f"q:FILL-{i}": "1" for i in range(99)} | {f"o:FILL-{i}": "9" for i in range(99)}
    redis_client.hset(key, mapping={**fields, "n": "100"})
    full = add(client, make_product()["sku"], 1, customer.headers)
    assert full.status_code == 422
    assert full.json()["error"]["code"] == "CART_FULL"
    # More of an existing line still fits.
    redis_client.hset(key, f"q:{product['sku']}", "1")
    assert add(client, product["sku"], 1, customer.headers).status_code == 200


# ------------------------------------------------------------------ devices and concurrency


def test_stale_if_match_is_412_and_no_line_is_lost(
    client: TestClient, customer: Caller, make_product: MakeProduct
) -> None:
    a_item, b_item, base = make_product(), make_product(), make_product()
    h = customer.headers
    add(client, base["sku"], 1, h)
    # Devices A and B both read version v.
    version_a = client.get("/v1/cart", headers=h).headers["ETag"]
    version_b = client.get("/v1/cart", headers=h).headers["ETag"]
    assert version_a == version_b == '"1"'

    a_write = add(client, a_item["sku"], 2, {**h, "If-Match": version_a})
    assert a_write.status_code == 200
    assert a_write.headers["ETag"] == '"2"'

    b_write = add(client, b_item["sku"], 3, {**h, "If-Match": version_b})
    assert b_write.status_code == 412
    error = b_write.json()["error"]
    assert error["code"] == "CART_VERSION_MISMATCH"
    assert error["details"] == {"current_version": 2, "expected_version": 1}
    assert b_write.headers["ETag"] == '"2"'
    stale_patch = client.patch(
        f"/v1/cart/items/{base['sku']}", json={"quantity": 5}, headers={**h, "If-Match": '"1"'}
    )
    assert stale_patch.status_code == 412
    stale_delete = client.delete(f"/v1/cart/items/{base['sku']}", headers={**h, "If-Match": '"1"'})
    assert stale_delete.status_code == 412

    # B re-reads and retries: both devices' lines are there.
    fresh = client.get("/v1/cart", headers=h)
    assert lines_of(fresh.json()) == {base["sku"]: 1, a_item["sku"]: 2}
    retried = add(client, b_item["sku"], 3, {**h, "If-Match": fresh.headers["ETag"]})
    assert retried.status_code == 200
    assert lines_of(retried.json()) == {base["sku"]: 1, a_item["sku"]: 2, b_item["sku"]: 3}
    weak = client.patch(
        f"/v1/cart/items/{base['sku']}",
        json={"quantity": 4},
        headers={**h, "If-Match": f"W/{retried.headers['ETag']}"},
    )
    assert weak.status_code == 200


def test_if_match_must_name_a_version(client: TestClient, customer: Caller) -> None:
    response = client.post(
        "/v1/cart/items",
        json={"sku": "A1", "quantity": 1},
        headers={**customer.headers, "If-Match": '"abc"'},
    )
    assert response.status_code == 422


def test_concurrent_writers_without_if_match_never_lose_a_line(
    client: TestClient, customer: Caller, make_product: MakeProduct
) -> None:
    products = [make_product() for _ in range(24)]

    def write(product: dict[str, Any]) -> int:
        return int(add(client, product["sku"], 2, customer.headers).status_code)

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(write, products))
    assert statuses == [200] * len(products)
    cart = client.get("/v1/cart", headers=customer.headers).json()
    assert lines_of(cart) == {p["sku"]: 2 for p in products}
    assert cart["version"] == len(products)

    # Concurrent increments of one line add up too.
    target = products[0]["sku"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: add(client, target, 1, customer.headers), range(16)))
    assert lines_of(client.get("/v1/cart", headers=customer.headers).json())[target] == 18


def test_carts_expire_and_each_write_refreshes_the_ttl(
    client: TestClient,
    customer: Caller,
    make_product: MakeProduct,
    redis_client: redis.Redis,
    api_settings: Settings,
) -> None:
    product = make_product()
    add(client, product["sku"], 1, customer.headers)
    key = cart_key(f"u:{customer.user_id}")
    assert api_settings.cart_ttl_s - 5 <= ttl_of(redis_client, key) <= api_settings.cart_ttl_s
    redis_client.expire(key, 100)
    assert 0 < client.get("/v1/cart", headers=customer.headers).json()["expires_in_s"] <= 100
    client.patch(f"/v1/cart/items/{product['sku']}", json={"quantity": 3}, headers=customer.headers)
    assert ttl_of(redis_client, key) > api_settings.cart_ttl_s - 5


# ------------------------------------------------------------------ availability


def test_unavailable_line_is_marked_and_not_totalled(
    client: TestClient, admin: Caller, customer: Caller, make_product: MakeProduct
) -> None:
    keep = make_product(price_cents=700)
    gone = make_product(price_cents=300)
    add(client, keep["sku"], 1, customer.headers)
    add(client, gone["sku"], 2, customer.headers)
    discontinued = client.delete(f"/v1/admin/products/{gone['sku']}", headers=admin.headers)
    assert discontinued.status_code == 204
    cart = client.get("/v1/cart", headers=customer.headers).json()
    by_sku = {line["sku"]: line for line in cart["lines"]}
    assert by_sku[keep["sku"]]["available"] is True
    assert by_sku[gone["sku"]]["available"] is False
    assert by_sku[gone["sku"]]["unavailable_reason"] == "discontinued"
    assert by_sku[gone["sku"]]["total_cents"] == 0
    assert cart["subtotal_cents"] == 700
    assert cart["item_count"] == 1
    # It can be taken out, not added to.
    assert (
        client.patch(
            f"/v1/cart/items/{gone['sku']}", json={"quantity": 5}, headers=customer.headers
        ).json()["error"]["code"]
        == "PRODUCT_UNAVAILABLE"
    )
    lowered = client.patch(
        f"/v1/cart/items/{gone['sku']}", json={"quantity": 1}, headers=customer.headers
    )
    assert lowered.status_code == 200


# ------------------------------------------------------------------ merge on login


def test_anonymous_cart_merges_into_the_user_cart_on_login(
    client: TestClient,
    customer: Caller,
    make_product: MakeProduct,
    redis_client: redis.Redis,
    engine: Engine,
) -> None:
    both, anon_only, user_only = make_product(), make_product(), make_product()
    created = add(client, both["sku"], 5)
    token = created.headers["X-Cart-Token"]
    anonymous = {"X-Cart-Token": token}
    add(client, anon_only["sku"], 2, anonymous)
    add(client, both["sku"], 90, customer.headers)
    add(client, user_only["sku"], 1, customer.headers)

    login = client.post(
        "/v1/auth/token",
        data={"username": customer.email, "password": customer.password},
        headers=anonymous,
    )
    assert login.status_code == 200, login.text

    cart = client.get("/v1/cart", headers=customer.headers).json()
    # 90 + 5 = 95; the anonymous-only line comes over; the user's own line stays.
    assert lines_of(cart) == {both["sku"]: 95, anon_only["sku"]: 2, user_only["sku"]: 1}
    assert not redis_client.exists(cart_key(anonymous_cart_id(token)))
    assert client.get("/v1/cart", headers=anonymous).json()["lines"] == []

    anon_events = cart_events(engine, anonymous_cart_id(token))
    assert ("CartItemRemoved", both["sku"], 5) in anon_events
    assert ("CartItemRemoved", anon_only["sku"], 2) in anon_events
    user_events = cart_events(engine, f"u:{customer.user_id}")
    assert user_events[-2:] == [
        ("CartItemAdded", both["sku"], 5),
        ("CartItemAdded", anon_only["sku"], 2),
    ]


def test_merge_caps_quantities_per_line(
    client: TestClient, customer: Caller, make_product: MakeProduct
) -> None:
    product = make_product()
    token = add(client, product["sku"], 30).headers["X-Cart-Token"]
    add(client, product["sku"], 80, customer.headers)
    login = client.post(
        "/v1/auth/token",
        data={"username": customer.email, "password": customer.password},
        headers={"X-Cart-Token": token},
    )
    assert login.status_code == 200
    assert lines_of(client.get("/v1/cart", headers=customer.headers).json()) == {product["sku"]: 99}


def test_login_with_an_unknown_cart_token_still_logs_in(
    client: TestClient, customer: Caller
) -> None:
    login = client.post(
        "/v1/auth/token",
        data={"username": customer.email, "password": customer.password},
        headers={"X-Cart-Token": "never-issued-token-0123456789"},
    )
    assert login.status_code == 200
    assert client.get("/v1/cart", headers=customer.headers).json()["lines"] == []
