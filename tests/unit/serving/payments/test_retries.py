"""The retry policy both gateway adapters share, and how an open circuit becomes
GatewayUnavailable (nothing was sent, so checkout may compensate at once)."""

from __future__ import annotations

import pytest

from serving.payments.gateway import GatewayError, GatewayUnavailable
from serving.payments.retries import NotSent, call_with_retries, pass_breaker
from shoplake.resilience import CircuitBreaker


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


def test_an_open_breaker_is_gateway_unavailable_before_any_request() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures_to_open=1, cooldown_s=5, name="sandbox", clock=lambda: now[0])
    pass_breaker(breaker)  # closed: the attempt may go out
    breaker.record_failure()
    script = Script()

    def attempt() -> str:
        pass_breaker(breaker)
        return script()

    with pytest.raises(GatewayUnavailable, match="sandbox: circuit open") as raised:
        call_with_retries(attempt, attempts=3, backoff_s=0)
    assert raised.value.transient
    assert script.calls == 0  # nothing was sent
