"""Fulfilment's rules: which shipments an order needs, how a shipment moves, what scans do,
and what the shipments of an order say about it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import product

import pytest

from serving.fulfilment.domain import (
    TRANSITIONS,
    IllegalShipmentTransition,
    Parcel,
    Scan,
    Shipment,
    ShipmentStatus,
    order_status_after,
    plan_shipments,
)
from shoplake.events.shipment import ShipmentDelivered

S = ShipmentStatus
LINES = [
    {"sku": "A", "name": "Lamp", "quantity": 4},
    {"sku": "B", "name": "Bulb", "quantity": 1},
    {"sku": "C", "name": "Untracked card", "quantity": 2},
]
AT = datetime(2026, 11, 2, tzinfo=UTC)


def test_one_shipment_per_warehouse_and_unallocated_lines_join_the_first() -> None:
    allocations = [
        {"sku": "A", "warehouse_id": "w2", "quantity": 2},
        {"sku": "A", "warehouse_id": "w1", "quantity": 2},
        {"sku": "B", "warehouse_id": "w2", "quantity": 1},
    ]
    plan = plan_shipments(LINES, allocations, "default")
    assert [(s.warehouse_id, [(x.sku, x.quantity) for x in s.lines]) for s in plan] == [
        ("w1", [("A", 2), ("C", 2)]),
        ("w2", [("A", 2), ("B", 1)]),
    ]
    assert sum(s.unit_count for s in plan) == 7


def test_an_order_no_warehouse_reserved_for_ships_from_the_default_warehouse() -> None:
    (only,) = plan_shipments(LINES, [], "WH-1")
    assert only.warehouse_id == "WH-1" and only.unit_count == 7
    assert [line.name for line in only.lines] == ["Lamp", "Bulb", "Untracked card"]


def _shipment(status: ShipmentStatus = S.CREATED) -> Shipment:
    return Shipment("s1", "o1", "w1", status)


def test_the_warehouse_steps_record_their_events_and_fields() -> None:
    shipment = _shipment()
    shipment.pick()
    shipment.pack(Parcel(1200, 300, 200, 100), "sandbox", "SB000000164XX", "https://t/1")
    shipment.ship()
    assert shipment.status is S.SHIPPED
    assert [type(e).__name__ for e in shipment.events] == [
        "ShipmentPacked",
        "ShipmentShipped",
    ]
    assert shipment.changes["tracking_number"] == "SB000000164XX"
    assert shipment.changes["weight_g"] == 1200 and shipment.changes["shipped_at"] is True


@pytest.mark.parametrize(("start", "to"), list(product(S, (S.PICKED, S.SHIPPED, S.CANCELLED))))
def test_each_warehouse_step_is_allowed_or_refused_by_the_table(
    start: ShipmentStatus, to: ShipmentStatus
) -> None:
    shipment = _shipment(start)
    shipment.carrier, shipment.tracking_number, shipment.tracking_url = "c", "t", "u"
    moves: dict[ShipmentStatus, Callable[[], None]] = {
        S.PICKED: shipment.pick,
        S.SHIPPED: shipment.ship,
        S.CANCELLED: lambda: shipment.cancel("why"),
    }
    if to in TRANSITIONS[start]:
        moves[to]()
        assert shipment.status is to
    else:
        with pytest.raises(IllegalShipmentTransition):
            moves[to]()
        assert shipment.status is start and not shipment.events


def test_scans_move_the_shipment_once_and_count_the_attempts() -> None:
    shipment = _shipment(S.SHIPPED)
    shipment.carrier, shipment.tracking_number = "sandbox", "SB1"
    journey = [
        Scan(1, S.IN_TRANSIT, "hub", AT),
        Scan(2, S.OUT_FOR_DELIVERY, "city", AT),
        Scan(3, S.FAILED_ATTEMPT, "city", AT),
        Scan(4, S.OUT_FOR_DELIVERY, "city", AT),
        Scan(5, S.DELIVERED, "city", AT),
    ]
    assert [shipment.apply_scan(scan) for scan in journey] == [True] * 5
    assert shipment.status is S.DELIVERED and shipment.attempts == 2
    assert shipment.apply_scan(journey[2]) is False  # seen before: nothing moves
    assert shipment.apply_scan(Scan(6, S.IN_TRANSIT, "hub", AT)) is False  # after delivery
    (delivered,) = [e for e in shipment.events if isinstance(e, ShipmentDelivered)]
    assert delivered.attempts == 2
    assert shipment.changes["delivered_at"] == AT


def test_a_scan_may_skip_states() -> None:
    shipment = _shipment(S.SHIPPED)
    shipment.carrier, shipment.tracking_number = "sandbox", "SB1"
    assert shipment.apply_scan(Scan(1, S.DELIVERED, "city", AT)) is True
    assert shipment.status is S.DELIVERED and shipment.attempts == 1


def test_a_cancel_is_possible_only_before_the_parcel_left() -> None:
    for status in (S.CREATED, S.PICKED, S.PACKED):
        shipment = _shipment(status)
        shipment.cancel("order cancelled")
        assert shipment.status is S.CANCELLED
    with pytest.raises(IllegalShipmentTransition):
        _shipment(S.SHIPPED).cancel("too late")


def test_the_order_ships_when_every_live_shipment_left_and_is_delivered_when_all_arrived() -> None:
    assert order_status_after([S.SHIPPED, S.PACKED]) is None
    assert order_status_after([S.SHIPPED, S.IN_TRANSIT]) == "shipped"
    assert order_status_after([S.DELIVERED, S.FAILED_ATTEMPT]) == "shipped"
    assert order_status_after([S.DELIVERED, S.CANCELLED]) == "delivered"
    assert order_status_after([S.CANCELLED]) is None
