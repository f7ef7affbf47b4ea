"""Catalog and stock events folded onto a search document: order, staleness, missing docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shoplake.events.base import EventData
from shoplake.events.catalog import PriceChanged, ProductCreated, ProductDiscontinued
from shoplake.events.inventory import OutOfStock
from shoplake.search.documents import IndexedProduct, Outcome, apply_event

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def created(version: int = 1, name: str = "Stride trail runner in blue") -> ProductCreated:
    return ProductCreated(
        sku="SHO-RUN-1",
        version=version,
        name=name,
        brand="Stride",
        category_path=["shoes", "running"],
        price_cents=9999,
        currency="EUR",
        status="active",
        attributes={"color": "blue", "weight_g": 300, "nested": {"a": 1}},
    )


def apply(
    current: IndexedProduct | None, data: EventData, at: datetime = T0
) -> tuple[Outcome, IndexedProduct | None]:
    return apply_event(current, data.to_event("/test", time=at), data)


def test_created_builds_a_document_with_facets_and_suggestions() -> None:
    outcome, state = apply(None, created())
    assert outcome == Outcome.APPLIED and state is not None
    doc = state.document()
    assert doc["facets"] == {"color": "blue"}
    assert doc["category_paths"] == ["shoes", "shoes/running"]
    assert doc["attributes"]["nested"] == {"a": 1}  # flattened keeps any JSON object
    assert "trail runner" in doc["suggest"]["input"]
    assert doc["search_text"].startswith("stride trail runner in blue stride shoe running")
    assert doc["in_stock"] is True and doc["created_at"] == T0.isoformat()


def test_an_older_version_is_stale_and_partial_events_need_a_document() -> None:
    _, state = apply(None, created(version=3))
    assert apply(state, created(version=2, name="old"))[0] == Outcome.STALE
    price = PriceChanged(
        sku="SHO-RUN-1", version=3, old_price_cents=9999, new_price_cents=7999, currency="EUR"
    )
    assert apply(None, price)[0] == Outcome.MISSING
    outcome, repriced = apply(state, price)
    assert outcome == Outcome.APPLIED and repriced is not None
    assert repriced.price_cents == 7999
    outcome, gone = apply(repriced, ProductDiscontinued(sku="SHO-RUN-1", version=4))
    assert gone is not None and gone.status == "discontinued"
    assert "suggest" not in gone.document()


def test_stock_levels_per_warehouse_with_a_time_guard() -> None:
    _, state = apply(None, created())
    out = OutOfStock(sku="SHO-RUN-1", warehouse_id="w1", on_hand=2, reserved=2)
    outcome, empty = apply(state, out, T0 + timedelta(seconds=10))
    assert outcome == Outcome.APPLIED and empty is not None and empty.in_stock is False
    older = OutOfStock(sku="SHO-RUN-1", warehouse_id="w1", on_hand=5, reserved=0)
    assert apply(empty, older, T0)[0] == Outcome.STALE
    # an update keeps the stock the index learnt from inventory events
    _, updated = apply(empty, created(version=2, name="renamed"), T0 + timedelta(seconds=20))
    assert updated is not None and updated.in_stock is False and updated.created_at == T0


def test_document_round_trips_through_source() -> None:
    _, state = apply(None, created())
    assert state is not None
    again = IndexedProduct.from_document(state.document())
    assert again == state
