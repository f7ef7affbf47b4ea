"""A small circuit breaker: after N failures in a row, fail fast for a while.

While Elasticsearch is down a search answers 503 at once instead of waiting out a timeout
per request, which would pile up threads and slow the rest of the API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self,
        failures_to_open: int,
        open_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.open_s = open_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0

    def allow(self) -> bool:
        """False while open; once the open time is over, calls go through again (half-open:
        the next failure reopens it at once)."""
        with self._lock:
            return self._clock() >= self._open_until

    def success(self) -> None:
        with self._lock:
            self._failures = 0

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failures_to_open:
                self._open_until = self._clock() + self.open_s
                self._failures = self.failures_to_open - 1  # half-open: one more reopens it
