"""The CloudEvents envelope and topic naming."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from shoplake.events import DEADLETTER_TOPIC, CloudEvent, topic_for, topic_for_type


def _event(**overrides: object) -> CloudEvent:
    fields: dict[str, object] = {
        "source": "/serving/orders",
        "type": "shop.order.OrderPlaced.v1",
        "subject": "ord-1",
        "data": {"total_cents": 1299},
    }
    fields.update(overrides)
    return CloudEvent.model_validate(fields)


def test_round_trips_through_json() -> None:
    event = _event()
    again = CloudEvent.from_json(event.to_json())
    assert again == event
    assert again.specversion == "1.0"
    assert again.domain == "order"
    assert again.time.tzinfo is not None


@pytest.mark.parametrize(
    "overrides",
    [
        {"type": "OrderPlaced"},
        {"type": "shop.order.orderPlaced.v1"},
        {"type": "shop.Order.OrderPlaced.v1"},
        {"subject": ""},
        {"specversion": "0.3"},
        {"time": datetime(2026, 1, 1)},  # naive: no timezone
        {"unexpected": 1},
    ],
)
def test_rejects_envelopes_that_break_the_contract(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _event(**overrides)


def test_topics_are_one_per_domain() -> None:
    assert topic_for("order") == "shop.order.v1"
    assert topic_for_type("shop.cart.CartItemAdded.v1") == "shop.cart.v1"
    assert DEADLETTER_TOPIC == "shop.deadletter.v1"
    with pytest.raises(ValueError, match="not a shoplake event type"):
        topic_for_type("orders.placed")
