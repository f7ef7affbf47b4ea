"""Rules of fulfilment, free of SQL: which shipments an order needs, and how one moves.

An order gets one shipment per warehouse its units were sold from (the order's `allocations`:
sku, warehouse, quantity); the units no warehouse held (SKUs the ledger does not track) join
the shipment of the first of those warehouses, or the default warehouse when there is none.

A shipment is CREATED → PICKED → PACKED (a carrier's tracking number and a label) → SHIPPED
(handed over), then moved by the carrier's scans: IN_TRANSIT, OUT_FOR_DELIVERY, FAILED_ATTEMPT
(and out for delivery again) until DELIVERED. Until it is shipped it may be CANCELLED (its
order was). Scans are numbered by the carrier: one already applied, or a stale one, changes
nothing; a scan may skip states (a parcel delivered without an "out for delivery" scan).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shoplake.events.base import EventData
from shoplake.events.shipment import (
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentLine,
    ShipmentPacked,
    ShipmentShipped,
)


class ShipmentStatus(StrEnum):
    CREATED = "CREATED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    FAILED_ATTEMPT = "FAILED_ATTEMPT"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


S = ShipmentStatus
# What a carrier's scan may report.
SCAN_STATUSES = frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.DELIVERED})
# With the carrier: tracking is polled for these.
WITH_CARRIER = frozenset({S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT})
# Not left the warehouse: the order may still cancel these.
IN_WAREHOUSE = frozenset({S.CREATED, S.PICKED, S.PACKED})
# Left the warehouse (what the order's SHIPPED waits for).
LEFT_WAREHOUSE = WITH_CARRIER | {S.DELIVERED}

TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.CREATED: frozenset({S.PICKED, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.DELIVERED}),
    S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.FAILED_ATTEMPT, S.DELIVERED}),
    S.OUT_FOR_DELIVERY: frozenset({S.IN_TRANSIT, S.FAILED_ATTEMPT, S.DELIVERED}),
    S.FAILED_ATTEMPT: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}


class FulfilmentErrorCode(StrEnum):
    ILLEGAL_SHIPMENT_TRANSITION = "ILLEGAL_SHIPMENT_TRANSITION"


class IllegalShipmentTransition(Exception):
    def __init__(self, shipment_id: str, from_status: ShipmentStatus, to: ShipmentStatus) -> None:
        super().__init__(f"shipment '{shipment_id}' cannot go from {from_status} to {to}")
        self.code = FulfilmentErrorCode.ILLEGAL_SHIPMENT_TRANSITION
        self.message = str(self)
        self.details = {"shipment_id": shipment_id, "from": from_status.value, "to": to.value}


# ---------------------------------------------------------------- planning an order's shipments


@dataclass(frozen=True)
class PlannedLine:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class PlannedShipment:
    warehouse_id: str
    lines: tuple[PlannedLine, ...]

    @property
    def unit_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def plan_shipments(
    lines: Sequence[Mapping[str, Any]],
    allocations: Sequence[Mapping[str, Any]],
    default_warehouse: str,
) -> list[PlannedShipment]:
    """One shipment per warehouse the allocations name, ordered by warehouse id; lines no
    allocation covers go with the first of them (or to `default_warehouse`)."""
    names = {str(line["sku"]): str(line["name"]) for line in lines}
    per_warehouse: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    allocated: dict[str, int] = defaultdict(int)
    for a in allocations:
        quantity = int(a["quantity"])
        if quantity > 0:
            per_warehouse[str(a["warehouse_id"])][str(a["sku"])] += quantity
            allocated[str(a["sku"])] += quantity
    unallocated = {
        str(line["sku"]): int(line["quantity"]) - allocated[str(line["sku"])]
        for line in lines
        if int(line["quantity"]) > allocated[str(line["sku"])]
    }
    if unallocated:
        home = min(per_warehouse) if per_warehouse else default_warehouse
        for sku, quantity in unallocated.items():
            per_warehouse[home][sku] += quantity
    return [
        PlannedShipment(
            warehouse,
            tuple(
                PlannedLine(sku, names.get(sku, sku), quantity)
                for sku, quantity in sorted(skus.items())
            ),
        )
        for warehouse, skus in sorted(per_warehouse.items())
    ]


# ---------------------------------------------------------------- the aggregate


@dataclass(frozen=True)
class Parcel:
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class Scan:
    """One carrier scan: its number in the parcel's sequence, what it says, where and when."""

    seq: int
    status: ShipmentStatus
    location: str
    at: datetime


@dataclass
class Shipment:
    """Status changes go through the methods, which collect the events and the changed fields."""

    id: str
    order_id: str
    warehouse_id: str
    status: ShipmentStatus
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    attempts: int = 0
    last_scan_seq: int = 0
    events: list[EventData] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

    def _move(self, to: ShipmentStatus) -> None:
        if to not in TRANSITIONS[self.status]:
            raise IllegalShipmentTransition(self.id, self.status, to)
        self.status = to
        self.changes["status"] = to.value

    def _ids(self) -> dict[str, str]:
        return {
            "shipment_id": self.id,
            "order_id": self.order_id,
            "warehouse_id": self.warehouse_id,
        }

    def created(self, lines: Sequence[PlannedLine]) -> None:
        self.events.append(
            ShipmentCreated(
                **self._ids(),
                lines=[ShipmentLine(sku=line.sku, quantity=line.quantity) for line in lines],
                unit_count=sum(line.quantity for line in lines),
            )
        )

    def pick(self) -> None:
        self._move(S.PICKED)
        self.changes["picked_at"] = True

    def pack(self, parcel: Parcel, carrier: str, tracking_number: str, tracking_url: str) -> None:
        self._move(S.PACKED)
        self.carrier, self.tracking_number, self.tracking_url = (
            carrier,
            tracking_number,
            tracking_url,
        )
        self.changes.update(
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            weight_g=parcel.weight_g,
            length_mm=parcel.length_mm,
            width_mm=parcel.width_mm,
            height_mm=parcel.height_mm,
            packed_at=True,
        )
        self.events.append(
            ShipmentPacked(
                **self._ids(),
                carrier=carrier,
                tracking_number=tracking_number,
                weight_g=parcel.weight_g,
                length_mm=parcel.length_mm,
                width_mm=parcel.width_mm,
                height_mm=parcel.height_mm,
            )
        )

    def ship(self) -> None:
        self._move(S.SHIPPED)
        self.changes["shipped_at"] = True
        assert self.carrier and self.tracking_number and self.tracking_url
        self.events.append(
            ShipmentShipped(
                **self._ids(),
                carrier=self.carrier,
                tracking_number=self.tracking_number,
                tracking_url=self.tracking_url,
            )
        )

    def cancel(self, reason: str) -> None:
        self._move(S.CANCELLED)
        self.changes["cancelled_at"] = True
        self.events.append(ShipmentCancelled(**self._ids(), reason=reason))

    def apply_scan(self, scan: Scan) -> bool:
        """Apply one carrier scan; False when it is one already seen or it cannot move the
        shipment (a scan after delivery). The scan is recorded either way by the caller."""
        if scan.seq <= self.last_scan_seq:
            return False
        self.last_scan_seq = scan.seq
        self.changes["last_scan_seq"] = scan.seq
        if scan.status is S.FAILED_ATTEMPT or (
            scan.status is S.DELIVERED and self.status is not S.DELIVERED
        ):
            self.attempts += 1
            self.changes["attempts"] = self.attempts
        if scan.status not in TRANSITIONS[self.status]:
            return False
        self._move(scan.status)
        if scan.status is S.DELIVERED:
            self.changes["delivered_at"] = scan.at
            assert self.carrier and self.tracking_number
            self.events.append(
                ShipmentDelivered(
                    **self._ids(),
                    carrier=self.carrier,
                    tracking_number=self.tracking_number,
                    attempts=max(self.attempts, 1),
                )
            )
        return True


def order_status_after(statuses: Sequence[ShipmentStatus]) -> str | None:
    """What an order's shipments say about it: 'shipped' when every live one left the
    warehouse, 'delivered' when every live one arrived, None otherwise (cancelled shipments do
    not count; an order with none left is not moved)."""
    live = [status for status in statuses if status is not S.CANCELLED]
    if not live:
        return None
    if all(status is S.DELIVERED for status in live):
        return "delivered"
    if all(status in LEFT_WAREHOUSE for status in live):
        return "shipped"
    return None
