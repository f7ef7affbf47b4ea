"""The order state machine, every (from, to) pair: legal ones record history and events."""

from __future__ import annotations

import itertools

import pytest

from serving.orders.domain import TRANSITIONS, IllegalTransition, Order, OrderStatus
from shoplake.events.order import OrderCancelled, OrderConfirmed, OrderStatusChanged

S = OrderStatus
LEGAL = {
    (S.PENDING_PAYMENT, S.CONFIRMED),
    (S.PENDING_PAYMENT, S.PAYMENT_FAILED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.CONFIRMED, S.FULFILLING),
    (S.CONFIRMED, S.CANCELLED),
    (S.CONFIRMED, S.REFUNDED),
    (S.FULFILLING, S.SHIPPED),
    (S.FULFILLING, S.CANCELLED),
    (S.FULFILLING, S.REFUNDED),
    (S.SHIPPED, S.DELIVERED),
    (S.SHIPPED, S.RETURNED),
    (S.DELIVERED, S.RETURNED),
    (S.DELIVERED, S.REFUNDED),
    (S.RETURNED, S.REFUNDED),
}


def _order(status: OrderStatus) -> Order:
    return Order(id="o-1", user_id="u-1", status=status, total_cents=1234, currency="EUR")


def test_the_table_is_exactly_the_documented_machine() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == LEGAL
    assert set(TRANSITIONS) == set(OrderStatus)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_a_legal_transition_changes_status_and_records_history_and_events(
    from_status: OrderStatus, to_status: OrderStatus
) -> None:
    order = _order(from_status)
    entry = order.transition(to_status, reason="why", actor_id="staff-1")
    assert order.status is to_status
    assert order.history == [entry]
    assert (entry.from_status, entry.to_status, entry.reason, entry.actor_id) == (
        from_status,
        to_status,
        "why",
        "staff-1",
    )
    changed = order.events[0]
    assert isinstance(changed, OrderStatusChanged)
    assert (changed.order_id, changed.from_status, changed.to_status) == (
        "o-1",
        from_status.value,
        to_status.value,
    )
    extra = order.events[1:]
    if to_status is S.CONFIRMED:
        assert len(extra) == 1 and isinstance(extra[0], OrderConfirmed)
        assert (extra[0].total_cents, extra[0].currency, extra[0].user_id) == (1234, "EUR", "u-1")
    elif to_status is S.CANCELLED:
        assert len(extra) == 1 and isinstance(extra[0], OrderCancelled)
        assert extra[0].reason == "why"
    else:
        assert extra == []


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    sorted(set(itertools.product(OrderStatus, OrderStatus)) - LEGAL),
)
def test_an_illegal_transition_raises_and_changes_nothing(
    from_status: OrderStatus, to_status: OrderStatus
) -> None:
    order = _order(from_status)
    with pytest.raises(IllegalTransition) as raised:
        order.transition(to_status)
    assert raised.value.details == {"order_id": "o-1", "from": from_status, "to": to_status}
    assert order.status is from_status
    assert order.history == [] and order.events == []


def test_terminal_statuses_have_no_way_out() -> None:
    for status in (S.CANCELLED, S.PAYMENT_FAILED, S.REFUNDED):
        assert TRANSITIONS[status] == frozenset()


def test_a_walk_down_the_happy_path_records_one_change_event_per_step() -> None:
    order = _order(S.PENDING_PAYMENT)
    for status in (S.CONFIRMED, S.FULFILLING, S.SHIPPED, S.DELIVERED, S.RETURNED, S.REFUNDED):
        order.transition(status)
    changes = [e for e in order.events if isinstance(e, OrderStatusChanged)]
    assert len(changes) == len(order.history) == 6
    assert sum(isinstance(e, OrderConfirmed) for e in order.events) == 1


def test_a_cancellation_without_reason_says_cancelled() -> None:
    order = _order(S.CONFIRMED)
    order.transition(S.CANCELLED)
    assert isinstance(order.events[-1], OrderCancelled)
    assert order.events[-1].reason == "cancelled"
