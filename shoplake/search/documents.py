"""Product → search document, and catalog/stock events folded into a document.

The document keeps the product's whole state in `_source`, so a partial event (a price, a
discontinuation, a stock level) can be applied to what the index holds. Catalog events carry
the product `version`: an event older than the document is ignored (replays, reordering).
Stock events carry absolute levels per warehouse; one older than the warehouse's last level
is ignored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shoplake.events.base import EventData
from shoplake.events.catalog import (
    PriceChanged,
    ProductCreated,
    ProductDiscontinued,
    ProductUpdated,
)
from shoplake.events.envelope import CloudEvent
from shoplake.events.inventory import (
    BackInStock,
    OutOfStock,
    StockAdjusted,
    StockReceived,
    StockReleased,
    StockReserved,
)
from shoplake.search.facets import FACETABLE_ATTRIBUTES
from shoplake.search.text import fold

STOCK_EVENTS = (StockReserved, StockReleased, StockAdjusted, StockReceived, OutOfStock, BackInStock)
CATALOG_EVENTS = (ProductCreated, ProductUpdated, PriceChanged, ProductDiscontinued)


class StockLevel(BaseModel):
    available: int
    at: datetime


class IndexedProduct(BaseModel):
    """The state a search document is built from (and read back from `_source`)."""

    sku: str
    name: str
    description: str = ""
    brand: str
    category_path: list[str]
    price_cents: int
    currency: str
    status: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    image_urls: list[str] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime
    popularity: float = 0.0
    rating: float | None = None
    # None: no stock event seen yet, so the product counts as available (the inventory
    # service is a later issue; until then availability comes from stock events alone).
    stock: dict[str, StockLevel] | None = None

    @property
    def in_stock(self) -> bool:
        if self.stock is None:
            return True
        return sum(level.available for level in self.stock.values()) > 0

    def document(self) -> dict[str, Any]:
        """The `_source` of the product's search document."""
        path = self.category_path
        facet_values = {
            name: str(self.attributes[name])
            for name in FACETABLE_ATTRIBUTES
            if self.attributes.get(name) is not None
        }
        searchable = " ".join(
            [self.name, self.brand, *path, self.description, *facet_values.values()]
        )
        doc: dict[str, Any] = {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "search_text": fold(searchable),
            "brand": self.brand,
            "category_path": "/".join(path),
            "category_paths": ["/".join(path[: depth + 1]) for depth in range(len(path))],
            "category_l1": path[0] if path else None,
            "category_l2": path[1] if len(path) > 1 else None,
            "facets": facet_values,
            "attributes": self.attributes,
            "price_cents": self.price_cents,
            "currency": self.currency,
            "status": self.status,
            "in_stock": self.in_stock,
            "stock": None
            if self.stock is None
            else {w: level.model_dump(mode="json") for w, level in self.stock.items()},
            "rating": self.rating,
            "popularity": self.popularity,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
            "image_urls": self.image_urls,
        }
        if self.status == "active":
            doc["suggest"] = {
                "input": suggest_inputs(self.name, self.brand, path),
                "weight": max(1, min(int(self.popularity) + 1, 2**31 - 1)),
            }
        return doc

    @classmethod
    def from_document(cls, source: dict[str, Any]) -> IndexedProduct:
        fields = {name: source.get(name) for name in cls.model_fields if name in source}
        fields["category_path"] = [p for p in str(source.get("category_path", "")).split("/") if p]
        return cls.model_validate(fields)


def suggest_inputs(name: str, brand: str, path: list[str]) -> list[str]:
    """Completion inputs: the name, the name without its brand, its word suffixes, the brand
    and the category leaf, so "runner" and "trail" both complete to the product's name."""
    words = name.split(" in ")[0].split()  # "Stride pro trail runner in blue": drop the colour
    inputs = [name]
    inputs += [" ".join(words[start:]) for start in range(1, min(len(words), 5))]
    inputs += [brand, *path[-1:]]
    seen: dict[str, None] = {}
    for text in inputs:
        cleaned = text.strip()[:60]
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


class Outcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # older than what the index holds: ignored
    MISSING = "missing"  # a partial event for a product the index does not hold
    IGNORED = "ignored"  # a type search does not use


def apply_event(
    current: IndexedProduct | None, event: CloudEvent, data: EventData
) -> tuple[Outcome, IndexedProduct | None]:
    """The document after the event (pure): the outcome and the new state (None: unchanged)."""
    if isinstance(data, ProductCreated | ProductUpdated):
        if current is not None and current.version > data.version:
            return Outcome.STALE, None
        keep: dict[str, Any] = {}
        if current is not None:
            keep = {
                "created_at": current.created_at,
                "popularity": current.popularity,
                "rating": current.rating,
                "stock": current.stock,
            }
        state = IndexedProduct.model_validate(
            {
                "created_at": event.time,
                **data.model_dump(exclude={"changed"}),
                "updated_at": event.time,
                **keep,
            }
        )
        return Outcome.APPLIED, state
    if isinstance(data, PriceChanged | ProductDiscontinued):
        if current is None:
            return Outcome.MISSING, None
        if current.version > data.version:
            return Outcome.STALE, None
        changes: dict[str, Any] = {"version": data.version, "updated_at": event.time}
        if isinstance(data, PriceChanged):
            changes |= {"price_cents": data.new_price_cents, "currency": data.currency}
        else:
            changes["status"] = "discontinued"
        return Outcome.APPLIED, current.model_copy(update=changes)
    if isinstance(data, STOCK_EVENTS):
        if current is None:
            return Outcome.MISSING, None
        stock = dict(current.stock or {})
        seen = stock.get(data.warehouse_id)
        if seen is not None and seen.at > event.time:
            return Outcome.STALE, None
        stock[data.warehouse_id] = StockLevel(
            available=max(0, data.on_hand - data.reserved), at=event.time
        )
        return Outcome.APPLIED, current.model_copy(update={"stock": stock})
    return Outcome.IGNORED, None
