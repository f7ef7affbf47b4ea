"""Request and response models of pricing: promotions (admin) and quotes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from serving.catalog.schemas import Currency, Sku
from serving.pricing.engine import CouponStatus, SkipReason
from serving.pricing.shipping import ShippingRule

CouponCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$"
    ),
]
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A category path prefix: slugs joined by '/', e.g. 'shoes/running'.
CATEGORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}(/[a-z0-9][a-z0-9-]{0,63}){0,5}$")
PromotionKind = Literal["percentage", "fixed"]
PromotionScope = Literal["sku", "category", "cart"]

MAX_SCOPE_VALUES = 500
MAX_QUANTITY = 99
MAX_LINES = 100


class PromotionFields(BaseModel):
    """Every field of a promotion, with the rules that tie them together."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: PromotionKind
    value: int = Field(
        gt=0,
        le=100_000_000,
        description="percentage: basis points (1000 = 10%, at most 10000); fixed: minor units",
    )
    currency: Currency | None = Field(None, description="required for fixed, absent otherwise")
    scope: PromotionScope
    scope_values: list[str] = Field(
        default_factory=list,
        max_length=MAX_SCOPE_VALUES,
        description="SKUs (scope sku), category path prefixes like 'shoes/running' (scope "
        "category), nothing (scope cart)",
    )
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    coupon_code: CouponCode | None = None
    usage_limit: int | None = Field(None, gt=0, le=100_000_000)
    stackable: bool = True
    priority: int = Field(0, ge=-1000, le=1000)
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PromotionFields:
        if self.kind == "percentage" and self.value > 10_000:
            raise ValueError("a percentage is at most 10000 basis points (100%)")
        if self.kind == "fixed" and self.currency is None:
            raise ValueError("a fixed amount needs a currency")
        if self.kind == "percentage" and self.currency is not None:
            raise ValueError("a percentage takes no currency")
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.usage_limit is not None and self.coupon_code is None:
            raise ValueError("a usage limit needs a coupon code")
        if self.scope == "cart" and self.scope_values:
            raise ValueError("a cart promotion takes no scope_values")
        if self.scope != "cart" and not self.scope_values:
            raise ValueError(f"a {self.scope} promotion needs scope_values")
        pattern = SKU_PATTERN if self.scope == "sku" else CATEGORY_PATTERN
        bad = [v for v in self.scope_values if not pattern.fullmatch(v)]
        if bad:
            raise ValueError(f"not valid for scope {self.scope}: {bad[:5]}")
        if len(set(self.scope_values)) != len(self.scope_values):
            raise ValueError("scope_values repeat a value")
        return self


class PromotionCreate(PromotionFields):
    pass


class PromotionUpdate(BaseModel):
    """PATCH: only the fields sent change; the result must still be a valid promotion."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: PromotionKind | None = None
    value: int | None = Field(None, gt=0, le=100_000_000)
    currency: Currency | None = None
    scope: PromotionScope | None = None
    scope_values: list[str] | None = Field(None, max_length=MAX_SCOPE_VALUES)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    coupon_code: CouponCode | None = None
    usage_limit: int | None = Field(None, gt=0, le=100_000_000)
    stackable: bool | None = None
    priority: int | None = Field(None, ge=-1000, le=1000)
    active: bool | None = None


class PromotionPublic(BaseModel):
    id: str
    name: str
    kind: PromotionKind
    value: int
    currency: str | None
    scope: PromotionScope
    scope_values: list[str]
    starts_at: datetime
    ends_at: datetime | None
    coupon_code: str | None
    usage_limit: int | None
    stackable: bool
    priority: int
    active: bool
    created_at: datetime
    updated_at: datetime
    redemptions: int = Field(0, description="live coupon claims and coupons consumed by orders")


class PromotionsPage(BaseModel):
    items: list[PromotionPublic]
    total: int
    limit: int
    offset: int


class QuoteItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[QuoteItem] = Field(min_length=1, max_length=MAX_LINES)
    coupon_code: CouponCode | None = None
    ship_to_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        None, description="ISO country code: the quote then prices shipping too"
    )


class AdjustmentPublic(BaseModel):
    promotion_id: str
    name: str
    amount_cents: int
    description: str = Field(description="what the promotion promises, e.g. '10.00% off'")


class QuoteLinePublic(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    adjustments: list[AdjustmentPublic]


class SkippedPublic(BaseModel):
    promotion_id: str
    name: str
    reason: SkipReason


class CouponPublic(BaseModel):
    code: str
    status: CouponStatus
    promotion_id: str | None = None


class ShippingPublic(BaseModel):
    """What shipping costs and why (the rate table of `SHOPLAKE_SHIPPING_RATES`)."""

    country: str
    zone: str = Field(description="the rate table entry used: the country, or * for the rest")
    weight_g: int
    amount_cents: int
    rule: ShippingRule
    description: str


class QuotePublic(BaseModel):
    currency: str
    lines: list[QuoteLinePublic]
    cart_adjustments: list[AdjustmentPublic]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    coupon: CouponPublic | None = None
    not_applied: list[SkippedPublic] = Field(
        default_factory=list, description="promotions that looked relevant but gave nothing"
    )
    priced_at: datetime
    shipping: ShippingPublic | None = Field(None, description="with a `ship_to_country`")
    total_with_shipping_cents: int | None = Field(
        None, description="what the order would cost: total_cents + shipping"
    )
