"""The purchase order and its rules: which status may follow which, and what may be received.

DRAFT → SUBMITTED (the supplier sees it) → ACKNOWLEDGED (the supplier accepts) →
PARTIALLY_RECEIVED → RECEIVED; CLOSED ends any of them (the units not received are short).
Receipts are taken from SUBMITTED on (goods may arrive before the supplier's acknowledgement)
and never beyond what was ordered; ship notices announce units of the open order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class PoStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"
    CLOSED = "CLOSED"


S = PoStatus
# Where goods may arrive and ship notices may announce them.
RECEIVABLE = frozenset({S.SUBMITTED, S.ACKNOWLEDGED, S.PARTIALLY_RECEIVED})
# Orders still to come: their units not yet received are on order (a draft included: it is the
# buyer's intent, and counting it keeps a reorder run from drafting the same units twice).
OPEN = RECEIVABLE | {S.DRAFT}
# What the supplier may see: everything but the buyer's drafts.
SUPPLIER_VISIBLE = frozenset(set(PoStatus) - {S.DRAFT})


class InboundErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    UNKNOWN_LINE = "UNKNOWN_LINE"
    OVER_RECEIPT = "OVER_RECEIPT"
    REFERENCE_REUSED = "REFERENCE_REUSED"
    SUPPLIER_INACTIVE = "SUPPLIER_INACTIVE"
    SUPPLIER_CODE_TAKEN = "SUPPLIER_CODE_TAKEN"
    EMAIL_TAKEN = "EMAIL_TAKEN"


STATUS_OF_ERROR = {
    InboundErrorCode.ILLEGAL_TRANSITION: 409,
    InboundErrorCode.DUPLICATE_SKU: 422,
    InboundErrorCode.UNKNOWN_LINE: 422,
    InboundErrorCode.OVER_RECEIPT: 409,
    InboundErrorCode.REFERENCE_REUSED: 409,
    InboundErrorCode.SUPPLIER_INACTIVE: 409,
    InboundErrorCode.SUPPLIER_CODE_TAKEN: 409,
    InboundErrorCode.EMAIL_TAKEN: 409,
}


class InboundError(Exception):
    def __init__(self, code: InboundErrorCode, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class PoLine:
    sku: str
    quantity_ordered: int
    unit_cost_cents: int
    quantity_received: int = 0

    @property
    def remaining(self) -> int:
        return self.quantity_ordered - self.quantity_received


@dataclass(frozen=True)
class PurchaseOrder:
    id: str
    number: int
    supplier_id: str
    warehouse_id: str
    currency: str
    status: PoStatus
    lines: tuple[PoLine, ...]
    expected_arrival: date | None = None
    notes: str = ""
    created_by: str | None = None
    created_at: datetime | None = None
    submitted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def reference(self) -> str:
        """The order's human name, e.g. PO-000042."""
        return f"PO-{self.number:06d}"

    @property
    def total_cost_cents(self) -> int:
        return sum(line.quantity_ordered * line.unit_cost_cents for line in self.lines)

    @property
    def units_remaining(self) -> int:
        return sum(line.remaining for line in self.lines)

    def line(self, sku: str) -> PoLine | None:
        return next((line for line in self.lines if line.sku == sku), None)


def merge_units(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """SKU → units; a SKU twice in one request is refused (ambiguous, most likely a mistake)."""
    units: dict[str, int] = {}
    for sku, quantity in lines:
        if sku in units:
            raise InboundError(InboundErrorCode.DUPLICATE_SKU, f"'{sku}' is listed twice")
        units[sku] = quantity
    return units


def _require(po: PurchaseOrder, allowed: frozenset[PoStatus], action: str) -> None:
    if po.status not in allowed:
        raise InboundError(
            InboundErrorCode.ILLEGAL_TRANSITION,
            f"a {po.status.value} purchase order cannot be {action}",
            details={"status": po.status.value},
        )


def submit(po: PurchaseOrder, now: datetime) -> PurchaseOrder:
    _require(po, frozenset({S.DRAFT}), "submitted")
    return replace(po, status=S.SUBMITTED, submitted_at=now)


def acknowledge(
    po: PurchaseOrder, expected_arrival: date | None, now: datetime
) -> tuple[PurchaseOrder, bool]:
    """The order acknowledged, and whether this call changed anything (a repeat does not)."""
    if po.status is S.ACKNOWLEDGED and expected_arrival in (None, po.expected_arrival):
        return po, False
    _require(po, frozenset({S.SUBMITTED, S.ACKNOWLEDGED}), "acknowledged")
    return (
        replace(
            po,
            status=S.ACKNOWLEDGED,
            acknowledged_at=po.acknowledged_at or now,
            expected_arrival=expected_arrival or po.expected_arrival,
        ),
        True,
    )


def check_units(po: PurchaseOrder, units: Mapping[str, int], action: str) -> None:
    """Every SKU is a line of the order and no line gets more than it still expects."""
    _require(po, RECEIVABLE, action)
    unknown = sorted(sku for sku in units if po.line(sku) is None)
    if unknown:
        raise InboundError(
            InboundErrorCode.UNKNOWN_LINE,
            f"not on {po.reference}: {', '.join(unknown)}",
            details={"skus": unknown},
        )
    over = {
        sku: {"requested": quantity, "remaining": line.remaining}
        for sku, quantity in units.items()
        if (line := po.line(sku)) is not None and quantity > line.remaining
    }
    if over:
        raise InboundError(
            InboundErrorCode.OVER_RECEIPT,
            f"more than {po.reference} still expects: {', '.join(sorted(over))}",
            details=over,
        )


def receive(po: PurchaseOrder, units: Mapping[str, int]) -> PurchaseOrder:
    """The order after these units arrived: lines counted, status partial or received."""
    check_units(po, units, "received")
    lines = tuple(
        replace(line, quantity_received=line.quantity_received + units.get(line.sku, 0))
        for line in po.lines
    )
    done = all(line.remaining == 0 for line in lines)
    return replace(po, lines=lines, status=S.RECEIVED if done else S.PARTIALLY_RECEIVED)


def close(po: PurchaseOrder, now: datetime) -> tuple[PurchaseOrder, int]:
    """The closed order and the units that will never arrive."""
    _require(po, frozenset(set(PoStatus) - {S.CLOSED}), "closed")
    return replace(po, status=S.CLOSED, closed_at=now), po.units_remaining


def announce(po: PurchaseOrder, expected_arrival: date) -> PurchaseOrder:
    """A ship notice moves the order's expected arrival to the shipment's."""
    return replace(po, expected_arrival=expected_arrival)
