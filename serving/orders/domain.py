"""The order state machine: which status may follow which, and the events each change records.

PENDING_PAYMENT → CONFIRMED → FULFILLING → SHIPPED → DELIVERED is the happy path; CANCELLED
(before shipping), PAYMENT_FAILED (declined or never paid), RETURNED (after delivery) and
REFUNDED end the others. An illegal transition raises IllegalTransition (→ 409); each legal one
appends a history entry and records OrderStatusChanged, plus OrderConfirmed or OrderCancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shoplake.events.base import EventData
from shoplake.events.order import OrderCancelled, OrderConfirmed, OrderStatusChanged


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    FULFILLING = "FULFILLING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    RETURNED = "RETURNED"
    REFUNDED = "REFUNDED"


S = OrderStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.PAYMENT_FAILED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.FULFILLING, S.CANCELLED, S.REFUNDED}),
    S.FULFILLING: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURNED}),
    S.DELIVERED: frozenset({S.RETURNED, S.REFUNDED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.PAYMENT_FAILED: frozenset(),
    S.REFUNDED: frozenset(),
}

# What a customer may cancel: paid but not shipped. A PENDING_PAYMENT order is the saga's.
CUSTOMER_CANCELLABLE = frozenset({S.CONFIRMED, S.FULFILLING})
# What staff advance through the status route.
STAFF_ADVANCES = frozenset({S.FULFILLING, S.SHIPPED, S.DELIVERED})
# What may be refunded by staff: money was taken and the order did not end otherwise.
REFUNDABLE = frozenset({S.CONFIRMED, S.FULFILLING, S.DELIVERED, S.RETURNED})


class OrderErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"


class OrderError(Exception):
    def __init__(self, code: OrderErrorCode, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class IllegalTransition(OrderError):
    def __init__(self, order_id: str, from_status: OrderStatus, to_status: OrderStatus) -> None:
        super().__init__(
            OrderErrorCode.ILLEGAL_TRANSITION,
            f"order '{order_id}' cannot go from {from_status} to {to_status}",
            {"order_id": order_id, "from": from_status.value, "to": to_status.value},
        )


def can_transition(from_status: OrderStatus, to_status: OrderStatus) -> bool:
    return to_status in TRANSITIONS[from_status]


@dataclass(frozen=True)
class HistoryEntry:
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None = None
    actor_id: str | None = None


@dataclass
class Order:
    """The aggregate: status changes go through `transition`, which collects history and events."""

    id: str
    user_id: str
    status: OrderStatus
    total_cents: int
    currency: str
    # The checkout's Idempotency-Key (every gateway call for the order derives from it) and
    # the coupon the order was priced with, consumed once it is paid.
    idempotency_key: str = ""
    coupon_code: str | None = None
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[EventData] = field(default_factory=list)

    def transition(
        self, to_status: OrderStatus, *, reason: str | None = None, actor_id: str | None = None
    ) -> HistoryEntry:
        if not can_transition(self.status, to_status):
            raise IllegalTransition(self.id, self.status, to_status)
        entry = HistoryEntry(self.status, to_status, reason, actor_id)
        self.events.append(
            OrderStatusChanged(
                order_id=self.id, from_status=self.status.value, to_status=to_status.value
            )
        )
        if to_status is S.CONFIRMED:
            self.events.append(
                OrderConfirmed(
                    order_id=self.id,
                    user_id=self.user_id,
                    total_cents=self.total_cents,
                    currency=self.currency,
                )
            )
        elif to_status is S.CANCELLED:
            self.events.append(
                OrderCancelled(order_id=self.id, user_id=self.user_id, reason=reason or "cancelled")
            )
        self.status = to_status
        self.history.append(entry)
        return entry
