"""Password hashing off the request threads: a bounded pool sized to the cores.

argon2id is CPU- and memory-bound on purpose. Run on the request thread pool, 64 concurrent
logins would take every thread and every core and starve the other routes; here at most
`threads` hashes run at once per worker (the cores shared by the workers, unless set), the
rest wait in a queue without holding a thread, a connection or a core, and beyond
`password_hash_queue_max` waiting hashes a login is answered 503 at once. argon2-cffi releases
the GIL while it hashes, so the threads really run in parallel.

A password is also refused when it is on the list of common passwords that `zxcvbn` ships
(the 30,000 most frequent leaked passwords).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from serving import security
from shoplake.config import Settings

T = TypeVar("T")


class HashingBusy(Exception):
    """Too many hashes are waiting: the caller should come back later."""


def pool_threads(settings: Settings) -> int:
    if settings.password_hash_threads:
        return settings.password_hash_threads
    return max(1, (os.cpu_count() or 1) // max(1, settings.api_workers))


class PasswordPool:
    """Hash and verify in at most `threads` threads; `queue_max` more may wait."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.threads = pool_threads(settings)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="password-hash")
        self._slots = threading.BoundedSemaphore(self.threads + settings.password_hash_queue_max)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _submit(self, work: Callable[[], T]) -> asyncio.Future[T]:
        if not self._slots.acquire(blocking=False):
            raise HashingBusy("too many password hashes are waiting")

        def run() -> T:
            try:
                return work()
            finally:
                self._slots.release()

        return asyncio.wrap_future(self._executor.submit(run))

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._submit(
            lambda: security.verify_password(self.settings, password_hash, password)
        )

    async def hash(self, password: str) -> str:
        return await self._submit(lambda: security.hash_password(self.settings, password))

    def run_blocking(self, work: Callable[[], T]) -> T:
        """From a request thread (rare routes: a password change): wait for a slot's result."""
        if not self._slots.acquire(blocking=False):
            raise HashingBusy("too many password hashes are waiting")

        def run() -> T:
            try:
                return work()
            finally:
                self._slots.release()

        return self._executor.submit(run).result()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """On the list of common passwords (case and surrounding spaces ignored)."""
    return password.strip().lower() in _common_passwords()
