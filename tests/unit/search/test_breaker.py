"""The search circuit breaker opens after N failures and lets a call through after a while."""

from __future__ import annotations

from serving.search.breaker import CircuitBreaker


def test_opens_after_failures_and_half_opens_after_the_open_time() -> None:
    now = [100.0]
    breaker = CircuitBreaker(failures_to_open=2, open_s=5.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert not breaker.allow()
    now[0] += 5.0
    assert breaker.allow()
    breaker.failure()  # half-open: one more failure reopens at once
    assert not breaker.allow()
    now[0] += 5.0
    breaker.success()
    breaker.failure()
    assert breaker.allow()
