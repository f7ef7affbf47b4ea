"""Request and response models of inbound supplier orders."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from serving.accounts.schemas import Password
from serving.catalog.schemas import Currency, Sku
from serving.inbound.domain import PoStatus
from serving.inventory.schemas import WarehouseId
from shoplake.events.base import INT32_MAX, MAX_CENTS

SUPPLIER_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{1,31}$"
SupplierCode = Annotated[str, StringConstraints(pattern=SUPPLIER_CODE_PATTERN)]
Reference = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")]
# A purchase order of more lines than this is a catalogue, not an order: the import is for that.
MAX_LINES = 500


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: SupplierCode = Field(description="short unique code, e.g. ACME")
    name: Text200
    contact_email: EmailStr
    phone: Phone | None = None


class SupplierUpdate(BaseModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Text200 | None = None
    contact_email: EmailStr | None = None
    phone: Phone | None = None
    active: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulled = [
                k for k in ("name", "contact_email", "active") if k in data and data[k] is None
            ]
            if nulled:
                raise ValueError(f"{', '.join(nulled)} cannot be null")
        return data


class SupplierPublic(BaseModel):
    id: str
    code: str
    name: str
    contact_email: str
    phone: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class SuppliersPage(BaseModel):
    items: list[SupplierPublic]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class SupplierUserCreate(BaseModel):
    """A new account of the `supplier` role, acting for this supplier."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    display_name: str = Field("", max_length=100)


class SupplierUserPublic(BaseModel):
    user_id: str
    email: str
    display_name: str
    supplier_id: str


class LineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=INT32_MAX)
    unit_cost_cents: int = Field(ge=0, le=MAX_CENTS)


class PurchaseOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: uuid.UUID
    warehouse_id: WarehouseId
    currency: Currency = "EUR"
    expected_arrival: date | None = None
    notes: str = Field("", max_length=2000)
    lines: list[LineCreate] = Field(min_length=1, max_length=MAX_LINES)


class Units(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=INT32_MAX)


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference = Field(description="the delivery note: booking it twice books it once")
    warehouse_id: WarehouseId | None = Field(None, description="default: the order's warehouse")
    lines: list[Units] = Field(min_length=1, max_length=MAX_LINES)


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_arrival: date | None = Field(None, description="the supplier's arrival date")


class ShipNoticeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Reference = Field(description="the supplier's shipment number")
    expected_arrival: date
    carrier: Text200 | None = None
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    lines: list[Units] = Field(min_length=1, max_length=MAX_LINES)


class LinePublic(BaseModel):
    sku: str
    quantity_ordered: int
    quantity_received: int
    unit_cost_cents: int


class ReceiptPublic(BaseModel):
    id: str
    reference: str
    warehouse_id: str
    lines: list[Units]
    received_at: datetime


class ShipNoticePublic(BaseModel):
    id: str
    reference: str
    expected_arrival: date
    carrier: str | None
    tracking_number: str | None
    lines: list[Units]
    created_at: datetime


class PurchaseOrderPublic(BaseModel):
    id: str
    number: str = Field(description="e.g. PO-000042")
    supplier_id: str
    warehouse_id: str
    currency: str
    status: PoStatus
    expected_arrival: date | None
    overdue: bool = Field(description="expected before today and still awaiting units")
    notes: str
    lines: list[LinePublic]
    total_cost_cents: int
    units_remaining: int
    receipts: list[ReceiptPublic]
    ship_notices: list[ShipNoticePublic]
    created_at: datetime
    submitted_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None


class PurchaseOrderSummary(BaseModel):
    id: str
    number: str
    supplier_id: str
    warehouse_id: str
    status: PoStatus
    expected_arrival: date | None
    overdue: bool
    total_cost_cents: int
    units_remaining: int
    created_at: datetime


class PurchaseOrdersPage(BaseModel):
    items: list[PurchaseOrderSummary]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class UnitsOnOrder(BaseModel):
    """Units ordered and not yet received on the open orders of one SKU x warehouse."""

    sku: str
    warehouse_id: str
    units: int


class ReceiptResult(BaseModel):
    replayed: bool = Field(description="this delivery note was booked before: nothing changed")
    receipt: ReceiptPublic
    purchase_order: PurchaseOrderPublic
