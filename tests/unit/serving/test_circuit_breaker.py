"""The payment circuit breaker (closed → open after N failures in a row → half-open → closed)
and the retry policy that decides when a failure may be called GatewayUnavailable."""

from __future__ import annotations

import pytest

from serving.payments.gateway import GatewayError, GatewayUnavailable
from serving.payments.resilience import BreakerState, CircuitBreaker, NotSent, call_with_retries


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


# -- the retry policy the adapters share ------------------------------------------------------


class Script:
    """A call that raises the given errors in turn, then answers "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def retry(script: Script, attempts: int = 3) -> str:
    return call_with_retries(script, attempts=attempts, backoff_s=0)


def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    script = Script(GatewayError("503", transient=True), NotSent("refused"))
    assert retry(script) == "ok" and script.calls == 3


def test_a_permanent_failure_is_not_retried() -> None:
    script = Script(GatewayError("409", transient=False))
    with pytest.raises(GatewayError, match="409"):
        retry(script)
    assert script.calls == 1


def test_refused_every_time_is_gateway_unavailable() -> None:
    script = Script(*(NotSent("refused") for _ in range(3)))
    with pytest.raises(GatewayUnavailable, match="refused"):
        retry(script)
    assert script.calls == 3


def test_refused_after_an_attempt_that_may_have_landed_is_not_unavailable() -> None:
    # Checkout compensates at once on GatewayUnavailable ("nothing was charged"): after a
    # timeout that promise cannot be made, so the error must stay an ambiguous one.
    script = Script(GatewayError("timed out", transient=True), NotSent("a"), NotSent("b"))
    with pytest.raises(GatewayError, match="outcome unknown") as raised:
        retry(script)
    assert not isinstance(raised.value, GatewayUnavailable) and raised.value.transient


def test_an_open_circuit_is_not_retried() -> None:
    script = Script(GatewayUnavailable("circuit open"))
    with pytest.raises(GatewayUnavailable):
        retry(script)
    assert script.calls == 1
