"""Carts (Redis state): lines added and removed, and the hand-over to checkout."""

from __future__ import annotations

from pydantic import Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register


class _CartEvent(EventData):
    domain = "cart"
    key_field = "cart_id"

    cart_id: str
    user_id: str | None = None


@register
class CartItemAdded(_CartEvent):
    fact = "CartItemAdded"

    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX, description="units added by this change")
    unit_price_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str


@register
class CartItemRemoved(_CartEvent):
    fact = "CartItemRemoved"

    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX, description="units removed by this change")


@register
class CartCheckedOut(_CartEvent):
    fact = "CartCheckedOut"

    order_id: str
    item_count: int = Field(ge=1, le=INT32_MAX)
