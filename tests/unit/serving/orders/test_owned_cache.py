"""The cache of what each shopper owns (the recommendations' filter) is forgotten exactly when
an order of theirs starts or stops being owned, and only once that change has committed."""

from __future__ import annotations

import pytest

from serving.orders import service as orders
from serving.orders.domain import HistoryEntry, OrderStatus
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths
from tests.unit.serving.orders.test_service import BUYER, SKU, STAFF, place


@pytest.fixture
def shop() -> MoneyPaths:
    shop = money_paths(FakeGateway())
    shop.sell(SKU, units={"w1": 2, "w2": 3})
    return shop


def test_paying_for_an_order_forgets_the_buyers_cached_set(shop: MoneyPaths) -> None:
    shop.owned.put(BUYER, set())  # what the route cached before the purchase

    place(shop)

    assert shop.owned.get(BUYER) is None
    assert BUYER in shop.owned.forgotten


def test_moves_between_owned_states_keep_the_cache(shop: MoneyPaths) -> None:
    order_id = place(shop)
    shop.owned.put(BUYER, {SKU})
    shop.owned.forgotten.clear()

    for status in (OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        orders.advance(shop.uow, order_id, status, None, STAFF)

    assert shop.owned.get(BUYER) == {SKU} and shop.owned.forgotten == []


def test_a_refund_forgets_it_again(shop: MoneyPaths) -> None:
    order_id = place(shop)
    shop.owned.put(BUYER, {SKU})

    orders.refund(shop.uow, order_id, "damaged", STAFF)

    assert shop.owned.get(BUYER) is None


def test_a_change_rolled_back_forgets_nothing(shop: MoneyPaths) -> None:
    order_id = place(shop)
    shop.owned.put(BUYER, {SKU})
    shop.owned.forgotten.clear()

    with shop.uow:
        order = orders.load(shop.uow, order_id)
        assert order is not None
        orders.transition(shop.uow, order, OrderStatus.CANCELLED, reason="test", actor_id=STAFF)
        # leaving without commit: rolled back

    assert shop.owned.get(BUYER) == {SKU} and shop.owned.forgotten == []


@pytest.mark.parametrize(
    ("from_status", "to_status", "changes"),
    [
        (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, True),
        (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, False),
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED, False),
        (OrderStatus.DELIVERED, OrderStatus.REFUNDED, True),
        (None, OrderStatus.PENDING_PAYMENT, False),
    ],
)
def test_which_moves_change_ownership(
    from_status: OrderStatus | None, to_status: OrderStatus, changes: bool
) -> None:
    entry = HistoryEntry(from_status=from_status, to_status=to_status, reason=None, actor_id=None)
    assert orders.changes_ownership(entry) is changes
