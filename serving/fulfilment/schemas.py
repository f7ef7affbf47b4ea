"""Shipments as ops and shoppers see them, and the ops requests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from serving.fulfilment.domain import ShipmentStatus
from serving.orders.domain import OrderStatus

MAX_WEIGHT_G = 70_000  # what one parcel may weigh
MAX_SIDE_MM = 3_000


class ShipmentLinePublic(BaseModel):
    sku: str
    name: str
    quantity: int


class ScanPublic(BaseModel):
    seq: int
    status: ShipmentStatus
    location: str
    at: datetime


class ShipmentPublic(BaseModel):
    id: str
    order_id: str
    warehouse_id: str
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    attempts: int
    lines: list[ShipmentLinePublic]
    scans: list[ScanPublic]
    label_url: str | None = Field(None, description="the label PDF, once packed")
    created_at: datetime
    picked_at: datetime | None
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None


class PickTotal(BaseModel):
    sku: str
    name: str
    quantity: int


class Picklist(BaseModel):
    """What to take off the shelves: the shipments waiting in the warehouse, oldest first."""

    warehouse_id: str
    items: list[ShipmentPublic]
    totals: list[PickTotal] = Field(description="units per SKU over this page's shipments")
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class PackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_g: int = Field(ge=1, le=MAX_WEIGHT_G)
    length_mm: int = Field(ge=1, le=MAX_SIDE_MM)
    width_mm: int = Field(ge=1, le=MAX_SIDE_MM)
    height_mm: int = Field(ge=1, le=MAX_SIDE_MM)


class TrackingRun(BaseModel):
    """One poll of the carriers."""

    checked: int = Field(description="shipments asked about")
    scans: int = Field(description="new scans recorded")
    delivered: int = Field(description="shipments delivered by those scans")
    orders_delivered: int
    unreachable: int = Field(description="shipments the carrier did not answer for")


class TrackedShipment(BaseModel):
    id: str
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    lines: list[ShipmentLinePublic]
    scans: list[ScanPublic]
    shipped_at: datetime | None
    delivered_at: datetime | None


class OrderTracking(BaseModel):
    order_id: str
    status: OrderStatus
    archived: bool = False
    shipments: list[TrackedShipment]
