"""Wishlist over HTTP: per-caller items with product summaries, idempotent adds, outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent, EventData, parse_data
from shoplake.events.wishlist import WishlistItemAdded, WishlistItemRemoved
from shoplake.outbox import outbox
from tests.support.callers import Caller


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=2)
    yield engine
    engine.dispose()


def _product(client: TestClient, admin: Caller, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": f"T-{uuid.uuid4().hex[:8]}",
        "name": "Wool socks",
        "brand": "Acme",
        "category_path": ["socks"],
        "price_cents": 1_499,
        "image_urls": ["https://img.example.com/socks.jpg"],
        **overrides,
    }
    response = client.post("/v1/admin/products", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def _events(engine: Engine, user_id: str) -> list[EventData]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.topic, outbox.c.payload)
            .where(outbox.c.key == user_id, outbox.c.topic == "shop.wishlist.v1")
            .order_by(outbox.c.id)
        ).all()
    return [parse_data(CloudEvent.model_validate(row.payload)) for row in rows]


def test_adding_an_item_answers_201_with_a_summary_and_records_one_event(
    client: TestClient, admin: Caller, customer: Caller, engine: Engine
) -> None:
    product = _product(client, admin)
    response = client.post(
        "/v1/wishlist/items", json={"sku": product["sku"]}, headers=customer.headers
    )

    assert response.status_code == 201, response.text
    item = response.json()
    assert item["sku"] == product["sku"]
    assert item["product"] == {
        "name": "Wool socks",
        "brand": "Acme",
        "price_cents": 1_499,
        "currency": "EUR",
        "status": "active",
        "image_url": "https://img.example.com/socks.jpg",
    }
    [event] = _events(engine, customer.user_id)
    assert isinstance(event, WishlistItemAdded)
    assert (event.user_id, event.sku) == (customer.user_id, product["sku"])


def test_adding_twice_answers_200_with_the_same_item_and_no_second_event(
    client: TestClient, admin: Caller, customer: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)["sku"]
    first = client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)
    second = client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert len(_events(engine, customer.user_id)) == 1
    listed = client.get("/v1/wishlist/items", headers=customer.headers).json()
    assert [item["sku"] for item in listed] == [sku]


def test_the_list_is_the_callers_own_newest_first_with_current_product_data(
    client: TestClient, admin: Caller, customer: Caller, other_customer: Caller
) -> None:
    older = _product(client, admin)["sku"]
    newer = _product(client, admin)["sku"]
    theirs = _product(client, admin)["sku"]
    for sku in (older, newer):
        client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)
    client.post("/v1/wishlist/items", json={"sku": theirs}, headers=other_customer.headers)
    client.patch(f"/v1/admin/products/{older}", json={"price_cents": 999}, headers=admin.headers)

    mine = client.get("/v1/wishlist/items", headers=customer.headers)
    assert mine.status_code == 200
    assert [item["sku"] for item in mine.json()] == [newer, older]
    assert mine.json()[1]["product"]["price_cents"] == 999  # the price as it is now
    others = client.get("/v1/wishlist/items", headers=other_customer.headers).json()
    assert [item["sku"] for item in others] == [theirs]


def test_removing_answers_204_records_one_event_and_then_404(
    client: TestClient, admin: Caller, customer: Caller, other_customer: Caller, engine: Engine
) -> None:
    sku = _product(client, admin)["sku"]
    client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)

    not_theirs = client.delete(f"/v1/wishlist/items/{sku}", headers=other_customer.headers)
    removed = client.delete(f"/v1/wishlist/items/{sku}", headers=customer.headers)
    again = client.delete(f"/v1/wishlist/items/{sku}", headers=customer.headers)

    assert (not_theirs.status_code, removed.status_code, again.status_code) == (404, 204, 404)
    assert again.json()["error"]["code"] == "NOT_FOUND"
    added, gone = _events(engine, customer.user_id)
    assert isinstance(added, WishlistItemAdded) and isinstance(gone, WishlistItemRemoved)
    assert gone.sku == sku
    assert client.get("/v1/wishlist/items", headers=customer.headers).json() == []


def test_unknown_draft_and_discontinued_products_cannot_be_added(
    client: TestClient, admin: Caller, customer: Caller, engine: Engine
) -> None:
    draft = _product(client, admin, status="draft")["sku"]
    gone = _product(client, admin, status="discontinued")["sku"]
    unknown = f"T-{uuid.uuid4().hex[:8]}"

    for sku, status, code in (
        (unknown, 404, "NOT_FOUND"),
        (draft, 404, "NOT_FOUND"),
        (gone, 409, "PRODUCT_DISCONTINUED"),
    ):
        response = client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)
        assert response.status_code == status, (sku, response.text)
        assert response.json()["error"]["code"] == code
    assert _events(engine, customer.user_id) == []


def test_an_item_stays_listed_after_its_product_is_discontinued(
    client: TestClient, admin: Caller, customer: Caller
) -> None:
    sku = _product(client, admin)["sku"]
    client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)
    client.delete(f"/v1/admin/products/{sku}", headers=admin.headers)

    [item] = client.get("/v1/wishlist/items", headers=customer.headers).json()
    assert item["product"]["status"] == "discontinued"
    readd = client.post("/v1/wishlist/items", json={"sku": sku}, headers=customer.headers)
    assert readd.status_code == 200


def test_the_wishlist_needs_a_token(client: TestClient) -> None:
    for method, url, body in (
        ("GET", "/v1/wishlist/items", None),
        ("POST", "/v1/wishlist/items", {"sku": "ANY-1"}),
        ("DELETE", "/v1/wishlist/items/ANY-1", None),
    ):
        response = client.request(method, url, json=body)
        assert response.status_code == 401, method
        assert response.json()["error"]["code"] == "NOT_AUTHENTICATED"


def test_malformed_requests_are_422(client: TestClient, customer: Caller) -> None:
    for body in ({}, {"sku": "has space"}, {"sku": "OK-1", "extra": True}, {"sku": 5}):
        response = client.post("/v1/wishlist/items", json=body, headers=customer.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "VALIDATION_FAILED"
    bad_path = client.delete("/v1/wishlist/items/bad%20sku", headers=customer.headers)
    assert bad_path.status_code == 422
