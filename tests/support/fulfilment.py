"""After checkout, for the tests: a split order, its shipments made the way the consumer makes
them, and the warehouse and the sandbox carrier taking them to the door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.fulfilment.intake import ShipmentIntake
from serving.fulfilment.sandbox_carrier import SandboxCarrier
from serving.fulfilment.service import carrier_for
from shoplake.config import Settings
from shoplake.events import CloudEvent
from shoplake.outbox import outbox
from tests.support.callers import Caller
from tests.support.shop_api import ADDRESS, do_checkout, fill_cart, token_headers

PARCEL = {"weight_g": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100}


@dataclass(frozen=True)
class SplitOrder:
    order_id: str
    sku: str
    warehouses: tuple[str, str]
    headers: dict[str, str]  # the buyer's
    user_id: str


def split_order(
    client: TestClient,
    admin: Caller,
    settings: Settings,
    *,
    address: dict[str, Any] | None = None,
    price_cents: int = 2500,
) -> SplitOrder:
    """A confirmed order of 4 units that no warehouse holds alone: 2 from A, 2 from B."""
    tag = uuid.uuid4().hex[:8].upper()
    sku, warehouses = f"FUL-{tag}", (f"WA{tag}", f"WB{tag}")
    body = {"sku": sku, "name": "Fulfilment lamp", "brand": "Acme", "category_path": ["lamps"]}
    response = client.post(
        "/v1/admin/products", json={**body, "price_cents": price_cents}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    for warehouse, units in zip(warehouses, (2, 3), strict=True):
        response = client.post(
            f"/v1/admin/inventory/{sku}/{warehouse}/receipts",
            json={"quantity": units, "reference": "PO-FUL"},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
    user_id = str(uuid.uuid4())
    headers = token_headers(settings, user_id)
    fill_cart(client, headers, sku, 4)
    response = client.post(
        "/v1/checkout",
        json={"payment_token": "tok_ok", "shipping_address": address or ADDRESS},
        headers={**headers, "Idempotency-Key": f"k-{uuid.uuid4().hex}"},
    )
    assert response.status_code == 201, response.text
    return SplitOrder(response.json()["order"]["id"], sku, warehouses, headers, user_id)


def mixed_order(client: TestClient, admin: Caller, settings: Settings) -> tuple[str, str, str]:
    """A confirmed order of one tracked unit (in a warehouse of its own) and two units of a
    product the ledger does not track: (order id, the warehouse, the untracked SKU)."""
    tag = uuid.uuid4().hex[:8].upper()
    tracked, untracked, warehouse = f"FUL-{tag}-T", f"FUL-{tag}-U", f"WM{tag}"
    for sku in (tracked, untracked):
        body = {"sku": sku, "name": "Mug", "brand": "Acme", "category_path": ["mugs"]}
        assert client.post(
            "/v1/admin/products", json={**body, "price_cents": 900}, headers=admin.headers
        ).is_success
    assert client.post(
        f"/v1/admin/inventory/{tracked}/{warehouse}/receipts",
        json={"quantity": 5, "reference": "PO-FUL"},
        headers=admin.headers,
    ).is_success
    headers = token_headers(settings)
    fill_cart(client, headers, tracked, 1)
    fill_cart(client, headers, untracked, 2)
    response = do_checkout(client, headers, f"k-{uuid.uuid4().hex}")
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order"]["id"]
    return order_id, warehouse, untracked


def order_event(engine: Engine, order_id: str, fact: str) -> CloudEvent:
    """The (last) event of this type the order recorded in the outbox."""
    with engine.connect() as conn:
        payload = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.key == order_id, outbox.c.event_type == f"shop.order.{fact}.v1")
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one()
    return CloudEvent.model_validate(payload)


def make_shipments(engine: Engine, settings: Settings, order_id: str) -> int:
    """What the fulfilment consumer does with the order's OrderConfirmed."""
    event = order_event(engine, order_id, "OrderConfirmed")
    return ShipmentIntake(engine, settings).order_confirmed(event.id, order_id)


def shipments_of(client: TestClient, headers: dict[str, str], order_id: str) -> list[Any]:
    response = client.get(f"/v1/orders/{order_id}/tracking", headers=headers)
    assert response.status_code == 200, response.text
    shipments: list[Any] = response.json()["shipments"]
    return shipments


def ship_all(client: TestClient, staff: Caller, shipment_ids: list[str]) -> list[Any]:
    """Pick, pack and ship each shipment; the shipments as `ship` answered."""
    shipped = []
    for shipment_id in shipment_ids:
        for step, body in (("pick", None), ("pack", PARCEL), ("ship", None)):
            response = client.post(
                f"/v1/ops/shipments/{shipment_id}/{step}", json=body, headers=staff.headers
            )
            assert response.status_code == 200, (step, response.text)
        shipped.append(response.json())
    return shipped


def sandbox_carrier(settings: Settings) -> SandboxCarrier:
    carrier = carrier_for(settings)
    assert isinstance(carrier, SandboxCarrier)
    return carrier


def deliver_all(client: TestClient, staff: Caller, settings: Settings, shipped: list[Any]) -> Any:
    """The sandbox carrier's whole journey, due now, and one tracking poll."""
    carrier = sandbox_carrier(settings)
    for shipment in shipped:
        carrier.fast_forward(shipment["tracking_number"])
    response = client.post("/v1/ops/carriers/track", headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()


def delivered_order(
    client: TestClient, admin: Caller, staff: Caller, engine: Engine, settings: Settings
) -> SplitOrder:
    """A split order all the way to DELIVERED."""
    order = split_order(client, admin, settings)
    assert make_shipments(engine, settings, order.order_id) == 2
    ids = [s["id"] for s in shipments_of(client, order.headers, order.order_id)]
    deliver_all(client, staff, settings, ship_all(client, staff, ids))
    status = client.get(f"/v1/orders/{order.order_id}", headers=order.headers).json()["status"]
    assert status == "DELIVERED"
    return order
