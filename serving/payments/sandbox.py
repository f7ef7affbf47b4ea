"""`SandboxGateway`: the PaymentGateway over HTTP to the sandbox service of `shoplake stack`.

Each call has a timeout, is retried with exponential backoff on transient failures only
(connect errors, timeouts, 5xx) and goes through a circuit breaker. Retrying is safe because
every request carries the idempotency key; GatewayUnavailable is raised only when no attempt
can have reached the gateway (see `retries.call_with_retries`). After a timeout the
outcome is unknown, so the adapter asks the gateway by key before trying again: a charge made
while the client had given up is found and settled, never repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from serving.payments.gateway import (
    GatewayError,
    PaymentResult,
    PaymentStatus,
)
from serving.payments.retries import NotSent, breaker_for, call_with_retries, pass_breaker
from shoplake.config import Settings
from shoplake.resilience import CircuitBreaker

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Timeout(GatewayError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


def _result(body: dict[str, Any]) -> PaymentResult:
    return PaymentResult(
        idempotency_key=str(body["idempotency_key"]),
        reference=str(body["reference"]),
        status=PaymentStatus(body["status"]),
        amount_cents=int(body["amount_cents"]),
        currency=str(body["currency"]),
        decline_reason=body.get("decline_reason"),
    )


class SandboxGateway:
    name = "sandbox"

    def __init__(
        self,
        settings: Settings,
        *,
        breaker: CircuitBreaker | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.attempts = settings.payment_retry_attempts
        self.backoff_s = settings.payment_retry_backoff_s
        self.breaker = breaker or breaker_for(settings, "sandbox gateway")
        self._client = client or httpx.Client(
            base_url=settings.sandbox_gateway_endpoint,
            timeout=settings.payment_timeout_s,
        )

    def close(self) -> None:
        self._client.close()

    # -- the contract ---------------------------------------------------------------
    def authorize(
        self, *, idempotency_key: str, token: str, amount_cents: int, currency: str
    ) -> PaymentResult:
        body = {
            "idempotency_key": idempotency_key,
            "token": token,
            "amount_cents": amount_cents,
            "currency": currency,
        }

        def attempt() -> PaymentResult:
            try:
                return _result(self._send("POST", "/v1/payments/authorize", json=body))
            except _Timeout:
                # The charge may have been made: ask before trying again.
                found = self._lookup(idempotency_key)
                if found is not None:
                    log.info("payment %s settled by lookup after a timeout", idempotency_key)
                    return found
                raise

        return self._retrying(attempt)

    def capture(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._transition("capture", reference, {"idempotency_key": idempotency_key})

    def void(self, *, idempotency_key: str, reference: str) -> PaymentResult:
        return self._transition("void", reference, {"idempotency_key": idempotency_key})

    def refund(
        self, *, idempotency_key: str, reference: str, amount_cents: int | None = None
    ) -> PaymentResult:
        body: dict[str, Any] = {"idempotency_key": idempotency_key, "amount_cents": amount_cents}
        return self._transition("refund", reference, body)

    def get(self, idempotency_key: str) -> PaymentResult | None:
        return self._retrying(lambda: self._lookup(idempotency_key))

    # -- plumbing -------------------------------------------------------------------
    def _transition(self, action: str, reference: str, body: dict[str, Any]) -> PaymentResult:
        # capture/void answer the same result when repeated, and a refund is keyed, so a
        # retry after a lost answer changes nothing.
        return self._retrying(
            lambda: _result(
                self._send("POST", f"/v1/payments/{quote(reference, safe='')}/{action}", json=body)
            )
        )

    def _lookup(self, idempotency_key: str) -> PaymentResult | None:
        try:
            body = self._send("GET", "/v1/payments", params={"idempotency_key": idempotency_key})
        except _NotFound:
            return None
        return _result(body)

    def _retrying(self, call: Callable[[], T]) -> T:
        return call_with_retries(call, attempts=self.attempts, backoff_s=self.backoff_s)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        pass_breaker(self.breaker)
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.ConnectTimeout as exc:  # no connection, so nothing was sent
            self.breaker.record_failure()
            raise NotSent(f"sandbox gateway unreachable: {type(exc).__name__}") from exc
        except httpx.TimeoutException as exc:
            self.breaker.record_failure()
            raise _Timeout(f"sandbox gateway timed out on {method} {path}") from exc
        except httpx.ConnectError as exc:  # refused before anything was sent
            self.breaker.record_failure()
            raise NotSent(f"sandbox gateway unreachable: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:  # the connection broke: the request may have landed
            self.breaker.record_failure()
            raise GatewayError(
                f"sandbox gateway connection lost on {method} {path}: {type(exc).__name__}",
                transient=True,
            ) from exc
        if response.status_code >= 500:
            self.breaker.record_failure()
            raise GatewayError(
                f"sandbox gateway answered {response.status_code} on {method} {path}",
                transient=True,
            )
        self.breaker.record_success()
        if response.status_code == 404:
            raise _NotFound(f"no payment at {path}")
        if response.status_code >= 400:
            raise GatewayError(
                f"sandbox gateway refused {method} {path}: {response.status_code} "
                f"{_error_code(response)}",
                transient=False,
            )
        body: dict[str, Any] = response.json()
        return body


class _NotFound(GatewayError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def _error_code(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return ""
    if isinstance(detail, dict):
        return str(detail.get("code", ""))
    return ""
