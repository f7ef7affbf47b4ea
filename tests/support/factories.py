"""Test data made the way users make it, through the HTTP API, and read back from the outbox.

One place for the helpers that test modules used to copy: a product (admin route), stock
received into a warehouse (ops route), a cart line, and the events a test's writes recorded.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shoplake.events import CloudEvent, EventData, parse_data
from shoplake.outbox import outbox
from tests.support.callers import Caller


def unique_sku(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def product_body(**overrides: Any) -> dict[str, Any]:
    """A valid ProductCreate body: an active product with a fresh SKU; override any field."""
    return {
        "sku": unique_sku(),
        "name": "Wool socks",
        "brand": "Acme",
        "category_path": ["socks"],
        "price_cents": 1_499,
        "currency": "EUR",
        **overrides,
    }


def create_product(client: TestClient, admin: Caller, **overrides: Any) -> dict[str, Any]:
    """Create a product through `POST /v1/admin/products`; the product as the API answers it."""
    response = client.post(
        "/v1/admin/products", json=product_body(**overrides), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def receive_stock(
    client: TestClient,
    staff: Caller,
    sku: str,
    warehouse_id: str = "WH-1",
    quantity: int = 10,
    reference: str = "PO-1",
) -> dict[str, Any]:
    """Receive units through the ops route; the stock level after the receipt."""
    response = client.post(
        f"/v1/admin/inventory/{sku}/{warehouse_id}/receipts",
        json={"quantity": quantity, "reference": reference},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    level: dict[str, Any] = response.json()
    return level


def add_to_cart(
    client: TestClient, sku: str, quantity: int = 1, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Add a line to the caller's cart (anonymous without headers); the cart after the change."""
    response = client.post(
        "/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=headers
    )
    assert response.status_code in (200, 201), response.text
    cart: dict[str, Any] = response.json()
    return cart


def outbox_events(engine: Engine, *, key: str, topic: str | None = None) -> list[EventData]:
    """The typed events recorded for an aggregate key (and topic), oldest first."""
    query = sa.select(outbox.c.payload).where(outbox.c.key == key).order_by(outbox.c.id)
    if topic is not None:
        query = query.where(outbox.c.topic == topic)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [parse_data(CloudEvent.model_validate(row.payload)) for row in rows]
