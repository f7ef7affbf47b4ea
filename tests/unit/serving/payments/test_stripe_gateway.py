"""StripeGateway's mapping of Stripe's states and errors, over a fake HTTP layer of the SDK.

stripe-mock (tests/integration/payments) validates the requests but is stateless; this fake
plays the states it cannot: an intent waiting for capture, a card decline, a search by key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from pydantic import SecretStr

from serving.payments.gateway import GatewayError, PaymentStatus
from serving.payments.stripe_gateway import METADATA_KEY, StripeGateway
from shoplake.config import Settings


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers like Stripe for the few calls the adapter makes; records what it was sent."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.intents: dict[str, dict[str, Any]] = {}
        self.sent: list[tuple[str, str, dict[str, list[str]], str | None]] = []

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        parts = urlsplit(url)
        form = parse_qs(post_data or "") if isinstance(post_data, str) else {}
        query = parse_qs(parts.query)
        self.sent.append(
            (method, parts.path, form or query, (headers or {}).get("Idempotency-Key"))
        )
        path = parts.path
        if path == "/v1/payment_methods":
            return self._ok({"id": "pm_fake", "object": "payment_method"})
        if path == "/v1/payment_intents" and method == "post":
            intent = {
                "id": f"pi_{len(self.intents) + 1}",
                "object": "payment_intent",
                "amount": int(form["amount"][0]),
                "currency": form["currency"][0],
                "metadata": {METADATA_KEY: form[f"metadata[{METADATA_KEY}]"][0]},
                "status": "requires_capture",
            }
            self.intents[str(intent["id"])] = intent
            if form["payment_method"] == ["pm_card_chargeDeclined"]:
                intent["status"] = "requires_payment_method"
                error = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                    "payment_intent": intent,
                }
                return json.dumps({"error": error}), 402, {}
            return self._ok(intent)
        if path == "/v1/payment_intents/search":
            wanted = query["query"][0].split(":'", 1)[1].rstrip("'")
            hits = [i for i in self.intents.values() if i["metadata"][METADATA_KEY] == wanted]
            return self._ok({"object": "search_result", "data": hits, "has_more": False})
        if path.startswith("/v1/payment_intents/"):
            intent_id, _, action = path.removeprefix("/v1/payment_intents/").partition("/")
            intent = self.intents[intent_id]
            if action == "capture":
                intent["status"] = "succeeded"
            elif action == "cancel":
                intent["status"] = "canceled"
            return self._ok(intent)
        if path == "/v1/refunds":
            intent = self.intents[form["payment_intent"][0]]
            intent["latest_charge"] = {"object": "charge", "amount_refunded": intent["amount"]}
            return self._ok({"id": "re_1", "object": "refund"})
        return json.dumps({"error": {"type": "invalid_request_error"}}), 404, {}

    @staticmethod
    def _ok(body: dict[str, Any]) -> tuple[str, int, Mapping[str, str]]:
        return json.dumps(body), 200, {}

    def close(self) -> None:
        pass


@pytest.fixture
def fake() -> FakeStripeHTTP:
    return FakeStripeHTTP()


@pytest.fixture
def gateway(fake: FakeStripeHTTP) -> StripeGateway:
    client = stripe.StripeClient("sk_test_fake", http_client=fake, max_network_retries=0)
    settings = Settings(payment_gateway="stripe", stripe_api_key=SecretStr("sk_test_fake"))
    return StripeGateway(settings, client=client)


def test_authorize_is_a_manual_capture_intent_confirmed_at_once(
    gateway: StripeGateway, fake: FakeStripeHTTP
) -> None:
    result = gateway.authorize(
        idempotency_key="order-1", token="tok_visa", amount_cents=2599, currency="EUR"
    )
    assert (result.status, result.reference, result.amount_cents, result.currency) == (
        PaymentStatus.AUTHORIZED,
        "pi_1",
        2599,
        "EUR",
    )
    (_, _, method_form, method_key), (_, _, form, key) = fake.sent
    assert method_form["card[token]"] == ["tok_visa"] and method_key == "order-1:payment_method"
    assert form["capture_method"] == ["manual"] and form["confirm"] == ["true"]
    assert form["currency"] == ["eur"] and form["payment_method"] == ["pm_fake"]
    assert key == "order-1:authorize"


def test_a_card_decline_is_a_declined_result(gateway: StripeGateway) -> None:
    result = gateway.authorize(
        idempotency_key="order-2", token="pm_card_chargeDeclined", amount_cents=100, currency="EUR"
    )
    assert result.status is PaymentStatus.DECLINED
    assert result.decline_reason == "card_declined"
    assert result.reference == "pi_1"


def test_capture_void_refund_move_the_intent(gateway: StripeGateway) -> None:
    a = gateway.authorize(
        idempotency_key="o3", token="pm_card_visa", amount_cents=100, currency="EUR"
    )
    assert (
        gateway.capture(idempotency_key="o3", reference=a.reference).status
        is PaymentStatus.CAPTURED
    )
    assert (
        gateway.refund(idempotency_key="o3", reference=a.reference).status is PaymentStatus.REFUNDED
    )
    assert gateway.get("o3") is not None
    assert gateway.get("o3").status is PaymentStatus.REFUNDED  # type: ignore[union-attr]
    b = gateway.authorize(
        idempotency_key="o4", token="pm_card_visa", amount_cents=100, currency="EUR"
    )
    assert gateway.void(idempotency_key="o4", reference=b.reference).status is PaymentStatus.VOIDED


def test_get_finds_an_intent_made_by_another_process_through_search(
    fake: FakeStripeHTTP, gateway: StripeGateway
) -> None:
    made = gateway.authorize(
        idempotency_key="order-5", token="pm_card_visa", amount_cents=100, currency="EUR"
    )
    other = StripeGateway(
        Settings(payment_gateway="stripe", stripe_api_key=SecretStr("sk_test_fake")),
        client=stripe.StripeClient("sk_test_fake", http_client=fake, max_network_retries=0),
    )
    found = other.get("order-5")
    assert found is not None and (found.reference, found.status) == (
        made.reference,
        PaymentStatus.AUTHORIZED,
    )
    assert fake.sent[-1][1] == "/v1/payment_intents/search"
    assert other.get("order-unknown") is None


def test_an_unexpected_intent_state_is_a_transient_error(
    gateway: StripeGateway, fake: FakeStripeHTTP
) -> None:
    a = gateway.authorize(
        idempotency_key="o6", token="pm_card_visa", amount_cents=1, currency="EUR"
    )
    fake.intents[a.reference]["status"] = "processing"
    with pytest.raises(GatewayError, match="unexpected state processing") as failed:
        gateway.get("o6")
    assert failed.value.transient
