"""A SandboxGateway on the running sandbox service, with short timeouts and backoff for tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from serving.payments.sandbox import SandboxGateway
from shoplake.config import Settings
from shoplake.stack import Stack


def payment_settings(settings: Settings, **overrides: object) -> Settings:
    update: dict[str, object] = {
        "payment_timeout_s": 0.5,
        "payment_retry_attempts": 3,
        "payment_retry_backoff_s": 0.02,
        "payment_breaker_failures": 5,
        "payment_breaker_open_s": 30.0,
    }
    update.update(overrides)
    return settings.model_copy(update=update)


@pytest.fixture
def key() -> Callable[[], str]:
    """A fresh idempotency key (a dashed UUID: no digit run long enough to look like a PAN)."""
    return lambda: f"test-{uuid.uuid4()}"


class CountingClient(httpx.Client):
    """An httpx client that counts the responses it got (to see retries from outside)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.statuses: list[int] = []
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            event_hooks={"response": [lambda r: self.statuses.append(r.status_code)]},
        )


@pytest.fixture
def counting_client(stack: Stack) -> Iterator[CountingClient]:
    settings = payment_settings(stack.settings)
    with CountingClient(settings.sandbox_gateway_endpoint, settings.payment_timeout_s) as client:
        yield client


@pytest.fixture
def gateway(stack: Stack) -> Iterator[SandboxGateway]:
    gateway = SandboxGateway(payment_settings(stack.settings))
    yield gateway
    gateway.close()
