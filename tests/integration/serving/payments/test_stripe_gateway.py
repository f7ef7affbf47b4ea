"""StripeGateway against stripe-mock: Stripe's own OpenAPI spec validates every request the
adapter sends, and the answers are mapped onto the contract.

stripe-mock is stateless (each answer is a fixture with the request's fields reflected), so
this proves the requests are well-formed and the mapping works, not Stripe's state machine —
that is the sandbox's job, and Stripe's test mode before going live.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from serving.payments.factory import make_gateway
from serving.payments.gateway import GatewayError, GatewayUnavailable, PaymentStatus
from serving.payments.stripe_gateway import StripeGateway
from shoplake.config import Settings
from shoplake.resilience import BreakerState
from shoplake.stack.process import free_port, port_is_open

pytestmark = [
    pytest.mark.stripe_mock,
    # the stripe SDK posts form bodies with an httpx argument httpx deprecates
    pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def stripe_mock(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary: Path = settings.state_dir / "bin" / "stripe-mock"
    if not binary.exists():
        pytest.fail(
            f"stripe-mock is not installed at {binary}: run `make stripe-mock` "
            "(go install github.com/stripe/stripe-mock@latest into .shoplake/bin)"
        )
    port = free_port()
    log = tmp_path_factory.mktemp("stripe-mock") / "stripe-mock.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "-http-addr", f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 15
        while not port_is_open("127.0.0.1", port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"stripe-mock did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stripe_settings(settings: Settings, base: str) -> Settings:
    return settings.model_copy(
        update={
            "payment_gateway": "stripe",
            "stripe_api_key": SecretStr("sk_test_shoplake"),
            "stripe_api_base": base,
            "payment_timeout_s": 2.0,
            "payment_retry_attempts": 1,
            "payment_breaker_failures": 2,
            "payment_breaker_open_s": 30.0,
        }
    )


@pytest.fixture
def gateway(settings: Settings, stripe_mock: str) -> StripeGateway:
    made = make_gateway(stripe_settings(settings, stripe_mock))
    assert isinstance(made, StripeGateway)
    return made


def test_every_operation_is_a_valid_stripe_request_mapped_onto_the_contract(
    gateway: StripeGateway,
) -> None:
    auth = gateway.authorize(
        idempotency_key="order-1", token="tok_visa", amount_cents=2599, currency="EUR"
    )
    assert auth.reference.startswith("pi_")
    assert (auth.amount_cents, auth.currency, auth.idempotency_key) == (2599, "EUR", "order-1")
    # stripe-mock's fixture intent is `requires_payment_method`: what a declined card leaves.
    assert auth.status is PaymentStatus.DECLINED

    for result in (
        gateway.capture(idempotency_key="order-1", reference=auth.reference),
        gateway.void(idempotency_key="order-1", reference=auth.reference),
    ):
        assert result.reference == auth.reference
    refunded = gateway.refund(idempotency_key="order-1", reference=auth.reference, amount_cents=99)
    assert refunded.status is PaymentStatus.REFUNDED

    # get(): this process remembers the key → intent id.
    found = gateway.get("order-1")
    assert found is not None and found.reference == auth.reference


def test_get_of_an_unknown_key_searches_metadata_and_finds_nothing(
    settings: Settings, stripe_mock: str
) -> None:
    fresh = StripeGateway(stripe_settings(settings, stripe_mock))
    # The search request is valid; its fixture result carries no matching metadata.
    assert fresh.get("never-used-key") is None


def test_a_payment_method_id_is_used_as_is(gateway: StripeGateway) -> None:
    auth = gateway.authorize(
        idempotency_key="order-2", token="pm_card_visa", amount_cents=100, currency="USD"
    )
    assert auth.reference.startswith("pi_")


def test_a_request_stripe_refuses_is_a_permanent_error(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayError, match="stripe refused the request") as refused:
        gateway.authorize(
            idempotency_key="order-3", token="tok_visa", amount_cents=10**20, currency="EUR"
        )  # more than Stripe's integer amount holds
    assert not refused.value.transient
    assert gateway.breaker.state is BreakerState.CLOSED  # Stripe answered: not an outage


def test_stripe_unreachable_opens_the_circuit(settings: Settings) -> None:
    down = StripeGateway(stripe_settings(settings, f"http://127.0.0.1:{free_port()}"))
    for _ in range(2):
        with pytest.raises(GatewayUnavailable, match="stripe unreachable"):
            down.authorize(idempotency_key="k", token="tok_visa", amount_cents=1, currency="EUR")
    began = time.perf_counter()
    with pytest.raises(GatewayUnavailable, match="circuit open"):
        down.get("k")
    assert time.perf_counter() - began < 0.1


def test_stripe_needs_an_api_key(settings: Settings) -> None:
    with pytest.raises(GatewayError, match="SHOPLAKE_STRIPE_API_KEY"):
        make_gateway(settings.model_copy(update={"payment_gateway": "stripe"}))
