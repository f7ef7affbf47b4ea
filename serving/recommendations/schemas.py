"""What the recommendation routes answer."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Context(StrEnum):
    HOME = "home"
    PRODUCT = "product"
    CART = "cart"


class RecommendedProduct(BaseModel):
    sku: str
    score: float
    reason: str = Field(description="why it is here: bought_with, popular_in, because_you_viewed…")
    reason_text: str = Field(description="the reason in words, e.g. 'bought with Trail runner'")
    about: str | None = Field(None, description="the SKU or category the reason refers to")


class RecommendationsPublic(BaseModel):
    recommendation_id: str = Field(description="quote it in RecommendationClicked events")
    context: str
    strategy: str = Field(description="personal, similar, bought_together, popular, memory…")
    publication: str | None = Field(None, description="the published lists it was read from")
    model_version: str | None = None
    items: list[RecommendedProduct]
