"""Behaviour events as clients send them: the event models of shoplake.events.behaviour plus a
`type`, without `user_id` (the API takes it from the bearer token, never from the body)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from serving.limits import FreeForm
from shoplake.events.base import EventData
from shoplake.events.behaviour import ProductViewed, RecommendationClicked, SearchPerformed

MAX_BATCH = 100


def _refuse_user_id(value: Any) -> None:
    if value is not None:
        raise ValueError("user_id comes from the bearer token; do not send it")


class ProductViewedIn(ProductViewed):
    type: Literal["ProductViewed"]
    user_id: SkipJsonSchema[None] = None

    _no_user_id = field_validator("user_id", mode="before")(_refuse_user_id)


class SearchPerformedIn(SearchPerformed):
    type: Literal["SearchPerformed"]
    user_id: SkipJsonSchema[None] = None
    filters: FreeForm = Field(default_factory=dict)

    _no_user_id = field_validator("user_id", mode="before")(_refuse_user_id)


class RecommendationClickedIn(RecommendationClicked):
    type: Literal["RecommendationClicked"]
    user_id: SkipJsonSchema[None] = None

    _no_user_id = field_validator("user_id", mode="before")(_refuse_user_id)


BehaviourEventIn = Annotated[
    ProductViewedIn | SearchPerformedIn | RecommendationClickedIn, Field(discriminator="type")
]

EVENT_MODELS: dict[str, type[EventData]] = {
    "ProductViewed": ProductViewed,
    "SearchPerformed": SearchPerformed,
    "RecommendationClicked": RecommendationClicked,
}


def to_event_data(item: BehaviourEventIn, user_id: str | None) -> EventData:
    """The event of the contract, with the caller's user id (None when anonymous)."""
    fields = item.model_dump(exclude={"type", "user_id"})
    return EVENT_MODELS[item.type].model_validate({**fields, "user_id": user_id})


class BehaviourBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[BehaviourEventIn] = Field(min_length=1, max_length=MAX_BATCH)


class BehaviourAccepted(BaseModel):
    """How many events were queued for Kafka, and how many were dropped (queue full)."""

    accepted: int
    dropped: int
