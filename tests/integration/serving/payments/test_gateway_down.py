"""With the sandbox service stopped, the circuit opens and payment calls fail fast; payments
made before the stop are still there after the restart (SQLite under the state dir)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from serving.payments.gateway import GatewayUnavailable, PaymentStatus
from serving.payments.sandbox import SandboxGateway
from shoplake.resilience import BreakerState
from shoplake.stack import Stack
from shoplake.stack.service import LocalService
from tests.support.payments import CountingClient, payment_settings


@pytest.fixture
def sandbox_service(stack: Stack) -> Iterator[LocalService]:
    service = stack.service("sandbox-gateway")
    try:
        yield service
    finally:
        service.start(lambda _m: None)  # a no-op when it already runs


@pytest.mark.stack_lifecycle
def test_the_circuit_opens_and_calls_fail_fast_while_the_gateway_is_down(
    stack: Stack, sandbox_service: LocalService
) -> None:
    settings = payment_settings(
        stack.settings, payment_breaker_failures=3, payment_breaker_open_s=30.0
    )
    before = SandboxGateway(settings)
    key = f"test-{uuid.uuid4()}"
    made = before.authorize(idempotency_key=key, token="tok_ok", amount_cents=100, currency="EUR")
    before.close()

    assert sandbox_service.stop()
    client = CountingClient(settings.sandbox_gateway_endpoint, settings.payment_timeout_s)
    requests: list[str] = []
    client.event_hooks["request"] = [lambda request: requests.append(str(request.url))]
    gateway = SandboxGateway(settings, client=client)

    # The first call tries (3 attempts, connection refused each time) and opens the circuit.
    with pytest.raises(GatewayUnavailable, match="unreachable"):
        gateway.authorize(
            idempotency_key=f"test-{uuid.uuid4()}", token="tok_ok", amount_cents=100, currency="EUR"
        )
    assert len(requests) == 3
    assert gateway.breaker.state is BreakerState.OPEN

    # While open, every call fails at once without a request.
    calls: tuple[Callable[[], object], ...] = (
        lambda: gateway.authorize(
            idempotency_key=f"test-{uuid.uuid4()}", token="tok_ok", amount_cents=1, currency="EUR"
        ),
        lambda: gateway.capture(idempotency_key=key, reference=made.reference),
        lambda: gateway.get(key),
    )
    for call in calls:
        began = time.perf_counter()
        with pytest.raises(GatewayUnavailable, match="circuit open"):
            call()
        assert time.perf_counter() - began < 0.1
    assert len(requests) == 3

    # Back up: the payment made before the stop survived the restart.
    sandbox_service.start(lambda _m: None)
    after = SandboxGateway(settings)
    found = after.get(key)
    assert found is not None
    assert (found.reference, found.status) == (made.reference, PaymentStatus.AUTHORIZED)
    after.close()
    gateway.close()
