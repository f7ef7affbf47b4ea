"""SandboxGateway against the real sandbox service of `shoplake stack`: every test token, one
charge per idempotency key under concurrency, timeouts settled by lookup, retries, 409s, and
no card number in its store or log."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from sandbox.payment_gateway import DB_FILE_NAME, TIMEOUT_TOKEN_HANG_S
from serving.payments.card_numbers import card_numbers_in, luhn_valid
from serving.payments.factory import make_gateway
from serving.payments.gateway import GatewayError, PaymentStatus
from serving.payments.sandbox import SandboxGateway
from shoplake.stack import Stack
from tests.support.payments import CountingClient, payment_settings

Key = Callable[[], str]


def db_file(stack: Stack) -> Path:
    return stack.service("sandbox-gateway").home / DB_FILE_NAME


def charges_for(stack: Stack, idempotency_key: str) -> int:
    with sqlite3.connect(f"file:{db_file(stack)}?mode=ro", uri=True) as conn:
        (count,) = conn.execute(
            "select count(*) from payments where idempotency_key = ?", (idempotency_key,)
        ).fetchone()
    return int(count)


def test_tok_ok_authorizes_then_captures_and_refunds(gateway: SandboxGateway, key: Key) -> None:
    k = key()
    auth = gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=2599, currency="eur")
    assert (auth.status, auth.amount_cents, auth.currency) == (
        PaymentStatus.AUTHORIZED,
        2599,
        "EUR",
    )
    assert auth.reference.startswith("pay_") and auth.idempotency_key == k

    captured = gateway.capture(idempotency_key=k, reference=auth.reference)
    assert captured.status is PaymentStatus.CAPTURED
    assert gateway.capture(idempotency_key=k, reference=auth.reference) == captured  # a repeat

    partial = gateway.refund(idempotency_key=f"{k}-r1", reference=auth.reference, amount_cents=599)
    assert partial.status is PaymentStatus.REFUNDED
    # The same refund asked again refunds nothing more; the rest can still be refunded once.
    gateway.refund(idempotency_key=f"{k}-r1", reference=auth.reference, amount_cents=599)
    gateway.refund(idempotency_key=f"{k}-r2", reference=auth.reference)
    with pytest.raises(GatewayError, match="409 REFUND_EXCEEDS_CAPTURE"):
        gateway.refund(idempotency_key=f"{k}-r3", reference=auth.reference, amount_cents=1)
    assert gateway.get(k) == replace(auth, status=PaymentStatus.REFUNDED)


def test_tok_decline_is_a_declined_result_not_an_error(gateway: SandboxGateway, key: Key) -> None:
    k = key()
    result = gateway.authorize(
        idempotency_key=k, token="tok_decline", amount_cents=100, currency="EUR"
    )
    assert result.status is PaymentStatus.DECLINED
    assert result.decline_reason == "card_declined"
    with pytest.raises(GatewayError, match="409 ILLEGAL_TRANSITION") as refused:
        gateway.capture(idempotency_key=k, reference=result.reference)
    assert not refused.value.transient


def test_void_releases_an_authorization(gateway: SandboxGateway, key: Key) -> None:
    k = key()
    auth = gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=100, currency="EUR")
    assert gateway.void(idempotency_key=k, reference=auth.reference).status is PaymentStatus.VOIDED
    assert gateway.void(idempotency_key=k, reference=auth.reference).status is PaymentStatus.VOIDED


@pytest.mark.parametrize(
    ("setup", "move"),
    [
        ("void", "capture"),
        ("capture", "void"),
        (None, "refund"),
        ("void", "refund"),
    ],
)
def test_illegal_transitions_are_refused_with_409(
    gateway: SandboxGateway, key: Key, setup: str | None, move: str
) -> None:
    k = key()
    auth = gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=100, currency="EUR")
    if setup is not None:
        getattr(gateway, setup)(idempotency_key=k, reference=auth.reference)
    with pytest.raises(GatewayError, match="409 ILLEGAL_TRANSITION") as refused:
        getattr(gateway, move)(idempotency_key=k, reference=auth.reference)
    assert not refused.value.transient


def test_a_key_reused_for_another_amount_is_refused(gateway: SandboxGateway, key: Key) -> None:
    k = key()
    gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=100, currency="EUR")
    with pytest.raises(GatewayError, match="409 IDEMPOTENCY_KEY_REUSED"):
        gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=999, currency="EUR")


def test_the_factory_makes_the_sandbox_gateway_by_default(stack: Stack, key: Key) -> None:
    gateway = make_gateway(stack.settings)
    assert isinstance(gateway, SandboxGateway) and gateway.name == "sandbox"
    k = key()
    made = gateway.authorize(idempotency_key=k, token="tok_ok", amount_cents=5, currency="EUR")
    assert gateway.get(k) == made
    gateway.close()


def test_an_unknown_reference_is_refused(gateway: SandboxGateway, key: Key) -> None:
    with pytest.raises(GatewayError, match="no payment") as refused:
        gateway.capture(idempotency_key=key(), reference="pay_nosuch/../x")
    assert not refused.value.transient


def test_get_of_an_unknown_key_is_none(gateway: SandboxGateway, key: Key) -> None:
    assert gateway.get(key()) is None


def test_twenty_concurrent_authorizations_with_one_key_make_one_charge(
    gateway: SandboxGateway, stack: Stack, key: Key
) -> None:
    k = key()

    def authorize(_n: int) -> str:
        result = gateway.authorize(
            idempotency_key=k, token="tok_ok", amount_cents=4200, currency="EUR"
        )
        assert result.status is PaymentStatus.AUTHORIZED
        return result.reference

    with ThreadPoolExecutor(max_workers=20) as pool:
        references = set(pool.map(authorize, range(20)))
    assert len(references) == 1
    assert charges_for(stack, k) == 1


def test_a_timeout_is_settled_by_looking_the_key_up(
    gateway: SandboxGateway, stack: Stack, key: Key
) -> None:
    # The raw service: tok_timeout records the charge, then hangs past the client's timeout.
    k = key()
    body = {"idempotency_key": k, "token": "tok_timeout", "amount_cents": 700, "currency": "EUR"}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            f"{stack.settings.sandbox_gateway_endpoint}/v1/payments/authorize",
            json=body,
            timeout=0.3,
        )
    found = gateway.get(k)
    assert found is not None and found.status is PaymentStatus.AUTHORIZED

    # The adapter does that by itself: it times out, asks by key, and returns the charge.
    k2 = key()
    began = time.monotonic()
    result = gateway.authorize(
        idempotency_key=k2, token="tok_timeout", amount_cents=700, currency="EUR"
    )
    took = time.monotonic() - began
    assert result.status is PaymentStatus.AUTHORIZED
    assert 0.5 <= took < TIMEOUT_TOKEN_HANG_S / 10  # one timeout (0.5 s), not the hang
    assert charges_for(stack, k2) == 1
    assert (
        gateway.capture(idempotency_key=k2, reference=result.reference).status
        is PaymentStatus.CAPTURED
    )


def test_flaky_is_retried_once_and_succeeds(
    stack: Stack, counting_client: CountingClient, key: Key
) -> None:
    gateway = SandboxGateway(payment_settings(stack.settings), client=counting_client)
    k = key()
    result = gateway.authorize(
        idempotency_key=k, token="tok_flaky", amount_cents=300, currency="EUR"
    )
    assert result.status is PaymentStatus.AUTHORIZED
    assert counting_client.statuses == [503, 200]
    assert charges_for(stack, k) == 1


def test_flaky_without_retries_surfaces_a_transient_error(stack: Stack, key: Key) -> None:
    gateway = SandboxGateway(payment_settings(stack.settings, payment_retry_attempts=1))
    k = key()
    with pytest.raises(GatewayError, match="503") as failed:
        gateway.authorize(idempotency_key=k, token="tok_flaky", amount_cents=300, currency="EUR")
    assert failed.value.transient
    assert gateway.get(k) is None  # nothing was charged by the failed attempt
    gateway.close()


def test_a_card_number_is_refused_and_never_reaches_the_store(
    gateway: SandboxGateway, key: Key
) -> None:
    with pytest.raises(GatewayError, match="422 INVALID_TOKEN"):
        gateway.authorize(
            idempotency_key=key(), token="4242424242424242", amount_cents=100, currency="EUR"
        )


def test_card_numbers_are_recognised() -> None:
    assert luhn_valid("4242424242424242") and luhn_valid("5555555555554444")
    assert not luhn_valid("4242424242424241")
    text = "tok_4242424242424242 123 12345678901234567890 a4242424242424242f"
    assert card_numbers_in(text) == ["4242424242424242"]


def test_no_card_number_in_the_sandbox_store_or_log(
    gateway: SandboxGateway, stack: Stack, key: Key
) -> None:
    for token in ("tok_ok", "tok_decline", "tok_flaky", "4242424242424242", "5555555555554444"):
        with contextlib.suppress(GatewayError):  # the card numbers are refused
            gateway.authorize(idempotency_key=key(), token=token, amount_cents=100, currency="EUR")
    service = stack.service("sandbox-gateway")
    files = [p for p in service.home.glob(f"{DB_FILE_NAME}*") if p.is_file()] + [service.log_file]
    assert db_file(stack) in files and service.log_file.stat().st_size > 0
    # The store and the log are shared with every other test run, whose idempotency keys
    # (often uuid4().hex, chosen by the caller, not card data) can hold a Luhn-valid digit run
    # by chance; such a run inside a stored key is not a leak. Every other one is.
    with sqlite3.connect(f"file:{db_file(stack)}?mode=ro", uri=True) as conn:
        keys = [row[0] for row in conn.execute("select idempotency_key from payments")]
        keys += [row[0] for row in conn.execute("select idempotency_key from refunds")]
        tokens = {row[0] for row in conn.execute("select distinct token from payments")}
    assert all(token.startswith("tok_") for token in tokens), tokens
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = [m for m in card_numbers_in(text) if not any(m in k for k in keys)]
        assert found == [], f"card-number-like digits in {path}"
