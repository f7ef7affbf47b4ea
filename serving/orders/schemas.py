"""Orders as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from serving.orders.domain import OrderStatus
from serving.pricing.schemas import ShippingPublic


class OrderLinePublic(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    discount_cents: int
    total_cents: int


class StatusChangePublic(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None
    at: datetime


class PaymentPublic(BaseModel):
    gateway: str
    reference: str
    status: str
    amount_cents: int
    currency: str
    refunded_cents: int = Field(0, description="given back so far (refunds, returns)")


class OrderPublic(BaseModel):
    id: str
    user_id: str
    status: OrderStatus
    currency: str
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    total_cents: int
    coupon_code: str | None
    shipping_address: dict[str, object]
    lines: list[OrderLinePublic]
    created_at: datetime
    updated_at: datetime
    history: list[StatusChangePublic] | None = None
    payment: PaymentPublic | None = None
    shipping: ShippingPublic | None = Field(None, description="how shipping was priced")
    archived: bool = Field(False, description="moved to the order archive: read-only")


class OrdersPage(BaseModel):
    items: list[OrderPublic]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class StatusAdvance(BaseModel):
    status: OrderStatus = Field(description="FULFILLING, SHIPPED or DELIVERED")
    reason: str | None = Field(None, max_length=500)


class CancelRequest(BaseModel):
    reason: str | None = Field(None, max_length=500)
