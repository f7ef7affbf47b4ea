"""Every /v1 route called with no token, a customer, an ops user and an admin: 401/403 as designed.

A route missing from ACCESS fails the test, so a new route cannot ship without a decision.
"""

from __future__ import annotations

import uuid
from typing import Literal

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.security import Role
from shoplake.config import get_settings
from tests.support.callers import Caller, MakeCaller

# staff: admin and ops (StaffUser); admin: admin only.
Access = Literal["public", "user", "staff", "admin"]

ACCESS: dict[tuple[str, str], Access] = {
    ("POST", "/v1/auth/register"): "public",
    ("POST", "/v1/auth/token"): "public",
    ("POST", "/v1/auth/refresh"): "public",
    ("GET", "/v1/users/me"): "user",
    ("PATCH", "/v1/users/me"): "user",
    ("GET", "/v1/users/me/addresses"): "user",
    ("POST", "/v1/users/me/addresses"): "user",
    ("PATCH", "/v1/users/me/addresses/{address_id}"): "user",
    ("DELETE", "/v1/users/me/addresses/{address_id}"): "user",
    ("GET", "/v1/products"): "public",
    ("GET", "/v1/products/{sku}"): "public",
    ("GET", "/v1/categories"): "public",
    ("POST", "/v1/admin/products"): "admin",
    ("PUT", "/v1/admin/products/{sku}"): "admin",
    ("PATCH", "/v1/admin/products/{sku}"): "admin",
    ("DELETE", "/v1/admin/products/{sku}"): "admin",
    ("POST", "/v1/pricing/quote"): "public",
    ("POST", "/v1/admin/promotions"): "admin",
    ("GET", "/v1/admin/promotions"): "admin",
    ("GET", "/v1/admin/promotions/{promotion_id}"): "admin",
    ("PATCH", "/v1/admin/promotions/{promotion_id}"): "admin",
    ("DELETE", "/v1/admin/promotions/{promotion_id}"): "admin",
    # Carts serve anonymous shoppers too (by cart token); a token makes them the user's cart.
    ("GET", "/v1/cart"): "public",
    ("POST", "/v1/cart/items"): "public",
    ("PATCH", "/v1/cart/items/{sku}"): "public",
    ("DELETE", "/v1/cart/items/{sku}"): "public",
    ("POST", "/v1/cart/coupon"): "public",
    ("DELETE", "/v1/cart/coupon"): "public",
    ("GET", "/v1/wishlist/items"): "user",
    ("POST", "/v1/wishlist/items"): "user",
    ("DELETE", "/v1/wishlist/items/{sku}"): "user",
    ("POST", "/v1/events/behaviour"): "public",
    ("GET", "/v1/inventory/{sku}"): "public",
    ("PUT", "/v1/admin/inventory/{sku}/{warehouse_id}"): "staff",
    ("POST", "/v1/admin/inventory/{sku}/{warehouse_id}/adjustments"): "staff",
    ("POST", "/v1/admin/inventory/{sku}/{warehouse_id}/receipts"): "staff",
    ("GET", "/v1/admin/inventory/{sku}/movements"): "staff",
    ("GET", "/v1/search"): "public",
    ("GET", "/v1/search/suggest"): "public",
    ("POST", "/v1/checkout"): "user",
    ("GET", "/v1/orders"): "user",
    ("GET", "/v1/orders/{order_id}"): "user",
    ("POST", "/v1/orders/{order_id}/cancel"): "user",
    ("GET", "/v1/admin/orders"): "staff",
    ("POST", "/v1/admin/orders/{order_id}/refund"): "staff",
    ("POST", "/v1/admin/orders/{order_id}/status"): "staff",
}

PATH_VALUES = {
    "sku": "AUTHZ-NO-SUCH-SKU",
    "address_id": str(uuid.uuid4()),
    "warehouse_id": "AUTHZ-WH",
    "order_id": str(uuid.uuid4()),
}


def _routes() -> list[tuple[str, str]]:
    """Every operation the app publishes under /v1, read from its OpenAPI document."""
    paths = create_app(get_settings()).openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1")
        for method in operations
    ]


def _call(client: TestClient, method: str, path: str, caller: Caller | None) -> int:
    url = path.format(**PATH_VALUES, promotion_id=uuid.uuid4())
    headers = caller.headers if caller else {}
    kwargs = {} if method in {"GET", "DELETE"} else {"json": {}}
    return client.request(method, url, headers=headers, **kwargs).status_code


def test_every_route_has_an_access_decision() -> None:
    undecided = sorted(set(_routes()) - set(ACCESS))
    assert not undecided, f"add these routes to ACCESS: {undecided}"
    gone = sorted(set(ACCESS) - set(_routes()))
    assert not gone, f"ACCESS names routes that no longer exist: {gone}"


@pytest.fixture(scope="module")
def callers(make_caller: MakeCaller) -> dict[str, Caller]:
    return {role.value: make_caller(role) for role in (Role.CUSTOMER, Role.OPS, Role.ADMIN)}


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_route_answers_each_caller_as_designed(
    client: TestClient, callers: dict[str, Caller], method: str, path: str
) -> None:
    access = ACCESS[(method, path)]
    anonymous = _call(client, method, path, None)
    customer = _call(client, method, path, callers["customer"])
    ops = _call(client, method, path, callers["ops"])
    admin = _call(client, method, path, callers["admin"])

    if access == "public":
        assert anonymous not in {401, 403}
    else:
        assert anonymous == 401
    if access == "admin":
        assert (customer, ops) == (403, 403)
    elif access == "staff":
        assert customer == 403 and ops not in {401, 403}
    else:
        assert customer not in {401, 403} and ops not in {401, 403}
    assert admin not in {401, 403}
    assert max(anonymous, customer, ops, admin) < 500
