"""Inbound supplier orders over HTTP on the real stack: suppliers and their users, a purchase
order that restocks a warehouse through the ledger, a delivery note booked once however many
times it is sent at once, and suppliers that cannot see each other's orders."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.callers import Caller
from tests.support.factories import create_product, outbox_events

PASSWORD = "correct horse battery"


def _supplier_with_user(client: TestClient, admin: Caller) -> tuple[str, dict[str, str]]:
    code = f"S{uuid.uuid4().hex[:8].upper()}"
    made = client.post(
        "/v1/admin/suppliers",
        headers=admin.headers,
        json={"code": code, "name": f"{code} Ltd", "contact_email": f"{code.lower()}@example.com"},
    )
    assert made.status_code == 201, made.text
    supplier_id = made.json()["id"]
    email = f"supplier-{uuid.uuid4().hex[:8]}@example.com"
    user = client.post(
        f"/v1/admin/suppliers/{supplier_id}/users",
        headers=admin.headers,
        json={"email": email, "password": PASSWORD, "display_name": f"{code} desk"},
    )
    assert user.status_code == 201, user.text
    token = client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200
    return supplier_id, {"Authorization": f"Bearer {token.json()['access_token']}"}


def _order(
    client: TestClient, admin: Caller, supplier_id: str, sku: str, quantity: int = 20
) -> dict[str, Any]:
    made = client.post(
        "/v1/admin/purchase-orders",
        headers=admin.headers,
        json={
            "supplier_id": supplier_id,
            "warehouse_id": "WH-IN",
            "expected_arrival": "2026-12-24",
            "lines": [{"sku": sku, "quantity": quantity, "unit_cost_cents": 650}],
        },
    )
    assert made.status_code == 201, made.text
    po: dict[str, Any] = made.json()
    return po


def test_a_supplier_cannot_read_or_touch_another_suppliers_order(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    sku = create_product(client, admin)["sku"]
    ours, our_user = _supplier_with_user(client, admin)
    _, their_user = _supplier_with_user(client, admin)
    po = _order(client, admin, ours, sku)
    base = f"/v1/supplier/purchase-orders/{po['id']}"

    assert client.get(base, headers=our_user).status_code == 404  # still a draft
    assert (
        client.post(
            f"/v1/admin/purchase-orders/{po['id']}/submit", headers=admin.headers
        ).status_code
        == 200
    )

    assert client.get(base, headers=our_user).json()["number"] == po["number"]
    listed = client.get("/v1/supplier/purchase-orders", headers=our_user).json()
    assert [item["id"] for item in listed["items"]] == [po["id"]]
    notice = {
        "reference": "ASN-1",
        "expected_arrival": "2026-12-20",
        "lines": [{"sku": sku, "quantity": 5}],
    }
    for method, path, body in (
        ("GET", base, None),
        ("POST", f"{base}/acknowledge", {}),
        ("POST", f"{base}/ship-notices", notice),
    ):
        answer = client.request(method, path, headers=their_user, json=body)
        assert answer.status_code == 404, (path, answer.text)  # not 403: it is not theirs to know
    assert client.get("/v1/supplier/purchase-orders", headers=their_user).json()["items"] == []
    # Staff and customers use the staff routes, or nothing.
    assert client.get(base, headers=customer.headers).status_code == 403
    assert client.get(base, headers=admin.headers).status_code == 403

    acked = client.post(
        f"{base}/acknowledge", headers=our_user, json={"expected_arrival": "2026-12-22"}
    )
    assert acked.status_code == 200 and acked.json()["status"] == "ACKNOWLEDGED"
    sent = client.post(f"{base}/ship-notices", headers=our_user, json=notice)
    assert sent.status_code == 201, sent.text
    assert client.post(f"{base}/ship-notices", headers=our_user, json=notice).status_code == 200
    seen = client.get(f"/v1/admin/purchase-orders/{po['id']}", headers=admin.headers).json()
    assert seen["expected_arrival"] == "2026-12-20" and len(seen["ship_notices"]) == 1


def test_a_purchase_order_restocks_the_warehouse_once_per_delivery_note(
    client: TestClient, admin: Caller, api_settings: Settings
) -> None:
    sku = create_product(client, admin)["sku"]
    supplier_id, _ = _supplier_with_user(client, admin)
    po = _order(client, admin, supplier_id, sku, quantity=20)
    client.post(f"/v1/admin/purchase-orders/{po['id']}/submit", headers=admin.headers)
    receipt = {"reference": "DN-0001", "lines": [{"sku": sku, "quantity": 12}]}

    def book(_: int) -> int:
        answer = client.post(
            f"/v1/admin/purchase-orders/{po['id']}/receipts", headers=admin.headers, json=receipt
        )
        status: int = answer.status_code
        return status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(book, range(10)))
    assert statuses == [200] * 9 + [201]

    stock = client.get(f"/v1/inventory/{sku}").json()
    assert stock["available"] == 12 and stock["warehouses"] == [
        {"warehouse_id": "WH-IN", "available": 12}
    ]
    movements = client.get(f"/v1/admin/inventory/{sku}/movements", headers=admin.headers).json()[
        "items"
    ]
    assert [(m["reason"], m["on_hand_delta"], m["reference"]) for m in movements] == [
        ("receipt", 12, f"{po['number']}/DN-0001")
    ]
    rest = client.post(
        f"/v1/admin/purchase-orders/{po['id']}/receipts",
        headers=admin.headers,
        json={
            "reference": "DN-0002",
            "warehouse_id": "WH-2",
            "lines": [{"sku": sku, "quantity": 8}],
        },
    )
    assert rest.status_code == 201 and rest.json()["purchase_order"]["status"] == "RECEIVED"
    over = client.post(
        f"/v1/admin/purchase-orders/{po['id']}/receipts",
        headers=admin.headers,
        json={"reference": "DN-0003", "lines": [{"sku": sku, "quantity": 1}]},
    )
    assert over.status_code == 409
    closed = client.post(f"/v1/admin/purchase-orders/{po['id']}/close", headers=admin.headers)
    assert closed.json()["status"] == "CLOSED"

    engine: Engine = make_engine(api_settings, pool_size=1)
    try:
        facts = [type(e).__name__ for e in outbox_events(engine, key=po["id"])]
        stock_facts = [type(e).__name__ for e in outbox_events(engine, key=sku)]
    finally:
        engine.dispose()
    assert facts == [
        "PurchaseOrderCreated",
        "PurchaseOrderSubmitted",
        "PurchaseOrderReceived",
        "PurchaseOrderReceived",
        "PurchaseOrderClosed",
    ]
    assert stock_facts.count("StockReceived") == 2


def test_supplier_admin_routes_validate_and_page(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    supplier_id, _ = _supplier_with_user(client, admin)
    taken = client.post(
        f"/v1/admin/suppliers/{supplier_id}/users",
        headers=admin.headers,
        json={"email": customer.email, "password": PASSWORD},
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "EMAIL_TAKEN"
    users = client.get(f"/v1/admin/suppliers/{supplier_id}/users", headers=admin.headers).json()
    assert len(users) == 1 and users[0]["supplier_id"] == supplier_id

    patched = client.patch(
        f"/v1/admin/suppliers/{supplier_id}", headers=admin.headers, json={"name": "Renamed"}
    )
    assert patched.json()["name"] == "Renamed"
    assert (
        client.patch(
            f"/v1/admin/suppliers/{supplier_id}", headers=admin.headers, json={"name": None}
        ).status_code
        == 422
    )
    assert (
        client.delete(f"/v1/admin/suppliers/{supplier_id}", headers=admin.headers).status_code
        == 204
    )
    sku = create_product(client, admin)["sku"]
    inactive = client.post(
        "/v1/admin/purchase-orders",
        headers=admin.headers,
        json={
            "supplier_id": supplier_id,
            "warehouse_id": "WH-1",
            "lines": [{"sku": sku, "quantity": 1, "unit_cost_cents": 1}],
        },
    )
    assert inactive.status_code == 409
    assert (
        client.get(f"/v1/admin/suppliers/{uuid.uuid4()}", headers=admin.headers).status_code == 404
    )

    first = client.get("/v1/admin/suppliers", headers=admin.headers, params={"limit": 1}).json()
    second = client.get(
        "/v1/admin/suppliers",
        headers=admin.headers,
        params={"limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert first["items"][0]["code"] < second["items"][0]["code"]


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"sku": "X", "quantity": 0, "unit_cost_cents": 1}]},
        {"lines": [{"sku": "X", "quantity": 1, "unit_cost_cents": -1}]},
        {"warehouse_id": "not a warehouse!"},
    ],
)
def test_bad_purchase_orders_are_422(
    client: TestClient, admin: Caller, body: dict[str, Any]
) -> None:
    full = {
        "supplier_id": str(uuid.uuid4()),
        "warehouse_id": "WH-1",
        "lines": [{"sku": "X", "quantity": 1, "unit_cost_cents": 1}],
        **body,
    }
    answer = client.post("/v1/admin/purchase-orders", headers=admin.headers, json=full)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "VALIDATION_FAILED"
