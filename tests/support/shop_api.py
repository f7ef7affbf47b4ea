"""Shopping through the API under test, for the money-path tests: a product with stock, a
shopper's token, a cart, a checkout; and what the database then holds (stock, events, orders)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.inventory.tables import stock_levels
from serving.orders.tables import orders
from serving.security import Role, issue_token
from shoplake.config import Settings
from shoplake.outbox import outbox

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


def product(client: TestClient, admin: Any, units: int, price_cents: int = 2500) -> str:
    sku = f"CHK-{uuid.uuid4().hex[:10]}"
    body = {"sku": sku, "name": "Checkout kettle", "brand": "Acme", "category_path": ["kitchen"]}
    response = client.post(
        "/v1/admin/products", json={**body, "price_cents": price_cents}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    if units:
        response = client.post(
            f"/v1/admin/inventory/{sku}/WH-1/receipts",
            json={"quantity": units, "reference": "PO-CHK"},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
    return sku


def token_headers(settings: Settings, user_id: str | None = None) -> dict[str, str]:
    """A shopper without the cost of registering one (the API trusts the signed token)."""
    token, _ = issue_token(settings, user_id or str(uuid.uuid4()), Role.CUSTOMER, "access")
    return {"Authorization": f"Bearer {token}"}


def fill_cart(client: TestClient, headers: dict[str, str], sku: str, quantity: int) -> None:
    response = client.post(
        "/v1/cart/items", json={"sku": sku, "quantity": quantity}, headers=headers
    )
    assert response.status_code == 200, response.text


def do_checkout(
    client: TestClient, headers: dict[str, str], key: str, token: str = "tok_ok"
) -> Any:
    return client.post(
        "/v1/checkout",
        json={"payment_token": token, "shipping_address": ADDRESS},
        headers={**headers, "Idempotency-Key": key},
    )


def level(engine: Engine, sku: str) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.func.sum(stock_levels.c.on_hand), sa.func.sum(stock_levels.c.reserved)
            ).where(stock_levels.c.sku == sku)
        ).one()
    return int(row[0]), int(row[1])


def order_events(engine: Engine, order_id: str) -> Counter[str]:
    with engine.connect() as conn:
        types = conn.execute(sa.select(outbox.c.event_type).where(outbox.c.key == order_id))
        return Counter(t.split(".")[2] for (t,) in types)


def order_row(engine: Engine, order_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(orders).where(orders.c.id == order_id)).mappings().one()


def order_of_key(engine: Engine, key: str) -> Any:
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(orders).where(orders.c.idempotency_key == key))
            .mappings()
            .first()
        )
