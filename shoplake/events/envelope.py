"""The CloudEvents 1.0 JSON envelope that every shoplake event travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EVENT_TYPE_PATTERN = r"^shop\.[a-z][a-z0-9_]*\.[A-Z][A-Za-z0-9]*\.v[0-9]+$"


def _now() -> datetime:
    return datetime.now(UTC)


class CloudEvent(BaseModel):
    """One event: CloudEvents 1.0 attributes plus `dataschema`, with `data` as a JSON object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    source: str = Field(min_length=1, description="who emitted it, e.g. /serving/orders")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="shop.<domain>.<Fact>.v<N>")
    time: datetime = Field(default_factory=_now)
    subject: str = Field(min_length=1, description="the aggregate id; also the Kafka key")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a timezone (RFC 3339)")
        return value.astimezone(UTC)

    @property
    def domain(self) -> str:
        return self.type.split(".")[1]

    def to_json(self) -> bytes:
        # The serializer's own bytes: model_dump_json's wrapper (and a str to encode again)
        # doubles the cost, and every event the platform sends passes here.
        return self.__pydantic_serializer__.to_json(self)

    @classmethod
    def from_json(cls, raw: bytes | str) -> CloudEvent:
        return cls.model_validate_json(raw)
