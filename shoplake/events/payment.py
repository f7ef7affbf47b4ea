"""Payments: gateway outcomes. Only tokens and references, never card data."""

from __future__ import annotations

from pydantic import Field

from shoplake.events.base import MAX_CENTS, EventData, register


class _PaymentEvent(EventData):
    domain = "payment"
    key_field = "order_id"

    payment_id: str
    order_id: str
    amount_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str
    gateway: str


@register
class PaymentAuthorized(_PaymentEvent):
    fact = "PaymentAuthorized"


@register
class PaymentDeclined(_PaymentEvent):
    fact = "PaymentDeclined"

    reason: str


@register
class PaymentCaptured(_PaymentEvent):
    fact = "PaymentCaptured"


@register
class PaymentVoided(_PaymentEvent):
    fact = "PaymentVoided"


@register
class PaymentRefunded(_PaymentEvent):
    fact = "PaymentRefunded"
