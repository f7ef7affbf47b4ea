"""Inbound supplier orders: purchase orders, suppliers' ship notices and receipts into stock.

Each receipt also moves the stock ledger (StockReceived, from inventory); these facts say what
was ordered from whom, what the supplier announced and what arrived against which order.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register


class PurchaseOrderLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)
    unit_cost_cents: int = Field(ge=0, le=MAX_CENTS)


class UnitsOfSku(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)


class _PurchaseOrderEvent(EventData):
    domain = "inbound"
    key_field = "purchase_order_id"

    purchase_order_id: str
    supplier_id: str


@register
class PurchaseOrderCreated(_PurchaseOrderEvent):
    fact = "PurchaseOrderCreated"

    number: str
    warehouse_id: str
    currency: str
    lines: list[PurchaseOrderLine]
    total_cost_cents: int = Field(ge=0, le=MAX_CENTS)
    expected_arrival: date | None = None


@register
class PurchaseOrderSubmitted(_PurchaseOrderEvent):
    """Sent to the supplier: from now on the supplier sees it."""

    fact = "PurchaseOrderSubmitted"

    expected_arrival: date | None = None


@register
class PurchaseOrderAcknowledged(_PurchaseOrderEvent):
    """The supplier accepted the order (and may have given its own arrival date)."""

    fact = "PurchaseOrderAcknowledged"

    expected_arrival: date | None = None


@register
class ShipNoticeSent(_PurchaseOrderEvent):
    """The supplier announced a shipment against the order (an advance ship notice)."""

    fact = "ShipNoticeSent"

    ship_notice_id: str
    reference: str
    expected_arrival: date
    shipped_lines: list[UnitsOfSku]
    carrier: str | None = None
    tracking_number: str | None = None


@register
class PurchaseOrderReceived(_PurchaseOrderEvent):
    """Units arrived against the order into a warehouse; `status` is the order's after it."""

    fact = "PurchaseOrderReceived"

    receipt_id: str
    reference: str
    warehouse_id: str
    received_lines: list[UnitsOfSku]
    status: str


@register
class PurchaseOrderClosed(_PurchaseOrderEvent):
    """No more units will be received; `units_short` were ordered and never arrived."""

    fact = "PurchaseOrderClosed"

    units_short: int = Field(ge=0, le=INT32_MAX)
