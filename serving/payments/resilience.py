"""A small circuit breaker for the payment gateway.

closed → (N consecutive failures) → open: every call fails fast with GatewayUnavailable →
(cooldown over) → half-open: one trial call goes through; its success closes the circuit,
its failure opens it again for another cooldown. While the gateway is down, checkout answers
in milliseconds instead of waiting out a timeout per request. `call_with_retries` is the
retry policy both gateway adapters share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from serving.payments.gateway import GatewayError, GatewayUnavailable

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures_to_open: int,
        cooldown_s: float,
        name: str = "payment gateway",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures_to_open < 1:
            raise ValueError("failures_to_open must be at least 1")
        self.failures_to_open = failures_to_open
        self.cooldown_s = cooldown_s
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state()

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            self._state = BreakerState.HALF_OPEN
            self._trial_in_flight = False
        return self._state

    def before_call(self) -> None:
        """Raise GatewayUnavailable unless a call may go out now."""
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return
            if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True  # this call is the one trial
                return
            left = max(0.0, self.cooldown_s - (self._clock() - self._opened_at))
            raise GatewayUnavailable(
                f"{self.name}: circuit {state.value}, failing fast (retry in {left:.1f}s)"
            )

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            state = self._current_state()
            self._failures += 1
            if state is BreakerState.HALF_OPEN or self._failures >= self.failures_to_open:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_in_flight = False


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
