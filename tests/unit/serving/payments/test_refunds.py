"""Refunds of a payment in parts (returns) and of the rest: one gateway call per part under
its derived key, never more than was captured, REFUNDED once nothing is left."""

from __future__ import annotations

import pytest

from serving.errors import ApiError
from serving.payments import service as payments
from serving.payments.domain import Operation, Payment, derived_key
from serving.payments.gateway import PaymentStatus
from shoplake.events.payment import PaymentRefunded
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway) -> MoneyPaths:
    return money_paths(gateway)


def captured(shop: MoneyPaths, gateway: FakeGateway) -> Payment:
    result = gateway.authorize(
        idempotency_key="k-1", token="tok_ok", amount_cents=1_000, currency="EUR"
    )
    with shop.uow:
        payment = payments.capture(shop.uow, payments.record_authorization(shop.uow, "o-1", result))
        shop.uow.commit()
    return payment


def test_a_part_is_refunded_once_under_its_own_key(shop: MoneyPaths, gateway: FakeGateway) -> None:
    payment = captured(shop, gateway)
    assert derived_key("k-1", Operation.REFUND, "return:r1") == "k-1:refund:return:r1"
    with shop.uow:
        first = payments.refund_part(shop.uow, payment, 300, part="return:r1")
        again = payments.refund_part(shop.uow, first, 300, part="return:r1")
        shop.uow.commit()
    assert first.status is again.status is PaymentStatus.CAPTURED
    assert gateway.calls["refund"] == 1 and "k-1:refund:return:r1" in gateway.operations
    assert [r["amount_cents"] for r in shop.payments.refunds] == [300]
    assert shop.uow.event_names("o-1").count("PaymentRefunded") == 1


def test_parts_cannot_exceed_the_capture_and_the_last_one_makes_it_refunded(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    payment = captured(shop, gateway)
    with shop.uow:
        payment = payments.refund_part(shop.uow, payment, 600, part="r1")
        shop.uow.commit()
    with shop.uow, pytest.raises(ApiError) as too_much:
        payments.refund_part(shop.uow, payment, 401, part="r2")
    assert (
        too_much.value.code == "REFUND_EXCEEDS_PAYMENT"
        and too_much.value.details["left_cents"] == 400
    )
    with shop.uow:
        payment = payments.refund_part(shop.uow, payment, 400, part="r2")
        shop.uow.commit()
    assert payment.status is PaymentStatus.REFUNDED
    with shop.uow, pytest.raises(ApiError) as nothing_left:
        payments.refund_part(shop.uow, payment, 1, part="r3")
    assert nothing_left.value.code == "PAYMENT_NOT_REFUNDABLE"


def test_the_rest_is_refunded_after_parts_and_only_the_rest(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    payment = captured(shop, gateway)
    with shop.uow:
        payment = payments.refund_part(shop.uow, payment, 250, part="r1")
        payments.give_money_back(shop.uow, "o-1")
        shop.uow.commit()
    assert sorted(r["amount_cents"] for r in shop.payments.refunds) == [250, 750]
    assert shop.payments.of_order("o-1").status is PaymentStatus.REFUNDED  # type: ignore[union-attr]
    refunded = [e for e, _ in shop.uow.events if isinstance(e, PaymentRefunded)]
    assert [e.amount_cents for e in refunded] == [250, 750]
