"""`StripeGateway`: the PaymentGateway on the official `stripe` SDK.

- authorize → a PaymentIntent with `capture_method=manual`, confirmed at once; a card decline
  is a DECLINED result, not an error.
- capture → `PaymentIntent.capture`, void → `PaymentIntent.cancel`, refund → a Refund on the
  intent. Every request carries a Stripe idempotency key derived from the order's key (one per
  operation, `<key>:capture`...), so SDK retries and ours never charge twice.
- get(key): the key is written to the intent's metadata (`shoplake_idempotency_key`). An
  in-process map key → intent id answers exactly for intents this process made; otherwise the
  Search API (`metadata['shoplake_idempotency_key']:'<key>'`) finds it. Search is eventually
  consistent on live Stripe (about a minute), so the sweeper that settles orders left mid-saga
  should only look at orders older than that; checkout also stores the reference as soon as it
  has it, which makes the lookup the rare path.

Settings: `stripe_api_key`, `stripe_api_base` (stripe-mock in tests), the payment timeout,
retries (`retries.call_with_retries`, each attempt with the same Stripe idempotency key, so
Stripe answers a repeat with the first result) and the breaker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import stripe

from serving.payments.gateway import (
    GatewayError,
    PaymentResult,
    PaymentStatus,
)
from serving.payments.retries import NotSent, breaker_for, call_with_retries, pass_breaker
from shoplake.config import Settings
from shoplake.resilience import CircuitBreaker

T = TypeVar("T")
METADATA_KEY = "shoplake_idempotency_key"

_STATUSES = {
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.VOIDED,
    "requires_payment_method": PaymentStatus.DECLINED,
}


def intent_status(intent: Any) -> PaymentStatus:
    """Our status for a PaymentIntent (a captured one with refunds is REFUNDED)."""
    status = str(intent["status"])
    if status == "succeeded":
        charge = intent.get("latest_charge")
        if isinstance(charge, dict | stripe.StripeObject) and charge.get("amount_refunded"):
            return PaymentStatus.REFUNDED
    if status not in _STATUSES:
        raise GatewayError(f"stripe: payment intent in unexpected state {status}", transient=True)
    return _STATUSES[status]


class StripeGateway:
    name = "stripe"

    def __init__(
        self,
        settings: Settings,
        *,
        breaker: CircuitBreaker | None = None,
        client: stripe.StripeClient | None = None,
    ) -> None:
        if client is None:
            if settings.stripe_api_key is None:
                raise GatewayError(
                    "SHOPLAKE_PAYMENT_GATEWAY=stripe needs SHOPLAKE_STRIPE_API_KEY",
                    transient=False,
                )
            http_client = stripe.HTTPXClient(
                timeout=settings.payment_timeout_s, allow_sync_methods=True
            )
            addresses: Any = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
            client = stripe.StripeClient(
                settings.stripe_api_key.get_secret_value(),
                base_addresses=addresses,
                # Retries are ours (call_with_retries), so we know whether any attempt may
                # have reached Stripe; each reuses the same Stripe idempotency key.
                max_network_retries=0,
                http_client=http_client,
            )
        self._stripe = client
        self.breaker = breaker or breaker_for(settings, "stripe")
        self.attempts = settings.payment_retry_attempts
        self.backoff_s = settings.payment_retry_backoff_s
        self._intents: dict[str, str] = {}
        self._lock = threading.Lock()

    def authorize(
        self, *, idempotency_key: str, token: str, amount_cents: int, currency: str
    ) -> PaymentResult:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "metadata": {METADATA_KEY: idempotency_key},
            "payment_method_types": ["card"],
        }

        def create() -> PaymentResult:
            try:
                params["payment_method"] = self._payment_method(idempotency_key, token)
                intent = self._stripe.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": f"{idempotency_key}:authorize"},
                )
            except stripe.CardError as exc:
                declined = exc.error.payment_intent if exc.error is not None else None
                reason = exc.code or "card_declined"
                if declined is not None:
                    self._remember(idempotency_key, declined["id"])
                    return self._to_result(idempotency_key, declined, decline_reason=reason)
                return PaymentResult(
                    idempotency_key, "", PaymentStatus.DECLINED, amount_cents, currency, reason
                )
            self._remember(idempotency_key, intent["id"])
            return self._to_result(idempotency_key, intent)

        return self._guarded(create)

    def capture(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._guarded(
            lambda: self._to_result(
                idempotency_key,
                self._stripe.v1.payment_intents.capture(
                    reference, options={"idempotency_key": f"{idempotency_key}:capture"}
                ),
            )
        )

    def void(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._guarded(
            lambda: self._to_result(
                idempotency_key,
                self._stripe.v1.payment_intents.cancel(
                    reference, options={"idempotency_key": f"{idempotency_key}:void"}
                ),
            )
        )

    def refund(
        self, *, idempotency_key: str, reference: str, amount_cents: int | None = None
    ) -> PaymentResult:
        params: dict[str, Any] = {"payment_intent": reference}
        if amount_cents is not None:
            params["amount"] = amount_cents

        def refund() -> PaymentResult:
            self._stripe.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"{idempotency_key}:refund:{amount_cents or 'all'}"},
            )
            intent = self._stripe.v1.payment_intents.retrieve(reference)
            result = self._to_result(idempotency_key, intent)
            return PaymentResult(
                result.idempotency_key,
                result.reference,
                PaymentStatus.REFUNDED,
                result.amount_cents,
                result.currency,
            )

        return self._guarded(refund)

    def get(self, idempotency_key: str) -> PaymentResult | None:
        def lookup() -> PaymentResult | None:
            with self._lock:
                known = self._intents.get(idempotency_key)
            if known is not None:
                return self._to_result(
                    idempotency_key, self._stripe.v1.payment_intents.retrieve(known)
                )
            escaped = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
            found = self._stripe.v1.payment_intents.search(
                params={"query": f"metadata['{METADATA_KEY}']:'{escaped}'", "limit": 1}
            )
            for intent in found.data:
                if intent.metadata.get(METADATA_KEY) == idempotency_key:
                    self._remember(idempotency_key, intent.id)
                    return self._to_result(idempotency_key, intent)
            return None

        return self._guarded(lookup)

    # -- plumbing -------------------------------------------------------------------
    def _payment_method(self, idempotency_key: str, token: str) -> str:
        """A PaymentMethod id for the token: `pm_...` as is, a card token (`tok_...`) wrapped
        in a new PaymentMethod (the API takes no raw card token on the intent)."""
        if token.startswith("pm_"):
            return token
        method = self._stripe.v1.payment_methods.create(
            params={"type": "card", "card": {"token": token}},
            options={"idempotency_key": f"{idempotency_key}:payment_method"},
        )
        return str(method["id"])

    def _remember(self, idempotency_key: str, intent_id: str) -> None:
        with self._lock:
            self._intents[idempotency_key] = intent_id

    @staticmethod
    def _to_result(
        idempotency_key: str, intent: Any, *, decline_reason: str | None = None
    ) -> PaymentResult:
        status = PaymentStatus.DECLINED if decline_reason else intent_status(intent)
        return PaymentResult(
            idempotency_key=idempotency_key,
            reference=str(intent["id"]),
            status=status,
            amount_cents=int(intent["amount"]),
            currency=str(intent["currency"]).upper(),
            decline_reason=decline_reason,
        )

    def _guarded(self, call: Callable[[], T]) -> T:
        """Retries, each attempt through the breaker, Stripe's errors mapped onto the contract."""
        return call_with_retries(
            lambda: self._attempt(call), attempts=self.attempts, backoff_s=self.backoff_s
        )

    def _attempt(self, call: Callable[[], T]) -> T:
        pass_breaker(self.breaker)
        try:
            result = call()
        except stripe.APIConnectionError as exc:
            self.breaker.record_failure()
            if isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout):
                raise NotSent(f"stripe unreachable: {type(exc.__cause__).__name__}") from exc
            raise GatewayError(
                "stripe did not answer (the request may have landed)", transient=True
            ) from exc
        except (stripe.RateLimitError, stripe.APIError) as exc:
            self.breaker.record_failure()
            raise GatewayError(f"stripe: {type(exc).__name__}", transient=True) from exc
        except stripe.StripeError as exc:
            self.breaker.record_success()  # Stripe answered: a refusal, not an outage
            status = exc.http_status or 0
            raise GatewayError(
                f"stripe refused the request ({status} {exc.code or type(exc).__name__})",
                transient=status >= 500 or status == 429,
            ) from exc
        self.breaker.record_success()
        return result
