"""The payment circuit breaker: closed → open after N failures in a row → half-open → closed."""

from __future__ import annotations

import pytest

from serving.payments.gateway import GatewayUnavailable
from serving.payments.resilience import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, cooldown_s=10.0, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_stays_closed_below_the_threshold(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()  # still lets calls through


def test_a_success_resets_the_count_of_failures_in_a_row(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


def test_opens_after_n_consecutive_failures_and_fails_fast(breaker: CircuitBreaker) -> None:
    fail(breaker, 3)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(GatewayUnavailable, match="circuit open") as raised:
        breaker.before_call()
    assert raised.value.transient


def test_half_open_after_the_cooldown_lets_one_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 9.9
    assert breaker.state is BreakerState.OPEN
    clock.now += 0.1
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # the trial
    with pytest.raises(GatewayUnavailable, match="half_open"):
        breaker.before_call()  # a second caller while the trial is in flight


def test_a_successful_trial_closes_the_circuit(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.now += 10
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_opens_it_again_for_a_full_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 10
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    clock.now += 9
    with pytest.raises(GatewayUnavailable):
        breaker.before_call()
    clock.now += 1
    assert breaker.state is BreakerState.HALF_OPEN


def test_refuses_a_threshold_below_one(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failures_to_open=0, cooldown_s=1, clock=clock)
