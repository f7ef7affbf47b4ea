"""Rules of the stock ledger, free of SQL and Redis.

A stock level is the stock of one SKU in one warehouse: `on_hand` units on the shelves, of which
`reserved` are held for orders not yet paid; `available = on_hand - reserved` is what can still
be sold. Every change is a `Movement` with a reason, and produces its events: the movement's own
(StockReserved, StockReleased, StockAdjusted, StockReceived) plus OutOfStock when the level's
available units fall to 0 and BackInStock when they rise from 0.

Reservations are allocated by `allocate` over a `StockLedger`, the small interface of the store:
SKUs in sorted order and each SKU's warehouses in id order (so that concurrent orders lock rows in
one order and never deadlock), the whole line from the first warehouse that can hold it, else split
over the warehouses in order. A SKU with no stock level at all is not stock-managed and is sold
without a reservation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from shoplake.events import inventory as stock_events
from shoplake.events.base import INT32_MAX, EventData

MAX_UNITS = INT32_MAX


class MovementReason(StrEnum):
    RECEIPT = "receipt"
    RESERVATION = "reservation"
    RELEASE = "release"
    SALE = "sale"
    ADJUSTMENT = "adjustment"


class ReservationStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    SOLD = "sold"


class InventoryErrorCode(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    BELOW_RESERVED = "BELOW_RESERVED"
    NEGATIVE_STOCK = "NEGATIVE_STOCK"
    INVALID_LINES = "INVALID_LINES"
    ALREADY_RESERVED = "ALREADY_RESERVED"
    NOT_RESERVED = "NOT_RESERVED"


class InventoryError(Exception):
    """A rule of the ledger refused a change; nothing of the change is written."""

    code: InventoryErrorCode = InventoryErrorCode.NEGATIVE_STOCK

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class OutOfStock(InventoryError):
    """Raised by `reserve` with the SKUs it could not hold (not the event of the same name,
    `shoplake.events.inventory.OutOfStock`)."""

    code = InventoryErrorCode.OUT_OF_STOCK

    def __init__(self, skus: Sequence[str]) -> None:
        self.skus = sorted(set(skus))
        super().__init__(f"not enough stock for {', '.join(self.skus)}", {"skus": self.skus})


class BelowReserved(InventoryError):
    code = InventoryErrorCode.BELOW_RESERVED


class NegativeStock(InventoryError):
    code = InventoryErrorCode.NEGATIVE_STOCK


class InvalidLines(InventoryError):
    code = InventoryErrorCode.INVALID_LINES


class AlreadyReserved(InventoryError):
    code = InventoryErrorCode.ALREADY_RESERVED


class NotReserved(InventoryError):
    code = InventoryErrorCode.NOT_RESERVED


@dataclass(frozen=True)
class StockLevel:
    sku: str
    warehouse_id: str
    on_hand: int = 0
    reserved: int = 0

    def __post_init__(self) -> None:
        if self.on_hand < 0:
            raise NegativeStock(
                f"{self.sku} at {self.warehouse_id}: on hand cannot go below 0",
                {"on_hand": self.on_hand},
            )
        if self.on_hand > MAX_UNITS:
            raise NegativeStock(f"{self.sku}: on hand cannot exceed {MAX_UNITS}")
        if not 0 <= self.reserved <= self.on_hand:
            raise BelowReserved(
                f"{self.sku} at {self.warehouse_id}: on hand {self.on_hand} is below the "
                f"{self.reserved} units reserved",
                {"on_hand": self.on_hand, "reserved": self.reserved},
            )

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def with_on_hand(self, on_hand: int) -> StockLevel:
        return replace(self, on_hand=on_hand)

    def adjusted(self, delta: int) -> StockLevel:
        return self.with_on_hand(self.on_hand + delta)

    def received(self, quantity: int) -> StockLevel:
        _positive(quantity)
        return self.with_on_hand(self.on_hand + quantity)

    def reserving(self, quantity: int) -> StockLevel:
        _positive(quantity)
        if quantity > self.available:
            raise OutOfStock([self.sku])
        return replace(self, reserved=self.reserved + quantity)

    def releasing(self, quantity: int) -> StockLevel:
        _positive(quantity)
        return replace(self, reserved=self.reserved - quantity)

    def selling(self, quantity: int) -> StockLevel:
        """Reserved units leave the warehouse: on hand and reserved both drop."""
        _positive(quantity)
        return replace(self, on_hand=self.on_hand - quantity, reserved=self.reserved - quantity)


def _positive(quantity: int) -> None:
    if quantity <= 0:
        raise InvalidLines(f"a quantity must be positive, not {quantity}")


@dataclass(frozen=True)
class Movement:
    """One change of one stock level, as the ledger records it."""

    reason: MovementReason
    before: StockLevel
    after: StockLevel
    order_id: str | None = None
    reference: str | None = None
    note: str | None = None

    @property
    def on_hand_delta(self) -> int:
        return self.after.on_hand - self.before.on_hand

    @property
    def reserved_delta(self) -> int:
        return self.after.reserved - self.before.reserved


@dataclass(frozen=True)
class Reservation:
    order_id: str
    sku: str
    warehouse_id: str
    quantity: int
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.HELD


def merge_lines(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """One line per SKU (quantities added), sorted by SKU: the order rows are locked in."""
    totals: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        if quantity <= 0:
            raise InvalidLines(f"{sku}: a quantity must be positive, not {quantity}")
        totals[sku] += quantity
    if not totals:
        raise InvalidLines("an order needs at least one line")
    for sku, quantity in totals.items():
        if quantity > MAX_UNITS:
            raise InvalidLines(f"{sku}: {quantity} units is more than a level can hold")
    return sorted(totals.items())


def events_of(movement: Movement, *, transitions: bool = True) -> list[EventData]:
    """The movement's events: its own, then a stock-out or back-in-stock transition (unless
    `transitions` is off: a pair of movements that leaves availability as it was)."""
    before, after = movement.before, movement.after
    state = {
        "sku": after.sku,
        "warehouse_id": after.warehouse_id,
        "on_hand": after.on_hand,
        "reserved": after.reserved,
    }
    reason = movement.note or movement.reason.value
    events: list[EventData] = []
    if movement.reason is MovementReason.RESERVATION:
        events.append(
            stock_events.StockReserved(
                **state, quantity=movement.reserved_delta, order_id=movement.order_id or ""
            )
        )
    elif movement.reason is MovementReason.RELEASE:
        events.append(
            stock_events.StockReleased(
                **state,
                quantity=-movement.reserved_delta,
                order_id=movement.order_id or "",
                reason=reason,
            )
        )
    elif movement.reason is MovementReason.SALE:
        # The contract has no sale event: a sale is told as its two halves, the hold released
        # and the units taken off the shelf, so that the lake's sums of deltas stay exact.
        events.append(
            stock_events.StockReleased(
                **state,
                quantity=-movement.reserved_delta,
                order_id=movement.order_id or "",
                reason="sale",
            )
        )
        events.append(
            stock_events.StockAdjusted(**state, delta=movement.on_hand_delta, reason="sale")
        )
    elif movement.reason is MovementReason.RECEIPT:
        events.append(
            stock_events.StockReceived(
                **state, quantity=movement.on_hand_delta, reference=movement.reference
            )
        )
    else:
        events.append(
            stock_events.StockAdjusted(**state, delta=movement.on_hand_delta, reason=reason)
        )
    if not transitions:
        return events
    if before.available > 0 and after.available == 0:
        events.append(stock_events.OutOfStock(**state))
    elif before.available == 0 and after.available > 0:
        events.append(stock_events.BackInStock(**state))
    return events


class StockLedger(Protocol):
    """What allocation needs of the store (SQL in store.py, a dict in the unit tests)."""

    def warehouses_of(self, sku: str) -> list[StockLevel]:
        """The SKU's levels ordered by warehouse id, read without locks."""
        ...

    def reserve_if_available(self, sku: str, warehouse_id: str, quantity: int) -> StockLevel | None:
        """Atomically add `quantity` to reserved if that many are available; the level after,
        or None (nothing changed) when they are not."""
        ...

    def lock_level(self, sku: str, warehouse_id: str) -> StockLevel:
        """The level, locked until the transaction ends."""
        ...


@dataclass(frozen=True)
class Allocation:
    sku: str
    warehouse_id: str
    quantity: int
    after: StockLevel

    @property
    def before(self) -> StockLevel:
        return replace(self.after, reserved=self.after.reserved - self.quantity)


def allocate(ledger: StockLedger, lines: Sequence[tuple[str, int]]) -> list[Allocation]:
    """Reserve every line or raise OutOfStock naming all the short SKUs.

    On a raise, what was reserved before it is the caller's to roll back (the service runs
    this inside a savepoint). Untracked SKUs (no level) get no allocation.
    """
    allocations: list[Allocation] = []
    short: list[str] = []
    for sku, quantity in merge_lines(lines):
        levels = ledger.warehouses_of(sku)
        if not levels:
            continue
        whole = _whole(ledger, sku, quantity, levels)
        if whole is not None:
            allocations.append(whole)
            continue
        split = _split(ledger, sku, quantity, levels)
        if split is None:
            short.append(sku)
        else:
            allocations.extend(split)
    if short:
        raise OutOfStock(short)
    return allocations


def _whole(
    ledger: StockLedger, sku: str, quantity: int, levels: Sequence[StockLevel]
) -> Allocation | None:
    for level in levels:
        after = ledger.reserve_if_available(sku, level.warehouse_id, quantity)
        if after is not None:
            return Allocation(sku, level.warehouse_id, quantity, after)
    return None


def _split(
    ledger: StockLedger, sku: str, quantity: int, levels: Sequence[StockLevel]
) -> list[Allocation] | None:
    """Take what each warehouse has, in order, under its row lock; None when short."""
    if sum(level.available for level in levels) < quantity:
        return None  # a snapshot, but never an oversell: the conditional updates decide
    remaining = quantity
    parts: list[Allocation] = []
    for level in levels:
        take = min(ledger.lock_level(sku, level.warehouse_id).available, remaining)
        if take <= 0:
            continue
        after = ledger.reserve_if_available(sku, level.warehouse_id, take)
        if after is None:  # cannot happen under the lock; refuse rather than guess
            return None
        parts.append(Allocation(sku, level.warehouse_id, take, after))
        remaining -= take
        if remaining == 0:
            return parts
    return None


def is_expired(reservation: Reservation, now: datetime) -> bool:
    return reservation.status is ReservationStatus.HELD and reservation.expires_at <= now
