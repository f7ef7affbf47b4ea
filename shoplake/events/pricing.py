"""Pricing: promotions as administrators set them. The discounts they gave are on the order lines
(`OrderLine.discount_cents`); these facts say which promotion ran where and when, so that the
lake can measure what each one cost and what it sold."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register

PromotionKind = Literal["percentage", "fixed"]
PromotionScope = Literal["sku", "category", "cart"]


class _PromotionEvent(EventData):
    domain = "pricing"
    key_field = "promotion_id"

    promotion_id: str


class _PromotionState(_PromotionEvent):
    """Every field of a promotion, as it stands after the change."""

    name: str = Field(max_length=200)
    kind: PromotionKind
    value: int = Field(
        ge=1, le=MAX_CENTS, description="percentage: basis points (1000 = 10%); fixed: cents"
    )
    currency: str | None = None
    scope: PromotionScope
    scope_values: list[str] = Field(
        default_factory=list, description="SKUs, or category path prefixes like 'shoes/running'"
    )
    starts_at: datetime
    ends_at: datetime | None = None
    coupon_code: str | None = None
    usage_limit: int | None = Field(None, ge=1, le=INT32_MAX)
    stackable: bool = True
    priority: int = Field(0, ge=-INT32_MAX, le=INT32_MAX)
    active: bool = True


@register
class PromotionCreated(_PromotionState):
    fact = "PromotionCreated"


@register
class PromotionUpdated(_PromotionState):
    """The promotion's full state after the change, and which fields changed."""

    fact = "PromotionUpdated"

    changed: list[str] = Field(default_factory=list)


@register
class PromotionDeleted(_PromotionEvent):
    fact = "PromotionDeleted"
