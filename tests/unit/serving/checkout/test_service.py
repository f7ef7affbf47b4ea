"""The checkout saga on the in-memory unit of work: every outcome of the three steps, replays,
compensation, and the sweeper settling what was left in doubt (no database, no Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from serving.checkout import service as checkout
from serving.checkout.schemas import CheckoutRequest
from serving.errors import ApiError
from serving.inventory import service as inventory
from serving.orders.domain import OrderStatus
from serving.payments.gateway import PaymentStatus
from serving.security import Role, TokenClaims
from tests.support.fakes import FakeGateway, SimulatedCrash
from tests.support.unit_of_work import MoneyPaths, coupon_promotion, money_paths

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}
SKU = "KETTLE-1"


def shopper(user_id: str = "user-1") -> TokenClaims:
    return TokenClaims(user_id, Role.CUSTOMER, "access", "jti", datetime.now(UTC))


def body(token: str = "tok_ok", city: str = "London") -> CheckoutRequest:
    return CheckoutRequest.model_validate(
        {"payment_token": token, "shipping_address": {**ADDRESS, "city": city}}
    )


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway) -> MoneyPaths:
    shop = money_paths(gateway)
    shop.sell(SKU, units={"w1": 10}, price_cents=2500)
    shop.carts.put("u:user-1", [(SKU, 3)])
    return shop


def run(shop: MoneyPaths, key: str = "key-00001", token: str = "tok_ok") -> checkout.Outcome:
    return checkout.checkout(shop.uow, shopper(), key, body(token))


def order_status(shop: MoneyPaths, order_id: str) -> str:
    return str(shop.orders.orders[order_id]["status"])


def sweep_later(shop: MoneyPaths) -> checkout.SweepResult:
    """The sweeper, run well after the grace period."""
    return checkout.settle_pending(shop.uow, now=shop.clock.now + timedelta(hours=1))


def test_a_paid_checkout_is_201_confirmed_sold_charged_once_and_the_cart_taken(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    outcome = run(shop)

    assert outcome.status_code == 201 and outcome.body.replayed is False
    order = outcome.body.order
    assert order.status is OrderStatus.CONFIRMED
    # 1.5 kg (3 units of the default 500 g) to GB: the 2 kg band, 11.95.
    assert order.shipping_cents == 1195 and order.total_cents == 3 * 2500 + 1195
    assert gateway.payments["key-00001"].amount_cents == order.total_cents
    assert [(line.sku, line.quantity) for line in order.lines] == [(SKU, 3)]
    assert order.payment is not None and order.payment.status == "authorized"
    assert shop.inventory.level(SKU, "w1") == (7, 0)
    assert gateway.calls["authorize"] == 1 and gateway.authorized_keys() == ["key-00001"]
    assert shop.carts.taken == ["u:user-1"] and "u:user-1" not in shop.carts.carts
    assert shop.checkout.requests["key-00001"].state == "confirmed"
    assert shop.orders.orders[order.id]["allocations"] == [
        {"sku": SKU, "warehouse_id": "w1", "quantity": 3}
    ]
    assert sorted(shop.uow.event_names(order.id)) == [
        "OrderConfirmed",
        "OrderPlaced",
        "OrderStatusChanged",
        "PaymentAuthorized",
    ]
    assert "CartCheckedOut" in shop.uow.event_names()


def test_the_same_key_again_is_200_with_the_same_order_and_no_second_charge(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    first = run(shop)
    events = len(shop.uow.events)

    again = run(shop)

    assert again.status_code == 200 and again.body.replayed is True
    assert again.body.order.id == first.body.order.id
    assert gateway.calls["authorize"] == 1
    assert shop.inventory.level(SKU, "w1") == (7, 0)
    assert len(shop.uow.events) == events  # a replay records nothing


def test_a_replay_while_the_payment_is_running_is_202(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(SimulatedCrash):  # step 1 committed, step 2 never returned
        run(shop, token="tok_crash_before")

    replay = run(shop, token="tok_crash_before")

    assert replay.status_code == 202
    assert replay.body.order.status is OrderStatus.PENDING_PAYMENT
    assert shop.inventory.level(SKU, "w1") == (10, 3)  # still held
    assert gateway.calls["authorize"] == 1  # the replay did not authorize again


def test_a_declined_payment_is_402_releases_the_stock_and_keeps_the_cart(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(ApiError) as raised:
        run(shop, token="tok_decline")

    assert raised.value.status == 402
    assert raised.value.code == checkout.CheckoutError.PAYMENT_DECLINED
    order_id = raised.value.details["order_id"]
    assert order_status(shop, order_id) == "PAYMENT_FAILED"
    assert shop.inventory.level(SKU, "w1") == (10, 0)
    assert shop.payments.of_order(order_id).status is PaymentStatus.DECLINED  # type: ignore[union-attr]
    assert "PaymentDeclined" in shop.uow.event_names(order_id)
    assert shop.carts.taken == [] and shop.carts.read("u:user-1").lines
    with pytest.raises(ApiError) as replayed:  # the same key answers the same way
        run(shop, token="tok_decline")
    assert replayed.value.status == 402 and gateway.calls["authorize"] == 1


def test_an_unavailable_gateway_is_compensated_at_once_with_503(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(ApiError) as raised:
        run(shop, token="tok_unavailable")

    assert raised.value.status == 503
    assert raised.value.code == checkout.CheckoutError.PAYMENT_UNAVAILABLE
    order_id = raised.value.details["order_id"]
    assert order_status(shop, order_id) == "PAYMENT_FAILED"
    assert shop.inventory.level(SKU, "w1") == (10, 0)
    assert shop.payments.of_order(order_id) is None  # nothing was charged, nothing recorded
    assert gateway.authorized_keys() == []
    with pytest.raises(ApiError) as replayed:  # a replay is final: never a 503 to retry
        run(shop, token="tok_unavailable")
    assert (replayed.value.status, replayed.value.code) == (
        409,
        checkout.CheckoutError.CHECKOUT_FAILED,
    )


def test_an_ambiguous_failure_stays_pending_and_the_sweeper_confirms_a_charge_that_landed(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(ApiError) as raised:
        run(shop, token="tok_timeout")  # the gateway took it, the answer was lost

    assert raised.value.status == 503
    assert raised.value.code == checkout.CheckoutError.PAYMENT_PENDING
    order_id = raised.value.details["order_id"]
    assert order_status(shop, order_id) == "PENDING_PAYMENT"
    assert shop.inventory.level(SKU, "w1") == (10, 3)

    assert checkout.settle_pending(shop.uow, now=shop.clock.now).confirmed == 0  # in grace
    swept = sweep_later(shop)

    assert swept == checkout.SweepResult(confirmed=1)
    assert order_status(shop, order_id) == "CONFIRMED"
    assert shop.inventory.level(SKU, "w1") == (7, 0)
    assert gateway.calls["authorize"] == 1
    assert shop.carts.taken == ["u:user-1"]
    assert sweep_later(shop) == checkout.SweepResult()  # settled once


def test_an_ambiguous_failure_that_never_reached_the_gateway_is_failed_by_the_sweeper(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(ApiError) as raised:
        run(shop, token="tok_lost")
    order_id = raised.value.details["order_id"]
    assert order_status(shop, order_id) == "PENDING_PAYMENT"

    swept = sweep_later(shop)

    assert swept == checkout.SweepResult(failed=1)
    assert order_status(shop, order_id) == "PAYMENT_FAILED"
    assert shop.orders.history_of(order_id)[-1]["reason"] == "never_authorized"
    assert shop.inventory.level(SKU, "w1") == (10, 0)
    assert gateway.authorized_keys() == []


def test_a_sweep_leaves_the_order_pending_while_the_gateway_does_not_answer(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(ApiError):
        run(shop, token="tok_timeout")
    gateway.down = True

    assert sweep_later(shop) == checkout.SweepResult(skipped=1)

    gateway.down = False
    assert sweep_later(shop) == checkout.SweepResult(confirmed=1)


def test_a_key_reused_with_another_body_or_by_another_user_is_422(shop: MoneyPaths) -> None:
    run(shop)
    with pytest.raises(ApiError) as other_body:
        checkout.checkout(shop.uow, shopper(), "key-00001", body(city="Paris"))
    with pytest.raises(ApiError) as other_user:
        checkout.checkout(shop.uow, shopper("user-2"), "key-00001", body())

    for raised in (other_body, other_user):
        assert raised.value.status == 422
        assert raised.value.code == checkout.CheckoutError.IDEMPOTENCY_KEY_REUSED
    assert len(shop.orders.orders) == 1


def test_out_of_stock_is_409_holds_nothing_and_does_not_keep_the_key(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    shop.sell("SCARCE-1", units={"w1": 1})
    shop.carts.put("u:user-1", [(SKU, 2), ("SCARCE-1", 2)])

    with pytest.raises(ApiError) as raised:
        run(shop)

    assert raised.value.status == 409 and raised.value.code == "OUT_OF_STOCK"
    assert raised.value.details == {"skus": ["SCARCE-1"]}
    assert shop.inventory.level(SKU, "w1") == (10, 0)  # the first line's hold was undone
    assert shop.inventory.holds == [] and shop.inventory.movement_rows == []
    assert shop.orders.orders == {} and shop.checkout.requests == {}  # key not kept
    assert shop.uow.events == [] and gateway.calls["authorize"] == 0
    # With stock back, the same key places the order: it was never taken.
    shop.inventory.put("SCARCE-1", "w1", 5)
    assert run(shop).status_code == 201


def test_an_empty_cart_and_unsellable_items_are_422_and_keep_nothing(shop: MoneyPaths) -> None:
    shop.carts.carts.clear()
    with pytest.raises(ApiError) as empty:
        run(shop)
    assert empty.value.code == checkout.CheckoutError.CART_EMPTY
    shop.carts.put("u:user-1", [("NO-SUCH-SKU", 1)])
    with pytest.raises(ApiError) as unknown:
        run(shop)
    assert unknown.value.code == checkout.CheckoutError.ITEMS_UNAVAILABLE
    assert unknown.value.details == [{"sku": "NO-SUCH-SKU", "reason": "unknown"}]
    assert shop.checkout.requests == {} and shop.orders.orders == {}


def test_a_late_authorization_for_an_order_the_sweeper_failed_is_voided(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(SimulatedCrash):
        run(shop, token="tok_crash_before")
    sweep_later(shop)  # the gateway has not seen the key: PAYMENT_FAILED, stock released
    order_id = next(iter(shop.orders.orders))
    assert order_status(shop, order_id) == "PAYMENT_FAILED"
    late = gateway.authorize(
        idempotency_key="key-00001", token="tok_ok", amount_cents=7500, currency="EUR"
    )

    status = checkout.settle_payment(shop.uow, order_id, late, reason=None)

    assert status is OrderStatus.PAYMENT_FAILED
    assert gateway.payments["key-00001"].status is PaymentStatus.VOIDED
    assert "key-00001:void" in gateway.operations
    assert shop.inventory.level(SKU, "w1") == (10, 0)


def test_an_authorization_whose_hold_expired_is_voided_and_the_order_cancelled(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with pytest.raises(SimulatedCrash):
        run(shop, token="tok_crash_after")  # authorized, but step 3 never ran
    order_id = next(iter(shop.orders.orders))
    with shop.uow:  # the expiry sweep releases the unpaid hold
        inventory.release(shop.uow, order_id, "expired")
        shop.uow.commit()

    assert sweep_later(shop) == checkout.SweepResult(cancelled=1)

    assert order_status(shop, order_id) == "CANCELLED"
    assert gateway.payments["key-00001"].status is PaymentStatus.VOIDED
    assert shop.payments.of_order(order_id).status is PaymentStatus.VOIDED  # type: ignore[union-attr]
    assert shop.checkout.requests["key-00001"].state == "cancelled"
    assert shop.inventory.level(SKU, "w1") == (10, 0)
    assert shop.carts.taken == []  # nothing was bought
    with pytest.raises(ApiError) as replay:
        run(shop, token="tok_crash_after")
    assert replay.value.code == checkout.CheckoutError.ORDER_CANCELLED


def test_a_coupon_is_consumed_once_by_the_paid_order_and_not_by_a_declined_one(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    shop.pricing.promotions.append(coupon_promotion("SAVE10", percent=10))
    shop.pricing.claims[("SAVE10", "user-1")] = None  # claimed on the cart, not used yet
    shop.carts.put("u:user-1", [(SKU, 2)], coupon="save10")

    with pytest.raises(ApiError):
        run(shop, key="key-declined", token="tok_decline")
    assert shop.pricing.claims[("SAVE10", "user-1")] is None  # a failed order uses nothing

    outcome = run(shop, key="key-paid")
    run(shop, key="key-paid")  # a replay consumes nothing more

    order = outcome.body.order
    assert order.coupon_code == "SAVE10"
    assert order.discount_cents == 500 and order.total_cents == 4500 + order.shipping_cents
    assert shop.pricing.claims[("SAVE10", "user-1")] == order.id


def test_a_rejected_coupon_is_not_the_orders(shop: MoneyPaths) -> None:
    shop.carts.put("u:user-1", [(SKU, 1)], coupon="NOSUCH")
    outcome = run(shop)
    assert outcome.body.order.coupon_code is None
    assert outcome.body.order.discount_cents == 0


class SoldOutGate:
    """The stock gate's reads (Redis in production) with the levels a test sets."""

    def __init__(self, levels: dict[str, int]) -> None:
        self.levels_held = levels

    def levels(self, skus: list[str]) -> dict[str, int | None]:
        return {sku: self.levels_held.get(sku) for sku in skus}


def test_a_sold_out_gate_answers_409_before_any_transaction_yet_a_placed_key_replays(
    shop: MoneyPaths,
) -> None:
    placed = run(shop)  # placed while units were left
    commits, reads = shop.uow.commits, shop.uow.reads
    shop.carts.put("u:user-1", [(SKU, 3)])
    shop.uow.stores["inventory.gate"] = SoldOutGate({SKU: 0})

    with pytest.raises(ApiError) as refused:
        run(shop, key="key-00002")

    assert refused.value.status == 409 and refused.value.details == {"skus": [SKU]}
    assert shop.uow.reads == reads + 1  # the key looked up outside any transaction
    assert shop.uow.commits == commits and list(shop.checkout.requests) == ["key-00001"]
    # The key that was placed is answered by the full path: the same order, not "sold out".
    replay = run(shop)
    assert replay.status_code == 200 and replay.body.order.id == placed.body.order.id
