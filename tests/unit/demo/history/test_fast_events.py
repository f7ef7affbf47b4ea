"""The simulator's short cuts give what the contract's own path gives: the same UUIDs, the same
event data and envelopes, the same random draws, the same history byte for byte, and every event
of it valid against its model."""

from __future__ import annotations

import bisect
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from demo.history.simulate import (
    HOURS,
    PRODUCT_VIEWED,
    SEARCH_PERFORMED,
    Fact,
    Simulation,
    envelope,
    fact_of,
)
from demo.history.world import HistoryParams, build_world, uuid4_text
from shoplake.events import CloudEvent, model_for
from shoplake.events.behaviour import ProductViewed, RecommendationClicked, SearchPerformed
from shoplake.events.cart import CartCheckedOut, CartItemAdded, CartItemRemoved
from shoplake.events.payment import PaymentDeclined
from shoplake.events.user import UserRegistered
from shoplake.events.wishlist import WishlistItemAdded
from tests.support.history import END, MemorySink, simulate


def test_uuid4_text_is_the_uuid_modules_version_4_text() -> None:
    rng = random.Random(11)
    edges = [0, 2**128 - 1, 1 << 76, 0xC000 << 48]
    for bits in edges + [rng.getrandbits(128) for _ in range(2000)]:
        assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


# Values of every type the simulation builds from values, with and without the optional fields.
CASES: list[tuple[type[Any], dict[str, Any]]] = [
    (ProductViewed, {"session_id": "ses-1", "user_id": None, "sku": "H7-A", "referrer": "home"}),
    (ProductViewed, {"session_id": "ses-1", "sku": "H7-A"}),
    (
        SearchPerformed,
        {
            "session_id": "ses-2",
            "user_id": "u-1",
            "query": "tent",
            "result_count": 0,
            "zero_results": True,
        },
    ),
    (
        RecommendationClicked,
        {
            "session_id": "ses-3",
            "user_id": "u-1",
            "sku": "H7-B",
            "slot": 4,
            "placement": "cart",
            "model_version": "popularity-baseline",
        },
    ),
    (
        CartItemAdded,
        {
            "cart_id": "c-1",
            "user_id": "u-1",
            "sku": "H7-B",
            "quantity": 2,
            "unit_price_cents": 1999,
            "currency": "EUR",
        },
    ),
    (CartItemRemoved, {"cart_id": "c-1", "user_id": "u-1", "sku": "H7-B", "quantity": 1}),
    (CartCheckedOut, {"cart_id": "c-1", "user_id": "u-1", "order_id": "o-1", "item_count": 3}),
    (UserRegistered, {"user_id": "u-1", "email": "a@b.c", "role": "customer", "country": "FR"}),
    (WishlistItemAdded, {"user_id": "u-1", "sku": "H7-C"}),
    (
        PaymentDeclined,
        {
            "payment_id": "p-1",
            "order_id": "o-1",
            "amount_cents": 500,
            "currency": "EUR",
            "gateway": "sandbox",
            "reason": "declined",
        },
    ),
]


@pytest.mark.parametrize(("model", "values"), CASES)
def test_a_facts_data_is_the_models_dump_in_its_order(
    model: type[Any], values: dict[str, Any]
) -> None:
    data = fact_of(model).data(values)
    assert list(data.items()) == list(model(**values).model_dump(mode="json").items())


def test_a_fact_refuses_values_missing_a_required_field_and_copies_default_factories() -> None:
    with pytest.raises(TypeError, match="query"):
        SEARCH_PERFORMED.data({"session_id": "s", "result_count": 1, "zero_results": False})
    values = {"session_id": "s", "query": "q", "result_count": 1, "zero_results": False}
    first, second = SEARCH_PERFORMED.data(values), SEARCH_PERFORMED.data(values)
    assert first["filters"] == {} and first["filters"] is not second["filters"]
    assert fact_of(ProductViewed) is PRODUCT_VIEWED and isinstance(PRODUCT_VIEWED, Fact)


def test_an_envelope_is_the_event_to_event_validates() -> None:
    values = {"session_id": "ses-9", "user_id": "u-2", "sku": "H7-D", "referrer": "search"}
    at = datetime(2026, 6, 1, 8, 30, 15, 123000, tzinfo=UTC)
    data = PRODUCT_VIEWED.data(values)
    built = envelope("id-1", "/serving/behaviour", PRODUCT_VIEWED, "ses-9", data, at)
    expected = ProductViewed(**values).to_event("/serving/behaviour", event_id="id-1", time=at)
    assert built == expected
    assert built.to_json() == expected.to_json()
    assert built.model_dump(mode="json") == expected.model_dump(mode="json")
    assert built.model_fields_set == expected.model_fields_set
    assert built.domain == "behaviour"


def test_drawing_the_days_hours_together_draws_what_one_by_one_would() -> None:
    together = np.random.default_rng([7, 123]).choice(24, size=50, p=HOURS).tolist()
    one_by_one = np.random.default_rng([7, 123])
    assert together == [int(one_by_one.choice(24, size=1, p=HOURS)[0]) for _ in range(50)]


def test_bisecting_a_cdf_list_finds_what_searchsorted_finds() -> None:
    world = build_world(HistoryParams(days=5, users=20, products=60, seed=3, end=END))
    rng = random.Random(5)
    for row in world.view_cdf:
        listed = row.tolist()
        for u in [0.0, float(row[0]), float(row[10]), *(rng.random() for _ in range(500))]:
            assert bisect.bisect_left(listed, u) == int(np.searchsorted(row, u))


class ContractSimulation(Simulation):
    """Every event through the contract's own path: the data model validated and dumped,
    then `to_event`, which validates the envelope."""

    def _send(
        self, fact: Fact, data: dict[str, Any], source: str, event_id: str, outbox: bool
    ) -> None:
        event = fact.model.model_validate(data).to_event(source, event_id=event_id, time=self.now)
        self.sink.event(event, outbox=outbox)
        self.counts.events[fact.type] += 1


def test_the_history_is_the_one_the_contracts_own_path_writes() -> None:
    params = HistoryParams(days=6, users=120, products=40, seed=8, end=END)
    fast, slow = MemorySink(), MemorySink()
    Simulation(build_world(params), fast).run()
    ContractSimulation(build_world(params), slow).run()
    assert len(fast.events) > 1000
    assert [e.to_json() for e in fast.events] == [e.to_json() for e in slow.events]
    assert fast.movements == slow.movements and fast.status_changes == slow.status_changes


def test_every_event_of_a_history_is_valid_against_its_model() -> None:
    simulation, sink = simulate(days=10, users=150, products=50, seed=6)
    assert sink.events
    for event in sink.events:
        again = CloudEvent.model_validate_json(event.to_json())
        assert again == event
        assert again.time.tzinfo is UTC
        assert model_for(event.type).model_validate(event.data).model_dump(mode="json") == (
            event.data
        )
    assert max(e.time for e in sink.events) <= simulation.end + timedelta(seconds=5)
