"""Input the edge refuses: card numbers in disguise, free-form objects too big or too deep,
URLs that are not http(s), common passwords; and which address a caller is counted under."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from serving.accounts.schemas import UserRegister
from serving.catalog.schemas import ProductCreate
from serving.checkout.schemas import CheckoutRequest
from serving.deps import client_ip
from serving.limits import depth
from serving.passwords import is_common
from shoplake.card_numbers import holds_card_number
from shoplake.config import Settings, get_settings

ADDRESS = {"full_name": "A", "line1": "1", "city": "C", "postal_code": "1", "country": "GB"}


@pytest.mark.parametrize(
    "token",
    [
        "tok_4242424242424242",
        "tok_4242_4242_4242_4242",
        "tok_x4111111111111111y",
        "tok_card4242424242424242",
        "tok_4242-4242-4242-4242",
        "tok_378282246310005",  # 15 digits (Amex test card)
    ],
)
def test_a_token_holding_a_card_number_is_refused(token: str) -> None:
    assert holds_card_number(token)
    with pytest.raises(ValidationError):  # by the card check, or the pattern before it
        CheckoutRequest.model_validate({"payment_token": token, "shipping_address": ADDRESS})
    if "-" not in token:  # the pattern lets these through: the card check must catch them
        with pytest.raises(ValidationError, match="card number"):
            CheckoutRequest.model_validate({"payment_token": token, "shipping_address": ADDRESS})


@pytest.mark.parametrize("token", ["tok_ok", "tok_1MqL3x2eZvKYlo2C", "tok_42424242_1234"])
def test_ordinary_tokens_pass(token: str) -> None:
    assert not holds_card_number(token)


def _product(**fields: Any) -> dict[str, Any]:
    return {
        "sku": "SKU-1",
        "name": "n",
        "brand": "b",
        "category_path": ["c"],
        "price_cents": 100,
        **fields,
    }


def test_free_form_attributes_are_bounded_in_size_and_depth() -> None:
    settings = get_settings()
    too_big = {"blob": "x" * settings.free_form_max_bytes}
    with pytest.raises(ValidationError, match="bytes as JSON"):
        ProductCreate.model_validate(_product(attributes=too_big))
    nested: dict[str, Any] = {}
    cursor = nested
    for _ in range(settings.free_form_max_depth):
        cursor["a"] = {}
        cursor = cursor["a"]
    assert depth(nested) == settings.free_form_max_depth + 1
    with pytest.raises(ValidationError, match="nested deeper"):
        ProductCreate.model_validate(_product(attributes=nested))
    fine = {"color": "blue", "sizes": [38, 39], "fit": {"width": "wide"}}
    assert ProductCreate.model_validate(_product(attributes=fine)).attributes == fine


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd", "//cdn/x.png"]
)
def test_image_urls_are_http_or_https_only(url: str) -> None:
    with pytest.raises(ValidationError, match="http"):
        ProductCreate.model_validate(_product(image_urls=[url]))
    ok = ProductCreate.model_validate(_product(image_urls=["https://cdn.example.com/a.png"]))
    assert ok.image_urls == ["https://cdn.example.com/a.png"]


def test_common_passwords_are_refused() -> None:
    assert is_common("password123") and is_common(" Qwerty123 ")
    with pytest.raises(ValidationError, match="most common"):
        UserRegister(email="a@example.com", password="password123")
    assert UserRegister(email="a@example.com", password="correct horse battery")


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    default = Settings()
    assert default.trusted_proxies == []
    # Loopback is not trusted by default: a client cannot pick its own bucket.
    assert client_ip(_request("127.0.0.1", "203.0.113.9"), default) == "127.0.0.1"
    behind = Settings(trusted_proxies=["10.0.0.0/8"])
    assert client_ip(_request("10.1.2.3", "203.0.113.9"), behind) == "203.0.113.9"
    # A client's own X-Forwarded-For is the leftmost hop: the proxy appends the real peer.
    assert client_ip(_request("10.1.2.3", "1.1.1.1, 203.0.113.9"), behind) == "203.0.113.9"
    assert client_ip(_request("198.51.100.7", "203.0.113.9"), behind) == "198.51.100.7"
