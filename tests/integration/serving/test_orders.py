"""Orders after checkout: a customer's list and detail (another's is a 404), cancellation with
void or refund and the stock back, staff listing, advancing and refunding; one event per change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller, MakeCaller
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.shop_api import (
    do_checkout,
    fill_cart,
    level,
    order_events,
    product,
    token_headers,
)


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture
def fake(client: TestClient) -> Iterator[FakeGateway]:
    with injected_gateway(client, FakeGateway()) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def ops(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.OPS)


def _order(
    client: TestClient, admin: Caller, api_settings: Settings, units: int = 2
) -> tuple[str, str, dict[str, str]]:
    """A confirmed order of `units` out of 10 in stock: (order id, sku, the buyer's headers)."""
    sku = product(client, admin, units=10)
    headers = token_headers(api_settings)
    fill_cart(client, headers, sku, units)
    response = do_checkout(client, headers, f"k-{uuid.uuid4().hex}")
    assert response.status_code == 201, response.text
    return response.json()["order"]["id"], sku, headers


def test_a_customer_lists_and_reads_their_orders_and_not_anothers(
    client: TestClient, admin: Caller, api_settings: Settings, fake: FakeGateway
) -> None:
    order_id, sku, headers = _order(client, admin, api_settings)
    listing = client.get("/v1/orders", headers=headers)
    assert listing.status_code == 200
    assert [o["id"] for o in listing.json()["items"]] == [order_id]
    assert listing.json()["next_cursor"] is None
    detail = client.get(f"/v1/orders/{order_id}", headers=headers).json()
    assert detail["lines"][0]["sku"] == sku
    assert [h["to_status"] for h in detail["history"]] == ["PENDING_PAYMENT", "CONFIRMED"]
    stranger = token_headers(api_settings)
    assert client.get(f"/v1/orders/{order_id}", headers=stranger).status_code == 404
    assert client.get("/v1/orders", headers=stranger).json()["items"] == []
    assert client.post(f"/v1/orders/{order_id}/cancel", headers=stranger).status_code == 404
    assert client.get(f"/v1/orders/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.get("/v1/orders/not-an-id!", headers=headers).status_code == 422


def test_cancel_before_shipping_voids_the_payment_and_restocks(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    order_id, sku, headers = _order(client, admin, api_settings, units=3)
    assert level(engine, sku) == (7, 0)

    response = client.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["payment"]["status"] == "voided"
    assert level(engine, sku) == (10, 0)
    assert fake.calls["void"] == 1
    assert order_events(engine, order_id) == {
        "OrderPlaced": 1,
        "OrderStatusChanged": 2,
        "OrderConfirmed": 1,
        "OrderCancelled": 1,
        "PaymentAuthorized": 1,
        "PaymentVoided": 1,
    }
    again = client.post(f"/v1/orders/{order_id}/cancel", headers=headers)
    assert again.status_code == 409
    assert fake.calls["void"] == 1


def test_staff_advance_an_order_to_delivery_and_shipping_captures(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order_id, _sku, headers = _order(client, admin, api_settings)
    url = f"/v1/admin/orders/{order_id}/status"
    skipped = client.post(url, json={"status": "SHIPPED"}, headers=ops.headers)
    assert skipped.status_code == 409
    assert skipped.json()["error"]["code"] == "ILLEGAL_TRANSITION"
    not_staff = client.post(url, json={"status": "REFUNDED"}, headers=ops.headers)
    assert not_staff.status_code == 422
    for status in ("FULFILLING", "SHIPPED", "DELIVERED"):
        response = client.post(url, json={"status": status}, headers=ops.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    assert client.get(f"/v1/orders/{order_id}", headers=headers).json()["payment"]["status"] == (
        "captured"
    )
    cancel = client.post(f"/v1/orders/{order_id}/cancel", headers=headers)
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "ORDER_NOT_CANCELLABLE"
    events = order_events(engine, order_id)
    assert events["OrderStatusChanged"] == 4 and events["PaymentCaptured"] == 1
    assert fake.calls["capture"] == 1


def test_staff_refund_a_captured_order_and_list_by_status_and_user(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    user_id = str(uuid.uuid4())
    sku = product(client, admin, units=10)
    headers = token_headers(api_settings, user_id)
    fill_cart(client, headers, sku, 1)
    order_id = do_checkout(client, headers, f"k-{uuid.uuid4().hex}").json()["order"]["id"]
    url = f"/v1/admin/orders/{order_id}"
    for status in ("FULFILLING", "SHIPPED", "DELIVERED"):
        assert client.post(f"{url}/status", json={"status": status}, headers=ops.headers).is_success

    refunded = client.post(f"{url}/refund", json={"reason": "damaged"}, headers=ops.headers)

    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "REFUNDED"
    assert refunded.json()["payment"]["status"] == "refunded"
    assert fake.calls["refund"] == 1
    assert level(engine, sku) == (9, 0)  # delivered goods come back through a return, not here
    assert client.post(f"{url}/refund", headers=ops.headers).status_code == 409
    page = client.get(
        "/v1/admin/orders",
        params={"user_id": user_id, "status": "REFUNDED", "limit": 5},
        headers=ops.headers,
    )
    assert page.status_code == 200
    assert [o["id"] for o in page.json()["items"]] == [order_id]
    assert (
        client.get("/v1/admin/orders", params={"status": "NOPE"}, headers=ops.headers).status_code
        == 422
    )
    assert client.get("/v1/admin/orders", headers=headers).status_code == 403
    assert client.post(f"{url}/refund", headers=headers).status_code == 403


def test_refund_of_a_confirmed_order_voids_and_restocks(
    client: TestClient,
    admin: Caller,
    ops: Caller,
    api_settings: Settings,
    engine: Engine,
    fake: FakeGateway,
) -> None:
    order_id, sku, _headers = _order(client, admin, api_settings, units=4)
    response = client.post(f"/v1/admin/orders/{order_id}/refund", headers=ops.headers)
    assert response.status_code == 200, response.text
    assert response.json()["payment"]["status"] == "voided"
    assert level(engine, sku) == (10, 0)


def test_a_gateway_down_during_cancel_changes_nothing(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, fake: FakeGateway
) -> None:
    order_id, sku, headers = _order(client, admin, api_settings)
    fake.down = True
    response = client.post(f"/v1/orders/{order_id}/cancel", headers=headers)
    assert response.status_code == 503
    fake.down = False
    assert client.get(f"/v1/orders/{order_id}", headers=headers).json()["status"] == "CONFIRMED"
    assert level(engine, sku) == (8, 0)
    assert order_events(engine, order_id)["OrderStatusChanged"] == 1
