"""Every kind renders from its template files; HTML is escaped, text is not; a gap is an error."""

from __future__ import annotations

from typing import Any

import pytest
from jinja2 import UndefinedError

from shoplake.notifications.contract import Kind
from streaming.notifications.render import environment, render

CONTEXT: dict[str, Any] = {
    "user_name": "Ada",
    "order_id": "o-1",
    "total": "45.99 EUR",
    "amount": "10.00 EUR",
    "order_link": "https://shop.example.com/orders/o-1",
    "shipment_id": "s-1",
    "carrier": "DHL",
    "tracking_number": "1Z999",
    "tracking_link": "https://shop.example.com/orders/o-1/tracking",
    "return_id": "r-1",
    "sku": "SKU-1",
    "product_name": "Stride trail runner",
    "old_price": "99.99 EUR",
    "new_price": "79.99 EUR",
    "product_link": "https://shop.example.com/products/SKU-1",
    "login_link": "https://shop.example.com/login",
    "reset_link": "https://shop.example.com/password-reset",
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_its_four_parts(kind: Kind) -> None:
    message = render(kind, CONTEXT)
    assert message.subject and "\n" not in message.subject
    assert "Ada" in message.text
    assert message.html.startswith("<!DOCTYPE html>") and "Ada" in message.html
    assert 0 < len(message.short) <= 200 and "\n" not in message.short
    assert message.link is not None and message.link.startswith("https://shop.example.com/")


def test_html_is_escaped_and_text_is_not() -> None:
    hostile = {**CONTEXT, "product_name": 'Mug <script>alert(1)</script> & "Co"'}
    message = render(Kind.BACK_IN_STOCK, hostile)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html and "&#34;Co&#34;" in message.html
    assert '<script>alert(1)</script> & "Co"' in message.text


def test_a_variable_the_context_lacks_is_an_error_not_a_hole() -> None:
    incomplete = {k: v for k, v in CONTEXT.items() if k != "tracking_link"}
    with pytest.raises(UndefinedError):
        render(Kind.ORDER_SHIPPED, incomplete)


def test_the_templates_are_files_of_the_package() -> None:
    names = set(environment().list_templates())
    assert "base.html" in names
    for kind in Kind:
        assert {
            f"{kind.value}.{part}" for part in ("subject.txt", "txt", "html", "short.txt")
        } <= names
