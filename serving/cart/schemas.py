"""Request and response models of carts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from serving.catalog.schemas import Sku
from serving.pricing.schemas import (
    MAX_QUANTITY,
    AdjustmentPublic,
    CouponCode,
    CouponPublic,
    SkippedPublic,
)

# An anonymous cart's token: opaque, random, URL-safe (what secrets.token_urlsafe makes).
CART_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,128}$"


class CartItemAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY, description="units to add to the line")


class CartItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="the line's new quantity")


class CouponApply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: CouponCode


class CartLinePublic(BaseModel):
    sku: str
    quantity: int
    available: bool
    unavailable_reason: str | None = Field(
        None, description="unknown | draft | discontinued | out_of_stock | mixed_currency"
    )
    name: str | None = None
    unit_price_cents: int | None = Field(None, description="the live catalog price")
    subtotal_cents: int = 0
    discount_cents: int = 0
    total_cents: int = Field(0, description="0 for an unavailable line: it is not priced")
    adjustments: list[AdjustmentPublic] = Field(default_factory=list)


class CartPublic(BaseModel):
    version: int = Field(description="bumped by every change; sent back as the ETag")
    cart_token: str | None = Field(
        None, description="the anonymous cart's token; send it back as X-Cart-Token"
    )
    currency: str
    lines: list[CartLinePublic]
    item_count: int
    cart_adjustments: list[AdjustmentPublic]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    coupon: CouponPublic | None = None
    not_applied: list[SkippedPublic] = Field(default_factory=list)
    expires_in_s: int | None = Field(None, description="seconds until an untouched cart expires")
