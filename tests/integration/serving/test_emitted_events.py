"""Every event the API has written to the outbox validates against its exported JSON Schema."""

from __future__ import annotations

import json
import uuid

import sqlalchemy as sa
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import REGISTRY, CloudEvent
from shoplake.events.compat import SCHEMAS_DIR
from shoplake.outbox import outbox
from tests.support.callers import Caller

VALIDATORS = {
    path.stem: Draft202012Validator(json.loads(path.read_text()))
    for path in SCHEMAS_DIR.glob("*.json")
}


def _exercise_the_api(client: TestClient, admin: Caller, customer: Caller) -> str:
    """Drive one write of each kind, so that the check below sees every catalog/cart event."""
    sku = f"EVT-{uuid.uuid4().hex[:8]}"
    product = {
        "sku": sku,
        "name": "Schema check kettle",
        "brand": "Hearth",
        "category_path": ["home", "kitchen"],
        "price_cents": 2999,
        "attributes": {"material": "steel"},
    }
    assert client.post("/v1/admin/products", json=product, headers=admin.headers).status_code == 201
    assert (
        client.patch(
            f"/v1/admin/products/{sku}", json={"price_cents": 2499}, headers=admin.headers
        ).status_code
        == 200
    )
    assert (
        client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers).status_code
        == 201
    )
    assert client.delete(f"/v1/wishlist/items/{sku}", headers=customer.headers).status_code == 204
    assert client.post(
        "/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=customer.headers
    ).status_code in {200, 201}
    assert client.delete(f"/v1/cart/items/{sku}", headers=customer.headers).status_code in {
        200,
        204,
    }
    assert client.delete(f"/v1/admin/products/{sku}", headers=admin.headers).status_code == 204
    return sku


def test_every_outbox_event_matches_its_schema(
    client: TestClient, admin: Caller, customer: Caller, api_settings: Settings
) -> None:
    sku = _exercise_the_api(client, admin, customer)
    engine = make_engine(api_settings, pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.event_type, outbox.c.payload)).all()
    engine.dispose()

    seen_types: set[str] = set()
    problems: list[str] = []
    for event_type, payload in rows:
        if event_type not in REGISTRY:
            continue  # test-only rows written straight into the outbox by the relay tests
        event = CloudEvent.model_validate(payload)
        assert event.type == event_type
        assert event.dataschema == REGISTRY[event_type].schema_id()
        problems.extend(
            f"{event_type} {event.id}: {error.message}"
            for error in VALIDATORS[event_type].iter_errors(event.data)
        )
        seen_types.add(event_type)
    assert not problems, problems[:10]
    mine = {
        "shop.catalog.ProductCreated.v1",
        "shop.catalog.ProductUpdated.v1",
        "shop.catalog.PriceChanged.v1",
        "shop.catalog.ProductDiscontinued.v1",
        "shop.wishlist.WishlistItemAdded.v1",
        "shop.wishlist.WishlistItemRemoved.v1",
        "shop.cart.CartItemAdded.v1",
        "shop.cart.CartItemRemoved.v1",
        "shop.user.UserRegistered.v1",
    }
    assert mine <= seen_types, f"{sku}: no event of {sorted(mine - seen_types)}"
