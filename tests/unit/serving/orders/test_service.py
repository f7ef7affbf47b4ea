"""Orders after checkout on the in-memory unit of work: a customer's cancel (void or refund,
units back where they came from), staff advancing to SHIPPED (capture) and refunding, illegal
moves (409), and a gateway that does not answer changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from serving.checkout import service as checkout
from serving.checkout.schemas import CheckoutRequest
from serving.errors import ApiError
from serving.orders import service as orders
from serving.orders.domain import OrderStatus
from serving.payments.gateway import PaymentStatus
from serving.security import Role, TokenClaims
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths

SKU = "LAMP-1"
BUYER = "buyer-1"
STAFF = "ops-1"


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway) -> MoneyPaths:
    shop = money_paths(gateway)
    # 2 units in w1 and 3 in w2: no warehouse holds an order of 4, so it is split 2 + 2.
    shop.sell(SKU, units={"w1": 2, "w2": 3})
    return shop


def place(shop: MoneyPaths, quantity: int = 4, key: str = "order-key-1") -> str:
    """A confirmed order, through the saga, as the API places it."""
    shop.carts.put(f"u:{BUYER}", [(SKU, quantity)])
    claims = TokenClaims(BUYER, Role.CUSTOMER, "access", "jti", datetime.now(UTC))
    request = CheckoutRequest.model_validate(
        {
            "payment_token": "tok_ok",
            "shipping_address": {
                "full_name": "Grace Hopper",
                "line1": "1 Harbour St",
                "city": "Arlington",
                "postal_code": "22201",
                "country": "US",
            },
        }
    )
    outcome = checkout.checkout(shop.uow, claims, key, request)
    assert outcome.body.order.status is OrderStatus.CONFIRMED
    return outcome.body.order.id


def test_a_customer_cancel_voids_the_authorization_and_restocks_each_warehouse(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    assert (shop.inventory.level(SKU, "w1"), shop.inventory.level(SKU, "w2")) == ((0, 0), (1, 0))

    cancelled = orders.cancel_for_user(shop.uow, BUYER, order_id, "changed my mind")

    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.payment is not None and cancelled.payment.status == "voided"
    assert (shop.inventory.level(SKU, "w1"), shop.inventory.level(SKU, "w2")) == ((2, 0), (3, 0))
    assert gateway.calls["void"] == 1 and "order-key-1:void" in gateway.operations
    assert shop.orders.orders[order_id]["allocations"] == []
    names = shop.uow.event_names(order_id)
    assert names.count("OrderCancelled") == 1 and names.count("PaymentVoided") == 1
    receipts = [m for m in shop.inventory.movement_rows if m["reason"] == "receipt"]
    assert {(m["warehouse_id"], m["on_hand_delta"], m["reference"]) for m in receipts} == {
        ("w1", 2, f"cancel:{order_id}"),
        ("w2", 2, f"cancel:{order_id}"),
    }
    with pytest.raises(ApiError) as again:
        orders.cancel_for_user(shop.uow, BUYER, order_id, None)
    assert again.value.status == 409 and again.value.code == orders.OrderApiError.NOT_CANCELLABLE
    assert gateway.calls["void"] == 1


def test_another_customers_order_is_not_found_and_untouched(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    with pytest.raises(ApiError) as raised:
        orders.cancel_for_user(shop.uow, "someone-else", order_id, None)
    assert raised.value.status == 404
    with pytest.raises(ApiError):
        orders.get_for_user(shop.uow, "someone-else", order_id)
    assert shop.orders.orders[order_id]["status"] == "CONFIRMED"
    assert gateway.calls["void"] == 0


def test_staff_advance_to_shipped_captures_once_and_then_delivered(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    orders.advance(shop.uow, order_id, OrderStatus.FULFILLING, None, STAFF)

    shipped = orders.advance(shop.uow, order_id, OrderStatus.SHIPPED, "carrier picked up", STAFF)

    assert shipped.status is OrderStatus.SHIPPED
    assert shipped.payment is not None and shipped.payment.status == "captured"
    assert gateway.calls["capture"] == 1 and "order-key-1:capture" in gateway.operations
    assert shop.uow.event_names(order_id).count("PaymentCaptured") == 1
    delivered = orders.advance(shop.uow, order_id, OrderStatus.DELIVERED, None, STAFF)
    assert delivered.status is OrderStatus.DELIVERED
    assert gateway.calls["capture"] == 1
    assert shop.orders.history_of(order_id)[-1]["actor_id"] == STAFF
    with pytest.raises(ApiError) as cancel:
        orders.cancel_for_user(shop.uow, BUYER, order_id, None)
    assert cancel.value.code == orders.OrderApiError.NOT_CANCELLABLE


def test_illegal_moves_are_409_and_change_nothing(shop: MoneyPaths) -> None:
    order_id = place(shop)
    history = len(shop.orders.history_of(order_id))
    events = len(shop.uow.events)

    with pytest.raises(ApiError) as skipped:
        orders.advance(shop.uow, order_id, OrderStatus.SHIPPED, None, STAFF)
    assert skipped.value.status == 409 and skipped.value.code == "ILLEGAL_TRANSITION"
    with pytest.raises(ApiError) as not_staffs:
        orders.advance(shop.uow, order_id, OrderStatus.REFUNDED, None, STAFF)
    assert not_staffs.value.status == 422

    assert shop.orders.orders[order_id]["status"] == "CONFIRMED"
    assert len(shop.orders.history_of(order_id)) == history and len(shop.uow.events) == events


def test_refund_of_a_delivered_order_refunds_the_capture_and_restocks_nothing(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    for status in (OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        orders.advance(shop.uow, order_id, status, None, STAFF)

    refunded = orders.refund(shop.uow, order_id, "damaged", STAFF)

    assert refunded.status is OrderStatus.REFUNDED
    assert refunded.payment is not None and refunded.payment.status == "refunded"
    assert gateway.calls["refund"] == 1 and "order-key-1:refund" in gateway.operations
    assert shop.inventory.totals(SKU) == (1, 0)  # delivered goods come back through a return
    with pytest.raises(ApiError) as again:
        orders.refund(shop.uow, order_id, None, STAFF)
    assert again.value.code == orders.OrderApiError.NOT_REFUNDABLE
    assert gateway.calls["refund"] == 1


def test_refund_of_a_confirmed_order_voids_and_restocks(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    refunded = orders.refund(shop.uow, order_id, None, STAFF)
    assert refunded.payment is not None and refunded.payment.status == "voided"
    assert shop.inventory.totals(SKU) == (5, 0)
    assert gateway.calls == {"authorize": 1, "void": 1}


def test_a_gateway_that_does_not_answer_makes_a_cancel_503_and_changes_nothing(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = place(shop)
    gateway.down = True

    with pytest.raises(ApiError) as raised:
        orders.cancel_for_user(shop.uow, BUYER, order_id, None)

    assert raised.value.status == 503 and raised.value.code == "PAYMENT_UNAVAILABLE"
    assert shop.orders.orders[order_id]["status"] == "CONFIRMED"
    assert shop.payments.of_order(order_id).status is PaymentStatus.AUTHORIZED  # type: ignore[union-attr]
    assert shop.inventory.totals(SKU) == (1, 0)
    assert shop.uow.event_names(order_id).count("OrderStatusChanged") == 1


def test_orders_page_by_cursor_without_overlap_and_refuse_another_querys_cursor(
    shop: MoneyPaths,
) -> None:
    placed = []
    for n in range(5):
        placed.append(place(shop, quantity=1, key=f"page-key-{n}"))
        if n != 2:  # two orders share a creation time: the id breaks the tie
            shop.clock.advance(1)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = orders.list_orders(shop.uow, user_id=BUYER, status=None, limit=2, cursor=cursor)
        seen += [o.id for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen)) == 5
    first = orders.list_orders(shop.uow, user_id=BUYER, status=None, limit=2)
    assert first.next_cursor is not None
    with pytest.raises(ApiError) as refused:
        orders.list_orders(
            shop.uow, user_id=None, status=OrderStatus.CONFIRMED, limit=2, cursor=first.next_cursor
        )
    assert refused.value.status == 422 and refused.value.code == "INVALID_CURSOR"


def test_a_customer_lists_their_orders_newest_first_and_reads_one_in_detail(
    shop: MoneyPaths,
) -> None:
    first = place(shop, quantity=1, key="order-key-1")
    shop.clock.advance(60)
    second = place(shop, quantity=1, key="order-key-2")

    page = orders.list_orders(shop.uow, user_id=BUYER, status=None, limit=10)
    assert [o.id for o in page.items] == [second, first] and page.next_cursor is None
    assert all(o.history is None for o in page.items)  # the list is the summary
    confirmed = orders.list_orders(shop.uow, user_id=None, status=OrderStatus.CANCELLED, limit=10)
    assert confirmed.items == [] and confirmed.next_cursor is None
    detail = orders.get_for_user(shop.uow, BUYER, first)
    assert detail.history is not None
    assert [h.to_status for h in detail.history] == [
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.CONFIRMED,
    ]
