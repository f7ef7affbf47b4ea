"""Returns: a shopper sends delivered units back, ops receive them (restocked or written off as
damaged), and the refund goes back through the payment gateway once."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register

Disposition = Literal["restock", "write_off"]


class ReturnLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)


class ReceivedLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)
    disposition: Disposition
    warehouse_id: str


class _ReturnEvent(EventData):
    domain = "return"
    key_field = "return_id"

    return_id: str
    order_id: str


@register
class ReturnRequested(_ReturnEvent):
    fact = "ReturnRequested"

    user_id: str
    lines: list[ReturnLine]
    reason: str


@register
class ReturnReceived(_ReturnEvent):
    fact = "ReturnReceived"

    received: list[ReceivedLine]
    restocked_units: int = Field(ge=0, le=INT32_MAX)
    written_off_units: int = Field(ge=0, le=INT32_MAX)


@register
class ReturnRefunded(_ReturnEvent):
    fact = "ReturnRefunded"

    payment_id: str
    amount_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str
