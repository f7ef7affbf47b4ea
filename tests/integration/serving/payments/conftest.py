"""A SandboxGateway on the running sandbox service, with short timeouts and backoff for tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from serving.payments.sandbox import SandboxGateway
from shoplake.stack import Stack
from tests.support.payments import CountingClient, payment_settings


@pytest.fixture
def key() -> Callable[[], str]:
    """A fresh idempotency key (a dashed UUID: no digit run long enough to look like a PAN)."""
    return lambda: f"test-{uuid.uuid4()}"


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
