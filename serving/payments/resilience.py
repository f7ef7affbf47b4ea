"""A small circuit breaker for the payment gateway.

closed → (N consecutive failures) → open: every call fails fast with GatewayUnavailable →
(cooldown over) → half-open: one trial call goes through; its success closes the circuit,
its failure opens it again for another cooldown. While the gateway is down, checkout answers
in milliseconds instead of waiting out a timeout per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from serving.payments.gateway import GatewayUnavailable


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
