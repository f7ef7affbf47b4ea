"""Shipments: one parcel per warehouse an order's units were sold from, from creation to the door.

A shipment is created when its order is confirmed (the fulfilment consumer), packed with a
carrier's tracking number and a label, shipped (handed to the carrier) and delivered as the
carrier's scans say; one that never left is cancelled with its order.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from shoplake.events.base import INT32_MAX, EventData, register


class ShipmentLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=INT32_MAX)


class _ShipmentEvent(EventData):
    domain = "shipment"
    key_field = "shipment_id"

    shipment_id: str
    order_id: str
    warehouse_id: str


@register
class ShipmentCreated(_ShipmentEvent):
    fact = "ShipmentCreated"

    lines: list[ShipmentLine]
    unit_count: int = Field(ge=1, le=INT32_MAX)


@register
class ShipmentPacked(_ShipmentEvent):
    fact = "ShipmentPacked"

    carrier: str
    tracking_number: str
    weight_g: int = Field(ge=1, le=INT32_MAX)
    length_mm: int = Field(ge=1, le=INT32_MAX)
    width_mm: int = Field(ge=1, le=INT32_MAX)
    height_mm: int = Field(ge=1, le=INT32_MAX)


@register
class ShipmentShipped(_ShipmentEvent):
    fact = "ShipmentShipped"

    carrier: str
    tracking_number: str
    tracking_url: str


@register
class ShipmentDelivered(_ShipmentEvent):
    fact = "ShipmentDelivered"

    carrier: str
    tracking_number: str
    attempts: int = Field(ge=1, le=INT32_MAX, description="delivery attempts it took")


@register
class ShipmentCancelled(_ShipmentEvent):
    fact = "ShipmentCancelled"

    reason: str
