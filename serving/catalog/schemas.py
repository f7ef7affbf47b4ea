"""Request and response models of the catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from serving.limits import FreeForm, WebUrl

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# A category filter: slugs joined by '/', e.g. 'shoes/running'.
CATEGORY_PATH_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}(/[a-z0-9][a-z0-9-]{0,63}){0,5}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
ProductStatus = Literal["draft", "active", "discontinued"]
ProductSort = Literal["newest", "price_asc", "price_desc", "name"]


class ProductReplace(BaseModel):
    """PUT: every field but the SKU."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    brand: str = Field(min_length=1, max_length=100)
    category_path: list[Slug] = Field(min_length=1, max_length=6)
    price_cents: int = Field(ge=0, le=100_000_000)
    currency: Currency = "EUR"
    attributes: FreeForm = Field(default_factory=dict)
    image_urls: list[WebUrl] = Field(default_factory=list, max_length=20)
    status: ProductStatus = "active"


class ProductCreate(ProductReplace):
    """POST: a new product, named by its SKU."""

    sku: Sku


class ProductUpdate(BaseModel):
    """PATCH: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    brand: str | None = Field(None, min_length=1, max_length=100)
    category_path: list[Slug] | None = Field(None, min_length=1, max_length=6)
    price_cents: int | None = Field(None, ge=0, le=100_000_000)
    currency: Currency | None = None
    attributes: FreeForm | None = None
    image_urls: list[WebUrl] | None = Field(None, max_length=20)
    status: ProductStatus | None = None

    @model_validator(mode="after")
    def _no_explicit_nulls(self) -> ProductUpdate:
        """`null` would mean "erase", and no product field may be erased."""
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        return self


class ProductPublic(BaseModel):
    """What every other domain (pricing, cart, wishlist, search) reads of a product."""

    sku: str
    name: str
    description: str
    brand: str
    category_path: list[str]
    price_cents: int
    currency: str
    attributes: dict[str, Any]
    image_urls: list[str]
    status: ProductStatus
    version: int
    created_at: datetime
    updated_at: datetime


class ProductsPage(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None = None


class CategoryNode(BaseModel):
    path: str
    name: str
    depth: int
    children: list[CategoryNode] = Field(default_factory=list)
