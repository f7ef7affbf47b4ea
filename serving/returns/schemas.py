"""Returns as shoppers and ops see them, and their requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from serving.catalog.schemas import Sku
from serving.inventory.schemas import WAREHOUSE_PATTERN
from serving.returns.domain import Disposition, ReturnStatus

MAX_LINES = 100


class ReturnLineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=1_000)


class ReturnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=MAX_LINES)
    reason: str = Field(min_length=1, max_length=500)


class ReceiveLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    disposition: Disposition = Disposition.RESTOCK
    warehouse_id: Annotated[str, StringConstraints(pattern=WAREHOUSE_PATTERN)] | None = Field(
        None, description="where restocked units go; default: the warehouse they shipped from"
    )


class ReceiveRequest(BaseModel):
    """How the units came back; lines not named are restocked where they shipped from."""

    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiveLine] = Field(default_factory=list, max_length=MAX_LINES)


class ReturnLinePublic(BaseModel):
    sku: str
    quantity: int
    disposition: Disposition | None
    warehouse_id: str | None


class ReturnPublic(BaseModel):
    id: str
    order_id: str
    status: ReturnStatus
    reason: str
    lines: list[ReturnLinePublic]
    currency: str
    refund_cents: int | None = Field(description="set once refunded")
    created_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None
    window_closes_at: datetime | None = Field(
        None, description="returns of this order are accepted until then"
    )


class ReturnsPage(BaseModel):
    items: list[ReturnPublic]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")
