"""Search answers: a page of hits, facet counts, and autocomplete suggestions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shoplake.search.query import SearchSort

__all__ = [
    "FacetValue",
    "Facets",
    "PriceBucket",
    "SearchHit",
    "SearchPage",
    "SearchSort",
    "Suggestions",
]


class SearchHit(BaseModel):
    sku: str
    name: str
    brand: str
    category_path: list[str]
    price_cents: int
    currency: str
    in_stock: bool
    image_url: str | None = None
    score: float | None = None


class FacetValue(BaseModel):
    value: str
    count: int


class PriceBucket(BaseModel):
    key: str
    from_cents: int | None = None
    to_cents: int | None = Field(None, description="exclusive")
    count: int


class Facets(BaseModel):
    brand: list[FacetValue] = Field(default_factory=list)
    category: list[FacetValue] = Field(default_factory=list)
    price: list[PriceBucket] = Field(default_factory=list)
    attributes: dict[str, list[FacetValue]] = Field(default_factory=dict)


class SearchPage(BaseModel):
    query: str
    total: int
    page: int
    size: int
    items: list[SearchHit]
    facets: Facets


class Suggestions(BaseModel):
    query: str
    suggestions: list[str]
