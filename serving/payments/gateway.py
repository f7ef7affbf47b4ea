"""The payment gateway contract that checkout depends on; implementations live beside it.

Every call carries the order's idempotency key, so a retry — by the client, the saga or the
sweeper — can never charge twice. Only tokens and gateway references cross this boundary;
never a card number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PaymentStatus(StrEnum):
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class PaymentResult:
    """What the gateway says about one payment (one idempotency key)."""

    idempotency_key: str
    reference: str  # the gateway's id of the payment
    status: PaymentStatus
    amount_cents: int
    currency: str
    decline_reason: str | None = None


class GatewayError(Exception):
    """The gateway could not answer; `transient` says whether a retry may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class GatewayUnavailable(GatewayError):
    """The circuit is open or the gateway is unreachable: fail fast, change nothing."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class PaymentGateway(Protocol):
    """Authorize, capture, void, refund, and look up by idempotency key."""

    name: str

    def authorize(
        self, *, idempotency_key: str, token: str, amount_cents: int, currency: str
    ) -> PaymentResult:
        """Hold the amount on the payment method; DECLINED is a result, not an error."""

    def capture(self, *, idempotency_key: str, reference: str) -> PaymentResult: ...

    def void(self, *, idempotency_key: str, reference: str) -> PaymentResult: ...

    def refund(
        self, *, idempotency_key: str, reference: str, amount_cents: int | None = None
    ) -> PaymentResult: ...

    def get(self, idempotency_key: str) -> PaymentResult | None:
        """The payment made with this key, or None if the gateway never saw it."""
