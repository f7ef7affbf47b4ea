"""Request and response models of the wishlist."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from serving.catalog.schemas import ProductPublic, ProductStatus, Sku


class WishlistItemAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku


class ProductSummary(BaseModel):
    """What a wishlist shows of a product: enough for a tile, read from the catalog."""

    name: str
    brand: str
    price_cents: int
    currency: str
    status: ProductStatus
    image_url: str | None

    @classmethod
    def of(cls, product: ProductPublic) -> ProductSummary:
        return cls(
            name=product.name,
            brand=product.brand,
            price_cents=product.price_cents,
            currency=product.currency,
            status=product.status,
            image_url=product.image_urls[0] if product.image_urls else None,
        )


class WishlistItemPublic(BaseModel):
    sku: str
    added_at: datetime
    product: ProductSummary
