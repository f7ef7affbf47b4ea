"""The one circuit breaker (closed → open after N failures in a row → half-open with exactly
one trial → closed or open again), as payments and search both use it."""

from __future__ import annotations

import threading

import pytest

from shoplake.resilience import BreakerState, CircuitBreaker, CircuitOpen


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The state now (a function, so that a type checker does not keep an earlier reading)."""
    return breaker.state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, cooldown_s=10.0, name="gateway", clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_stays_closed_below_the_threshold(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()  # still lets calls through
    assert breaker.allow()


def test_a_success_resets_the_count_of_failures_in_a_row(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


def test_opens_after_n_consecutive_failures_and_fails_fast(breaker: CircuitBreaker) -> None:
    fail(breaker, 3)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen, match="gateway: circuit open") as raised:
        breaker.before_call()
    assert raised.value.state is BreakerState.OPEN
    assert raised.value.retry_in_s == pytest.approx(10.0)
    assert not breaker.allow()


def test_half_open_after_the_cooldown_lets_exactly_one_trial_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 9.9
    assert breaker.state is BreakerState.OPEN
    clock.now += 0.1
    assert state_of(breaker) is BreakerState.HALF_OPEN  # the clock moved: read it afresh
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpen, match="half_open"):
        breaker.before_call()  # a second caller while the trial is in flight
    assert not breaker.allow()  # the reporting form gives the same answer


def test_allow_takes_the_one_trial_as_before_call_does(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()  # this caller is the trial
    assert not breaker.allow()
    with pytest.raises(CircuitOpen):
        breaker.before_call()


def test_a_successful_trial_closes_the_circuit(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.now += 10
    breaker.before_call()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, 2)  # and the count of failures starts again from zero
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_opens_it_again_for_a_full_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 10
    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    clock.now += 9
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 1
    assert state_of(breaker) is BreakerState.HALF_OPEN  # the clock moved: read it afresh


def test_a_trial_that_never_reports_back_is_replaced_after_a_cooldown(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 10
    assert breaker.allow()  # a trial whose caller dies without a word
    clock.now += 5
    assert not breaker.allow()
    clock.now += 5
    assert breaker.allow()  # the circuit is not stuck half-open for ever


def test_refuses_a_threshold_below_one_and_a_cooldown_of_zero(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failures_to_open=0, cooldown_s=1, clock=clock)
    with pytest.raises(ValueError, match="positive"):
        CircuitBreaker(failures_to_open=1, cooldown_s=0, clock=clock)


def test_concurrent_callers_in_half_open_get_one_trial_between_them(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.now += 10
    start = threading.Barrier(16)
    allowed: list[bool] = []
    lock = threading.Lock()

    def call() -> None:
        start.wait()
        answer = breaker.allow()
        with lock:
            allowed.append(answer)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert sorted(allowed) == [False] * 15 + [True]
