"""Catalog: products and their prices. `version` is the product row's version (ordering guard)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register

ProductStatus = Literal["draft", "active", "discontinued"]


class _ProductEvent(EventData):
    domain = "catalog"
    key_field = "sku"

    sku: str
    version: int = Field(ge=1, le=INT32_MAX)


class _ProductState(_ProductEvent):
    """Every field of a product, as it stands after the change."""

    name: str
    description: str = ""
    brand: str
    category_path: list[str]
    price_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str
    status: ProductStatus
    attributes: dict[str, Any] = Field(default_factory=dict)
    image_urls: list[str] = Field(default_factory=list)


@register
class ProductCreated(_ProductState):
    fact = "ProductCreated"


@register
class ProductUpdated(_ProductState):
    """The product's full state after the change, and which fields changed."""

    fact = "ProductUpdated"

    changed: list[str] = Field(default_factory=list)


@register
class PriceChanged(_ProductEvent):
    fact = "PriceChanged"

    old_price_cents: int = Field(ge=0, le=MAX_CENTS)
    new_price_cents: int = Field(ge=0, le=MAX_CENTS)
    currency: str


@register
class ProductDiscontinued(_ProductEvent):
    fact = "ProductDiscontinued"
