"""Payment operations and their ledger, each inside the caller's unit of work.

The ledger (`payments` table) keeps one row per authorization or decline with the state it
reached; every change records its event (PaymentAuthorized, PaymentDeclined, PaymentCaptured,
PaymentVoided, PaymentRefunded) in the same transaction. Capture, void and refund go to the
gateway under keys derived from the order's (`<key>:capture|void|refund`), while the caller
holds its order row locked: the change commits only if the gateway agreed, a retry reuses the
key and never acts twice, and a gateway that does not answer is a 503 that changes nothing.

A zero amount (a free product, a 100% coupon, a fixed coupon larger than the cart) never goes
to a gateway, which would refuse it: `authorize` settles it here as a payment of gateway
(method) "none", amount 0, and every later operation on such a payment is settled here too.

Refunds are kept one row each (`payment_refunds`, keyed like their gateway call): a return
refunds part of a payment under `<key>:refund:<return id>`, and the refund of "the rest"
(`refund`, a cancel or a staff refund) gives back what earlier refunds left. A payment is
REFUNDED once nothing of it is left to give back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum

from serving.errors import ApiError
from serving.payments.domain import Operation, Payment, derived_key
from serving.payments.gateway import (
    GatewayError,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
)
from serving.payments.store import PaymentStore, SqlPaymentStore
from serving.unit_of_work import UnitOfWork
from shoplake.events.payment import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    PaymentRefunded,
    PaymentVoided,
)

SOURCE = "/serving/payments"
STORE = "payments"


class PaymentError(StrEnum):
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    NOT_REFUNDABLE = "PAYMENT_NOT_REFUNDABLE"
    REFUND_EXCEEDS_PAYMENT = "REFUND_EXCEEDS_PAYMENT"


NO_GATEWAY = "none"


class NoGateway:
    """The "gateway" of payments of amount 0: every operation succeeds at once, here."""

    name = NO_GATEWAY

    @staticmethod
    def _result(key: str, status: PaymentStatus, currency: str = "") -> PaymentResult:
        return PaymentResult(key, NO_GATEWAY, status, 0, currency)

    def authorize(
        self, *, idempotency_key: str, token: str, amount_cents: int, currency: str
    ) -> PaymentResult:
        return self._result(idempotency_key, PaymentStatus.AUTHORIZED, currency)

    def capture(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._result(idempotency_key, PaymentStatus.CAPTURED)

    def void(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._result(idempotency_key, PaymentStatus.VOIDED)

    def refund(
        self, *, idempotency_key: str, reference: str, amount_cents: int | None = None
    ) -> PaymentResult:
        return self._result(idempotency_key, PaymentStatus.REFUNDED)

    def get(self, idempotency_key: str) -> PaymentResult | None:
        return None


_NO_GATEWAY = NoGateway()


def _gateway_for(uow: UnitOfWork, payment: Payment) -> PaymentGateway:
    return _NO_GATEWAY if payment.gateway == NO_GATEWAY else uow.gateway


def authorize(
    uow: UnitOfWork, *, idempotency_key: str, token: str, amount_cents: int, currency: str
) -> PaymentResult:
    """Authorize the amount with the gateway; an amount of 0 is authorized without one."""
    gateway = _NO_GATEWAY if amount_cents == 0 else uow.gateway
    return gateway.authorize(
        idempotency_key=idempotency_key, token=token, amount_cents=amount_cents, currency=currency
    )


def lookup(
    uow: UnitOfWork, idempotency_key: str, amount_cents: int, currency: str
) -> PaymentResult | None:
    """What became of a checkout's payment (the sweeper asks): a free order's is authorized."""
    if amount_cents == 0:
        return _NO_GATEWAY.authorize(
            idempotency_key=idempotency_key, token="", amount_cents=0, currency=currency
        )
    return uow.gateway.get(idempotency_key)


def _store(uow: UnitOfWork) -> PaymentStore:
    return uow.store(STORE, SqlPaymentStore.on)


def payment_of(uow: UnitOfWork, order_id: str) -> Payment | None:
    return _store(uow).of_order(order_id)


def is_approved(result: PaymentResult | None) -> bool:
    """Whether the gateway holds (or took) the money for this result."""
    return result is not None and result.status in (
        PaymentStatus.AUTHORIZED,
        PaymentStatus.CAPTURED,
    )


_Event = type[PaymentAuthorized | PaymentCaptured | PaymentVoided | PaymentRefunded]


def _event(
    kind: _Event, payment: Payment, amount_cents: int | None = None
) -> PaymentAuthorized | PaymentCaptured | PaymentVoided | PaymentRefunded:
    return kind(
        payment_id=payment.id,
        order_id=payment.order_id,
        amount_cents=payment.amount_cents if amount_cents is None else amount_cents,
        currency=payment.currency,
        gateway=payment.gateway,
    )


def _record(uow: UnitOfWork, order_id: str, result: PaymentResult) -> Payment:
    store = _store(uow)
    store.insert(
        Payment(
            id=str(uuid.uuid4()),
            order_id=order_id,
            idempotency_key=result.idempotency_key,
            gateway=NO_GATEWAY if result.reference == NO_GATEWAY else uow.gateway.name,
            reference=result.reference,
            status=result.status,
            amount_cents=result.amount_cents,
            currency=result.currency,
        )
    )
    payment = store.of_order(order_id)
    assert payment is not None
    return payment


def record_authorization(uow: UnitOfWork, order_id: str, result: PaymentResult) -> Payment:
    """The gateway authorized the order's payment: its ledger row and PaymentAuthorized."""
    payment = _record(uow, order_id, result)
    uow.record(_event(PaymentAuthorized, payment), SOURCE)
    return payment


def record_decline(uow: UnitOfWork, order_id: str, result: PaymentResult, reason: str) -> Payment:
    """The gateway declined: the row says so (no money is held) and PaymentDeclined."""
    payment = _record(uow, order_id, result)
    uow.record(
        PaymentDeclined(
            payment_id=payment.id,
            order_id=order_id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            gateway=payment.gateway,
            reason=reason,
        ),
        SOURCE,
    )
    return payment


def _call(call: Callable[[], PaymentResult]) -> PaymentResult:
    try:
        return call()
    except GatewayError as exc:
        raise ApiError(
            503,
            PaymentError.PAYMENT_UNAVAILABLE,
            "the payment gateway did not answer; nothing was changed, try again",
            details={"transient": exc.transient},
        ) from exc


def _settle(
    uow: UnitOfWork,
    payment: Payment,
    status: PaymentStatus,
    kind: _Event,
    amount_cents: int | None = None,
) -> Payment:
    _store(uow).set_status(payment.id, status)
    settled = payment.with_status(status)
    uow.record(_event(kind, settled, amount_cents), SOURCE)
    return settled


def capture(uow: UnitOfWork, payment: Payment) -> Payment:
    """Take the authorized money (the order shipped)."""
    gateway = _gateway_for(uow, payment)
    key = derived_key(payment.idempotency_key, Operation.CAPTURE)
    _call(lambda: gateway.capture(idempotency_key=key, reference=payment.reference))
    return _settle(uow, payment, PaymentStatus.CAPTURED, PaymentCaptured)


def void(uow: UnitOfWork, payment: Payment) -> Payment:
    """Release an authorization that will not be captured."""
    gateway = _gateway_for(uow, payment)
    key = derived_key(payment.idempotency_key, Operation.VOID)
    _call(lambda: gateway.void(idempotency_key=key, reference=payment.reference))
    return _settle(uow, payment, PaymentStatus.VOIDED, PaymentVoided)


def refunded_cents(uow: UnitOfWork, payment: Payment) -> int:
    """What was given back of the payment so far."""
    return _store(uow).refunded_cents(payment.id)


def refund(uow: UnitOfWork, payment: Payment) -> Payment:
    """Give captured money back: all of it, or what earlier partial refunds left."""
    gateway = _gateway_for(uow, payment)
    store = _store(uow)
    key = derived_key(payment.idempotency_key, Operation.REFUND)
    already = store.refunded_cents(payment.id)
    left = payment.amount_cents - already
    # Nothing refunded yet: the whole payment, as the gateway understands "no amount".
    amount = None if already == 0 else left
    if left > 0:
        _call(
            lambda: gateway.refund(
                idempotency_key=key, reference=payment.reference, amount_cents=amount
            )
        )
        store.add_refund(str(uuid.uuid4()), payment, key, left)
    return _settle(uow, payment, PaymentStatus.REFUNDED, PaymentRefunded, max(left, 0))


def refund_part(uow: UnitOfWork, payment: Payment, amount_cents: int, *, part: str) -> Payment:
    """Give `amount_cents` of the captured money back, once for `part` (a return's id): a
    repeat finds the refund it made and changes nothing. The payment is REFUNDED when this
    leaves nothing to give back."""
    store = _store(uow)
    key = derived_key(payment.idempotency_key, Operation.REFUND, part)
    if store.refund_under(key) is not None:
        return payment
    if payment.status is not PaymentStatus.CAPTURED:
        raise ApiError(
            409,
            PaymentError.NOT_REFUNDABLE,
            f"a {payment.status} payment cannot be refunded in part",
            details={"payment_id": payment.id, "status": payment.status.value},
        )
    left = payment.amount_cents - store.refunded_cents(payment.id)
    if not 0 < amount_cents <= left:
        raise ApiError(
            409,
            PaymentError.REFUND_EXCEEDS_PAYMENT,
            f"{amount_cents} cents cannot be refunded: {left} are left",
            details={"amount_cents": amount_cents, "left_cents": left},
        )
    gateway = _gateway_for(uow, payment)
    _call(
        lambda: gateway.refund(
            idempotency_key=key, reference=payment.reference, amount_cents=amount_cents
        )
    )
    store.add_refund(str(uuid.uuid4()), payment, key, amount_cents)
    status = PaymentStatus.REFUNDED if amount_cents == left else PaymentStatus.CAPTURED
    return _settle(uow, payment, status, PaymentRefunded, amount_cents)


def give_money_back(uow: UnitOfWork, order_id: str) -> Payment | None:
    """The rule of a cancel or a refund: void what is only authorized, refund what was
    captured; nothing to do for an order without a payment or whose money is back already."""
    payment = payment_of(uow, order_id)
    if payment is None:
        return None
    if payment.status is PaymentStatus.AUTHORIZED:
        return void(uow, payment)
    if payment.status is PaymentStatus.CAPTURED:
        return refund(uow, payment)
    return payment


def void_late_authorization(uow: UnitOfWork, result: PaymentResult) -> None:
    """An authorization that arrived for an order already settled otherwise (failed by the
    sweeper, cancelled): give it back. It has no ledger row, so it records nothing."""
    uow.gateway.void(
        idempotency_key=derived_key(result.idempotency_key, Operation.VOID),
        reference=result.reference,
    )
