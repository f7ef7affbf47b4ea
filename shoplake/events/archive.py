"""The order archive: one event per batch of final orders moved from Postgres to Delta."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register


@register
class OrdersArchived(EventData):
    domain = "archive"
    fact = "OrdersArchived"
    key_field = "batch_id"

    batch_id: str = Field(description="the batch's version, also its Delta transaction version")
    cutoff: datetime = Field(description="orders last changed before this were eligible")
    order_count: int = Field(ge=0, le=INT32_MAX)
    row_count: int = Field(ge=0, le=INT32_MAX, description="rows over every archived table")
    total_cents: int = Field(ge=0, le=MAX_CENTS, description="sum of the orders' totals")
    months: list[str] = Field(description="the order months (YYYY-MM) the batch touched")
