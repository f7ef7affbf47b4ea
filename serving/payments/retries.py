"""What both gateway adapters share: the retry policy and their use of the circuit breaker.

`call_with_retries` retries transient failures (safe: every request carries the idempotency
key) and decides when a failure may be called GatewayUnavailable ("nothing was charged").
The breaker is the shared kernel's (`shoplake.resilience`); `pass_breaker` maps its "open"
onto GatewayUnavailable, so an open circuit fails fast without a request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from serving.payments.gateway import GatewayError, GatewayUnavailable
from shoplake.config import Settings
from shoplake.resilience import CircuitBreaker, CircuitOpen

T = TypeVar("T")


def breaker_for(settings: Settings, name: str) -> CircuitBreaker:
    """The breaker a gateway adapter holds: one per gateway object (so one per process)."""
    return CircuitBreaker(
        failures_to_open=settings.payment_breaker_failures,
        cooldown_s=settings.payment_breaker_open_s,
        name=name,
    )


def pass_breaker(breaker: CircuitBreaker) -> None:
    """Let an attempt out, or raise GatewayUnavailable: an open circuit sent nothing."""
    try:
        breaker.before_call()
    except CircuitOpen as exc:
        raise GatewayUnavailable(str(exc)) from exc


class NotSent(GatewayError):
    """The request never reached the gateway (the connection was refused): nothing happened."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


def call_with_retries(call: Callable[[], T], *, attempts: int, backoff_s: float) -> T:
    """Run `call`, retrying transient GatewayErrors with exponential backoff (safe: every
    request carries the idempotency key).

    GatewayUnavailable tells checkout that nothing was charged, so it is raised only when no
    attempt can have reached the gateway (every one was refused, or the circuit is open). Once
    an attempt might have (a timeout, a 5xx, a dropped connection), the outcome is unknown and
    the final error is a plain transient GatewayError, which checkout settles later by key.
    """
    reached = False

    def attempt() -> T:
        nonlocal reached
        try:
            return call()
        except GatewayError as exc:
            if exc.transient and not isinstance(exc, NotSent | GatewayUnavailable):
                reached = True
            raise

    retrying = Retrying(
        # An open circuit is transient too, but retrying it would only wait: fail fast.
        retry=retry_if_exception(
            lambda exc: (
                isinstance(exc, GatewayError)
                and exc.transient
                and not isinstance(exc, GatewayUnavailable)
            )
        ),
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=backoff_s, max=max(backoff_s * 8, 0.001)),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except (NotSent, GatewayUnavailable) as exc:
        if reached:
            raise GatewayError(
                f"outcome unknown: an earlier attempt may have reached the gateway ({exc})",
                transient=True,
            ) from exc
        if isinstance(exc, NotSent):
            raise GatewayUnavailable(str(exc)) from exc
        raise
