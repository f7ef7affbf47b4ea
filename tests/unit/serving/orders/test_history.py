"""A customer's order history across Postgres and the archive (in memory here): one keyset
cursor pages through both, newest first, each order once, archived ones flagged and readable
in full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from serving.errors import ApiError
from serving.orders import service as orders
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths

USER = "c0ffee00-0000-4000-8000-000000000001"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def shop() -> MoneyPaths:
    return money_paths(FakeGateway())


def _row(order_id: str, at: datetime, status: str = "DELIVERED") -> dict[str, Any]:
    return {
        "id": order_id,
        "user_id": USER,
        "status": status,
        "currency": "EUR",
        "subtotal_cents": 1_000,
        "discount_cents": 0,
        "shipping_cents": 495,
        "shipping_quote": None,
        "total_cents": 1_495,
        "coupon_code": None,
        "shipping_address": {"country": "NL"},
        "idempotency_key": f"key-{order_id}",
        "allocations": [],
        "created_at": at,
        "updated_at": at,
    }


def _line(order_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "sku": "S-1",
        "name": "Sock",
        "quantity": 1,
        "unit_price_cents": 1_000,
        "discount_cents": 0,
        "total_cents": 1_000,
    }


def _live(shop: MoneyPaths, order_id: str, at: datetime) -> None:
    shop.orders.orders[order_id] = _row(order_id, at, "CONFIRMED")
    shop.orders.lines[order_id] = [_line(order_id)]


def _archived(shop: MoneyPaths, order_id: str, at: datetime) -> None:
    shop.archive.put(
        _row(order_id, at),
        order_lines=[_line(order_id)],
        order_status_history=[
            {
                "id": 1,
                "order_id": order_id,
                "from_status": None,
                "to_status": "PENDING_PAYMENT",
                "reason": "placed",
                "actor_id": None,
                "at": at,
            },
        ],
        payments=[
            {
                "id": "p1",
                "order_id": order_id,
                "gateway": "sandbox",
                "reference": "pay_x",
                "status": "refunded",
                "amount_cents": 1_495,
                "currency": "EUR",
                "created_at": at,
            },
        ],
        payment_refunds=[{"payment_id": "p1", "amount_cents": 1_495}],
    )


def test_one_cursor_pages_through_postgres_and_the_archive_newest_first(shop: MoneyPaths) -> None:
    _live(shop, "o-4", T0 + timedelta(days=4))
    _archived(shop, "o-3", T0 + timedelta(days=3))
    _live(shop, "o-2", T0 + timedelta(days=2))  # an old order still live (not final yet)
    _archived(shop, "o-1", T0 + timedelta(days=1))
    _archived(shop, "o-4", T0 + timedelta(days=4))  # being archived: in both for a moment

    seen, cursor = [], None
    while True:
        page = orders.list_orders(
            shop.uow, user_id=USER, status=None, limit=2, cursor=cursor, include_archive=True
        )
        seen += [(o.id, o.archived) for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [("o-4", False), ("o-3", True), ("o-2", False), ("o-1", True)]


def test_the_staff_listing_stays_on_postgres(shop: MoneyPaths) -> None:
    _live(shop, "o-2", T0)
    _archived(shop, "o-1", T0)
    page = orders.list_orders(shop.uow, user_id=USER, status=None, limit=10)
    assert [o.id for o in page.items] == ["o-2"]


def test_an_archived_order_reads_whole_and_only_for_its_owner(shop: MoneyPaths) -> None:
    _archived(shop, "o-1", T0)
    order = orders.get_for_user(shop.uow, USER, "o-1")
    assert order.archived and [line.sku for line in order.lines] == ["S-1"]
    assert order.history is not None and order.history[0].to_status == "PENDING_PAYMENT"
    assert order.payment is not None and order.payment.refunded_cents == 1_495
    with pytest.raises(ApiError) as other:
        orders.get_for_user(shop.uow, "someone-else", "o-1")
    assert other.value.status == 404
    assert orders.lookup(shop.uow, "o-1").id == "o-1"
