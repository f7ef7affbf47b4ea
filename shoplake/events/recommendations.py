"""Recommendation events of the batch side: a new set of lists went live in Redis."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shoplake.events.base import INT32_MAX, EventData, register


@register
class RecommendationsPublished(EventData):
    domain = "recommendations"
    fact = "RecommendationsPublished"
    key_field = "publication"

    publication: str = Field(min_length=1, max_length=64, description="the Redis key space")
    model_name: str = Field(max_length=128)
    model_version: str | None = Field(None, max_length=64)
    run_id: str | None = Field(None, max_length=64)
    users: int = Field(ge=0, le=INT32_MAX)
    items: int = Field(ge=0, le=INT32_MAX)
    categories: int = Field(ge=0, le=INT32_MAX)
    ttl_s: int = Field(ge=0, le=INT32_MAX)
    published_at: datetime
