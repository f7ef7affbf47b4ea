"""Behaviour events: no OLTP state, sent straight to Kafka, keyed by the client's session."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shoplake.events.base import INT32_MAX, EventData, register


class _BehaviourEvent(EventData):
    domain = "behaviour"
    key_field = "session_id"

    session_id: str = Field(min_length=1, max_length=128)
    user_id: str | None = None
    channel: str = Field("web", max_length=32)


@register
class ProductViewed(_BehaviourEvent):
    fact = "ProductViewed"

    sku: str = Field(min_length=1, max_length=64)
    referrer: str | None = Field(None, max_length=512)


@register
class SearchPerformed(_BehaviourEvent):
    fact = "SearchPerformed"

    query: str = Field(max_length=512)
    filters: dict[str, Any] = Field(default_factory=dict)
    result_count: int = Field(ge=0, le=INT32_MAX)
    zero_results: bool


@register
class RecommendationClicked(_BehaviourEvent):
    fact = "RecommendationClicked"

    sku: str = Field(min_length=1, max_length=64)
    slot: int = Field(ge=0, le=INT32_MAX)
    placement: str = Field(max_length=64)
    model_version: str | None = Field(None, max_length=64)


@register
class RecommendationShown(_BehaviourEvent):
    """A list the API answered; its id lets clicks and purchases be attributed in the marts."""

    fact = "RecommendationShown"

    recommendation_id: str = Field(min_length=1, max_length=64)
    placement: str = Field(max_length=64, description="home, product or cart")
    anchor_sku: str | None = Field(None, max_length=64, description="the page's product")
    skus: list[str] = Field(default_factory=list, max_length=100)
    strategy: str = Field(max_length=32, description="personal, popular, similar, memory...")
    model_version: str | None = Field(None, max_length=64)
