"""Returns' use cases on the in-memory unit of work: the window and the quantities, receiving
(a restock is a receipt; a write-off a receipt and an adjustment), one refund through the
gateway per return under its derived key, and the order RETURNED then REFUNDED."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from serving.checkout import service as checkout
from serving.checkout.schemas import CheckoutRequest
from serving.errors import ApiError
from serving.orders import service as orders
from serving.orders.domain import OrderStatus
from serving.returns import service as returns
from serving.returns.schemas import ReceiveRequest, ReturnRequest
from serving.security import Role, TokenClaims
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths

SKU = "KETTLE-1"
BUYER = "buyer-1"
STAFF = "ops-1"


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway) -> MoneyPaths:
    shop = money_paths(gateway)
    shop.sell(SKU, units={"w1": 10}, price_cents=2_000)
    return shop


def delivered(shop: MoneyPaths, quantity: int = 3) -> str:
    shop.carts.put(f"u:{BUYER}", [(SKU, quantity)])
    claims = TokenClaims(BUYER, Role.CUSTOMER, "access", "jti", datetime.now(UTC))
    address = {
        "full_name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }
    body = CheckoutRequest.model_validate({"payment_token": "tok_ok", "shipping_address": address})
    order_id = checkout.checkout(shop.uow, claims, "order-key-1", body).body.order.id
    # Delivered just now (the service's window runs on the real clock): the fake clock moves
    # before the order does, or the delivery would date from the clock's fixed start.
    shop.clock.now = datetime.now(UTC)
    for status in (OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        orders.advance(shop.uow, order_id, status, None, STAFF)
    return order_id


def ask(shop: MoneyPaths, order_id: str, quantity: int, user: str = BUYER) -> str:
    body = ReturnRequest.model_validate(
        {"lines": [{"sku": SKU, "quantity": quantity}], "reason": "leaks"}
    )
    return returns.request_return(shop.uow, user, order_id, body).id


def test_a_whole_return_restocks_refunds_once_and_ends_the_order_refunded(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = delivered(shop)
    total = shop.orders.orders[order_id]["total_cents"]
    return_id = ask(shop, order_id, 3)

    received = returns.receive(shop.uow, return_id, ReceiveRequest(), STAFF)
    assert received.status == "RECEIVED" and received.lines[0].warehouse_id == "w1"
    assert shop.inventory.level(SKU, "w1") == (10, 0)  # 7 left after the sale, 3 back
    assert shop.orders.orders[order_id]["status"] == "RETURNED"

    refunded = returns.refund(shop.uow, return_id, STAFF)
    again = returns.refund(shop.uow, return_id, STAFF)
    assert refunded.refund_cents == again.refund_cents == total
    assert gateway.calls["refund"] == 1
    assert f"order-key-1:refund:return:{return_id}" in gateway.operations
    assert shop.payments.refunds[0]["amount_cents"] == total
    assert shop.orders.orders[order_id]["status"] == "REFUNDED"
    names = shop.uow.event_names(return_id)
    assert names == ["ReturnRequested", "ReturnReceived", "ReturnRefunded"]
    assert shop.uow.event_names(order_id).count("PaymentRefunded") == 1


def test_a_damaged_return_is_written_off_and_a_partial_refund_leaves_the_order_delivered(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    order_id = delivered(shop)
    return_id = ask(shop, order_id, 1)
    damaged = ReceiveRequest.model_validate({"lines": [{"sku": SKU, "disposition": "write_off"}]})

    returns.receive(shop.uow, return_id, damaged, STAFF)
    refund = returns.refund(shop.uow, return_id, STAFF)

    assert shop.inventory.level(SKU, "w1") == (7, 0)  # booked in and written off
    reasons = [(m["reason"], m["on_hand_delta"]) for m in shop.inventory.movement_rows[-2:]]
    assert reasons == [("receipt", 1), ("adjustment", -1)]
    stock_events = [name for name in shop.uow.event_names(SKU)][-2:]
    assert stock_events == ["StockReceived", "StockAdjusted"]  # no back-in-stock noise
    row = shop.orders.orders[order_id]
    goods = row["total_cents"] - row["shipping_cents"]
    assert refund.refund_cents == goods // 3
    assert row["status"] == "DELIVERED" and shop.payments.payments[0].status.value == "captured"
    # The rest of the payment is still there for a staff refund, and only the rest.
    orders.refund(shop.uow, order_id, None, STAFF)
    assert sum(r["amount_cents"] for r in shop.payments.refunds) == row["total_cents"]


def test_returns_are_refused_outside_the_window_beyond_what_was_bought_and_to_others(
    shop: MoneyPaths,
) -> None:
    order_id = delivered(shop)
    ask(shop, order_id, 2)
    with pytest.raises(ApiError) as too_many:
        ask(shop, order_id, 2)
    assert too_many.value.status == 422 and too_many.value.details[0]["returnable"] == 1
    with pytest.raises(ApiError) as not_theirs:
        ask(shop, order_id, 1, user="someone-else")
    assert not_theirs.value.status == 404
    # Delivered longer ago than the window.
    for entry in shop.orders.history:
        if entry["order_id"] == order_id and entry["to_status"] == "DELIVERED":
            entry["at"] -= timedelta(days=shop.uow.settings.returns_window_days + 1)
    with pytest.raises(ApiError) as late:
        ask(shop, order_id, 1)
    assert late.value.code == "RETURN_WINDOW_CLOSED"


def test_a_return_must_be_received_before_it_is_refunded(shop: MoneyPaths) -> None:
    order_id = delivered(shop)
    return_id = ask(shop, order_id, 1)
    with pytest.raises(ApiError) as early:
        returns.refund(shop.uow, return_id, STAFF)
    assert early.value.status == 409 and early.value.code == "RETURN_NOT_RECEIVED"
    wrong = ReceiveRequest.model_validate({"lines": [{"sku": "OTHER-1"}]})
    with pytest.raises(ApiError) as unknown:
        returns.receive(shop.uow, return_id, wrong, STAFF)
    assert unknown.value.status == 422
