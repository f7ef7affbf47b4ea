"""Periodic work inside the API process (expired holds, gate re-sync), stopped with the app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """Run `work` every `interval_s` seconds in a daemon thread; an error is logged, not fatal."""

    def __init__(self, name: str, interval_s: float, work: Callable[[], object]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.work = work
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.work()
            except Exception:  # a failed run must not end the loop; the next one retries
                log.exception("%s failed", self.name)
            self.runs += 1
