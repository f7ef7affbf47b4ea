"""Request and response models of inventory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shoplake.events.base import INT32_MAX

WAREHOUSE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
WarehouseId = Annotated[str, StringConstraints(pattern=WAREHOUSE_PATTERN)]
Note = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class StockSet(BaseModel):
    """PUT: the units counted on the shelf; recorded as an adjustment by the difference."""

    model_config = ConfigDict(extra="forbid")

    on_hand: int = Field(ge=0, le=INT32_MAX)
    note: Note | None = None


class StockAdjustment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int = Field(ge=-INT32_MAX, le=INT32_MAX, description="signed units; never 0")
    reason: Note


class StockReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=INT32_MAX)
    reference: Note | None = Field(None, description="e.g. the supplier's purchase order")


class StockLevelPublic(BaseModel):
    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    available: int


class WarehouseAvailability(BaseModel):
    warehouse_id: str
    available: int


class StockAvailability(BaseModel):
    """What a shopper may know: units that can be bought, per warehouse and in total.

    An untracked SKU (no stock level anywhere) is sold without stock control: in stock, with
    `available` null."""

    sku: str
    tracked: bool
    in_stock: bool
    available: int | None
    warehouses: list[WarehouseAvailability]


class MovementPublic(BaseModel):
    id: int
    sku: str
    warehouse_id: str
    reason: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    order_id: str | None
    reference: str | None
    note: str | None
    actor_id: str | None
    created_at: datetime


class MovementsPage(BaseModel):
    items: list[MovementPublic]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")
