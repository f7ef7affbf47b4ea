"""One circuit breaker for every remote dependency (Elasticsearch, the payment gateway...).

closed → (N failures in a row) → open: every call fails fast → (cooldown over) → half-open:
exactly one trial call goes out while the others still fail fast; its success closes the
circuit, its failure opens it for another full cooldown. While a dependency is down, its
callers answer in milliseconds instead of each waiting out a timeout, which would pile up
threads and slow the rest of the API.

The breaker knows nothing of its users: `before_call` raises `CircuitOpen` and `allow` reports
the same decision as a bool, so that each user maps "open" onto its own error (payments:
`GatewayUnavailable`; search: 503 `SEARCH_UNAVAILABLE`). It is thread-safe, and its clock is
injectable so that tests move time by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The breaker refused the call: nothing was sent."""

    def __init__(self, name: str, state: BreakerState, retry_in_s: float) -> None:
        super().__init__(
            f"{name}: circuit {state.value}, failing fast (retry in {retry_in_s:.1f}s)"
        )
        self.name = name
        self.state = state
        self.retry_in_s = retry_in_s


class CircuitBreaker:
    def __init__(
        self,
        *,
        failures_to_open: int,
        cooldown_s: float,
        name: str = "dependency",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures_to_open < 1:
            raise ValueError("failures_to_open must be at least 1")
        if cooldown_s <= 0:
            raise ValueError("cooldown_s must be positive")
        self.failures_to_open = failures_to_open
        self.cooldown_s = cooldown_s
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started_at: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state()

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            self._state = BreakerState.HALF_OPEN
            self._trial_started_at = None
        return self._state

    def _may_call(self) -> tuple[bool, BreakerState]:
        state = self._current_state()
        if state is BreakerState.CLOSED:
            return True, state
        if state is BreakerState.HALF_OPEN:
            now = self._clock()
            # A trial whose caller never reported back (it died, or raised something it does
            # not count) must not keep the circuit half-open for ever: after a cooldown, the
            # next caller becomes the trial.
            if self._trial_started_at is None or now - self._trial_started_at >= self.cooldown_s:
                self._trial_started_at = now
                return True, state
        return False, state

    def allow(self) -> bool:
        """Whether a call may go out now; True in half-open makes this caller the one trial,
        which must then report `record_success` or `record_failure`."""
        with self._lock:
            return self._may_call()[0]

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go out now (the same decision as `allow`)."""
        with self._lock:
            allowed, state = self._may_call()
            if allowed:
                return
            if state is BreakerState.OPEN:
                left = self.cooldown_s - (self._clock() - self._opened_at)
            else:  # half-open with the trial in flight
                assert self._trial_started_at is not None
                left = self.cooldown_s - (self._clock() - self._trial_started_at)
            raise CircuitOpen(self.name, state, max(0.0, left))

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_started_at = None

    def record_failure(self) -> None:
        with self._lock:
            state = self._current_state()
            self._failures += 1
            if state is BreakerState.HALF_OPEN or self._failures >= self.failures_to_open:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_started_at = None
