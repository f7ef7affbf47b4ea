"""Inventory: every movement of the stock ledger, per SKU and warehouse."""

from __future__ import annotations

from pydantic import Field

from shoplake.events.base import INT32_MAX, EventData, register


class _StockEvent(EventData):
    domain = "inventory"
    key_field = "sku"

    sku: str
    warehouse_id: str
    on_hand: int = Field(ge=0, le=INT32_MAX, description="after the movement")
    reserved: int = Field(ge=0, le=INT32_MAX, description="after the movement")


@register
class StockReserved(_StockEvent):
    fact = "StockReserved"

    quantity: int = Field(ge=1, le=INT32_MAX)
    order_id: str


@register
class StockReleased(_StockEvent):
    fact = "StockReleased"

    quantity: int = Field(ge=1, le=INT32_MAX)
    order_id: str
    reason: str


@register
class StockAdjusted(_StockEvent):
    fact = "StockAdjusted"

    delta: int = Field(ge=-INT32_MAX, le=INT32_MAX)
    reason: str


@register
class StockReceived(_StockEvent):
    fact = "StockReceived"

    quantity: int = Field(ge=1, le=INT32_MAX)
    reference: str | None = None


@register
class OutOfStock(_StockEvent):
    fact = "OutOfStock"


@register
class BackInStock(_StockEvent):
    fact = "BackInStock"
