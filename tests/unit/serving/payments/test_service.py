"""The payment ledger and its operations on the in-memory unit of work: what is recorded for an
authorization or a decline, the derived gateway keys, the "give the money back" rule, and a
gateway that does not answer (503, nothing changed)."""

from __future__ import annotations

import pytest

from serving.errors import ApiError
from serving.payments import service as payments
from serving.payments.domain import Operation, derived_key
from serving.payments.gateway import PaymentResult, PaymentStatus
from tests.support.fakes import FakeGateway
from tests.support.unit_of_work import MoneyPaths, money_paths


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def shop(gateway: FakeGateway) -> MoneyPaths:
    return money_paths(gateway)


def authorized(gateway: FakeGateway, key: str = "k-1", token: str = "tok_ok") -> PaymentResult:
    return gateway.authorize(idempotency_key=key, token=token, amount_cents=1200, currency="EUR")


def test_derived_keys_name_the_operation() -> None:
    assert derived_key("k-1", Operation.CAPTURE) == "k-1:capture"
    assert derived_key("k-1", Operation.VOID) == "k-1:void"
    assert derived_key("k-1", Operation.REFUND) == "k-1:refund"


def test_an_authorization_is_recorded_once_with_its_event(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    result = authorized(gateway)
    with shop.uow:
        first = payments.record_authorization(shop.uow, "order-1", result)
        second = payments.record_authorization(shop.uow, "order-1", result)  # a retry
        shop.uow.commit()

    assert first == second and len(shop.payments.payments) == 1
    assert (first.gateway, first.reference, first.status) == (
        "fake",
        result.reference,
        PaymentStatus.AUTHORIZED,
    )
    assert shop.uow.event_names("order-1") == ["PaymentAuthorized", "PaymentAuthorized"]
    assert all(source == payments.SOURCE for _, source in shop.uow.events)


def test_a_decline_is_recorded_with_its_reason(shop: MoneyPaths, gateway: FakeGateway) -> None:
    result = authorized(gateway, token="tok_decline")
    with shop.uow:
        payment = payments.record_decline(shop.uow, "order-1", result, "card_declined")
        shop.uow.commit()
    assert payment.status is PaymentStatus.DECLINED
    ((event, _),) = shop.uow.events
    assert type(event).__name__ == "PaymentDeclined" and event.reason == "card_declined"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("captured", "operation", "status", "event"),
    [
        (False, "void", PaymentStatus.VOIDED, "PaymentVoided"),
        (True, "refund", PaymentStatus.REFUNDED, "PaymentRefunded"),
    ],
)
def test_giving_the_money_back_voids_an_authorization_and_refunds_a_capture(
    shop: MoneyPaths,
    gateway: FakeGateway,
    captured: bool,
    operation: str,
    status: PaymentStatus,
    event: str,
) -> None:
    with shop.uow:
        payment = payments.record_authorization(shop.uow, "order-1", authorized(gateway))
        if captured:
            payments.capture(shop.uow, payment)
        shop.uow.commit()

    with shop.uow:
        given = payments.give_money_back(shop.uow, "order-1")
        shop.uow.commit()

    assert given is not None and given.status is status
    assert shop.payments.of_order("order-1").status is status  # type: ignore[union-attr]
    assert gateway.calls[operation] == 1 and f"k-1:{operation}" in gateway.operations
    assert shop.uow.event_names("order-1")[-1] == event
    with shop.uow:  # the money is back already: nothing more to do
        assert payments.give_money_back(shop.uow, "order-1") == given
        assert payments.give_money_back(shop.uow, "no-payment") is None
    assert gateway.calls[operation] == 1


def test_a_gateway_that_does_not_answer_is_503_and_the_ledger_is_unchanged(
    shop: MoneyPaths, gateway: FakeGateway
) -> None:
    with shop.uow:
        payment = payments.record_authorization(shop.uow, "order-1", authorized(gateway))
        shop.uow.commit()
    gateway.down = True

    with shop.uow, pytest.raises(ApiError) as raised:
        payments.capture(shop.uow, payment)

    assert raised.value.status == 503
    assert raised.value.code == payments.PaymentError.PAYMENT_UNAVAILABLE
    assert shop.payments.of_order("order-1").status is PaymentStatus.AUTHORIZED  # type: ignore[union-attr]
    assert shop.uow.event_names("order-1") == ["PaymentAuthorized"]


def test_a_late_authorization_is_voided_under_its_derived_key(gateway: FakeGateway) -> None:
    shop = money_paths(gateway)
    late = authorized(gateway, key="k-late")
    payments.void_late_authorization(shop.uow, late)
    assert gateway.payments["k-late"].status is PaymentStatus.VOIDED
    assert list(gateway.operations) == ["k-late:void"]
    assert shop.payments.payments == []  # no ledger row for an order settled otherwise
