"""Orders: the checkout saga's facts and the order state machine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register

OrderStatus = Literal[
    "PENDING_PAYMENT",
    "CONFIRMED",
    "FULFILLING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
    "PAYMENT_FAILED",
    "RETURNED",
    "REFUNDED",
]


class OrderLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)
    unit_price_cents: int = Field(ge=0, le=MAX_CENTS)
    discount_cents: int = Field(0, ge=0, le=MAX_CENTS)


class _OrderEvent(EventData):
    domain = "order"
    key_field = "order_id"

    order_id: str


@register
class OrderPlaced(_OrderEvent):
    fact = "OrderPlaced"

    user_id: str
    lines: list[OrderLine]
    subtotal_cents: int = Field(ge=0, le=MAX_CENTS)
    discount_cents: int = Field(0, ge=0, le=MAX_CENTS)
    shipping_cents: int = Field(0, ge=0, le=MAX_CENTS)
    total_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str
    ship_to_country: str | None = None


@register
class OrderConfirmed(_OrderEvent):
    fact = "OrderConfirmed"

    user_id: str
    total_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str


@register
class OrderCancelled(_OrderEvent):
    fact = "OrderCancelled"

    user_id: str
    reason: str


@register
class OrderStatusChanged(_OrderEvent):
    fact = "OrderStatusChanged"

    from_status: OrderStatus
    to_status: OrderStatus
