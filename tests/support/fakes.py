"""The one in-memory payment gateway of the tests (scripted by token), and a way to put it on
the API under test in place of the app's own."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, TypeVar

from serving.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    PaymentResult,
    PaymentStatus,
)
from serving.ratelimit import Decision


class SimulatedCrash(RuntimeError):
    """The process 'dies' here: nothing after this point of the saga runs."""


class FakeGateway:
    """Idempotent by key like a real gateway. Tokens script the outcome:

    tok_ok authorizes; tok_decline declines; tok_unavailable raises GatewayUnavailable (nothing
    recorded); tok_timeout records the authorization, then raises a transient GatewayError (the
    outcome is in doubt); tok_lost raises the same error having recorded nothing (the request
    never arrived, but the caller cannot know); tok_refused raises a non-transient GatewayError
    (the gateway answered and refused: nothing was charged); tok_crash_before raises
    SimulatedCrash before recording anything; tok_crash_after records the authorization, then
    raises SimulatedCrash.
    """

    name = "fake"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.payments: dict[str, PaymentResult] = {}  # by authorize key
        self.operations: dict[str, PaymentResult] = {}  # void/capture/refund by their key
        self.calls: Counter[str] = Counter()
        self.down = False

    def _check(self, call: str) -> None:
        self.calls[call] += 1
        if self.down:
            raise GatewayUnavailable("the fake gateway is down")

    def authorize(
        self, *, idempotency_key: str, token: str, amount_cents: int, currency: str
    ) -> PaymentResult:
        with self._lock:
            self._check("authorize")
            if token == "tok_unavailable":
                raise GatewayUnavailable("circuit open")
            if token == "tok_crash_before":
                raise SimulatedCrash("crashed before authorizing")
            if token == "tok_lost":
                raise GatewayError("the connection broke", transient=True)
            if token == "tok_refused":
                raise GatewayError("refused: 422 INVALID_REQUEST", transient=False)
            known = self.payments.get(idempotency_key)
            if known is None:
                declined = token == "tok_decline"
                known = PaymentResult(
                    idempotency_key=idempotency_key,
                    reference=f"fake_{len(self.payments) + 1}",
                    status=PaymentStatus.DECLINED if declined else PaymentStatus.AUTHORIZED,
                    amount_cents=amount_cents,
                    currency=currency,
                    decline_reason="card_declined" if declined else None,
                )
                self.payments[idempotency_key] = known
            if token == "tok_timeout":
                raise GatewayError("timed out", transient=True)
            if token == "tok_crash_after":
                raise SimulatedCrash("crashed after authorizing")
            return known

    def _settle(
        self, call: str, idempotency_key: str, reference: str, status: PaymentStatus
    ) -> PaymentResult:
        with self._lock:
            self._check(call)
            if idempotency_key in self.operations:
                return self.operations[idempotency_key]
            key, payment = next(
                (k, p) for k, p in self.payments.items() if p.reference == reference
            )
            settled = replace(payment, status=status)
            self.payments[key] = settled
            self.operations[idempotency_key] = settled
            return settled

    def capture(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._settle("capture", idempotency_key, reference, PaymentStatus.CAPTURED)

    def void(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._settle("void", idempotency_key, reference, PaymentStatus.VOIDED)

    def refund(
        self, *, idempotency_key: str, reference: str, amount_cents: int | None = None
    ) -> PaymentResult:
        return self._settle("refund", idempotency_key, reference, PaymentStatus.REFUNDED)

    def get(self, idempotency_key: str) -> PaymentResult | None:
        with self._lock:
            self._check("get")
            return self.payments.get(idempotency_key)

    def authorized_keys(self) -> list[str]:
        """Keys that hold (or held) money: authorized, captured, voided or refunded."""
        with self._lock:
            return [k for k, p in self.payments.items() if p.status is not PaymentStatus.DECLINED]


G = TypeVar("G")


@contextlib.contextmanager
def injected_gateway(client: Any, gateway: G) -> Iterator[G]:
    """Put `gateway` on the app under test (`app.state.payment_gateway`) for the duration."""
    state = client.app.state
    before = getattr(state, "payment_gateway", None)
    state.payment_gateway = gateway
    try:
        yield gateway
    finally:
        state.payment_gateway = before


class InMemoryLimiter:
    """The rate limiter's contract (`serving.ratelimit.Limiter`) in memory: a fixed budget of
    `per_minute` hits per (rule, subject), with no refill, and every hit remembered."""

    def __init__(self) -> None:
        self.spent: Counter[tuple[str, str]] = Counter()

    def hit(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision:
        if self.spent[(rule, subject)] + cost > per_minute:
            return Decision(False, 60)
        self.spent[(rule, subject)] += cost
        return Decision(True, 0)

    async def hit_async(self, rule: str, subject: str, per_minute: int, cost: int = 1) -> Decision:
        return self.hit(rule, subject, per_minute, cost)
