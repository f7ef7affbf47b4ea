"""Typed event payloads: one pydantic model per event type, registered by its CloudEvents type."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from shoplake.events.envelope import CloudEvent
from shoplake.events.topics import topic_for

SCHEMA_BASE = "https://shoplake.dev/schemas/events/"
# Bounds every integer field declares, so that each value fits the lake's typed columns
# (int / bigint) and survives JSON readers that hold numbers as doubles.
INT32_MAX = 2**31 - 1
MAX_CENTS = 2**53


class UnknownEventType(LookupError):
    """An envelope whose `type` no model is registered for."""


class EventData(BaseModel):
    """The `data` of one event type. Subclasses name their domain, fact and key field.

    Readers ignore fields they do not know, so adding an optional field never breaks them;
    removing, retyping or adding a required field does (tests/unit/shoplake/test_event_schemas.py).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    domain: ClassVar[str]
    fact: ClassVar[str]
    schema_version: ClassVar[int] = 1
    key_field: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        return f"shop.{cls.domain}.{cls.fact}.v{cls.schema_version}"

    @classmethod
    def topic(cls) -> str:
        return topic_for(cls.domain)

    @classmethod
    def schema_id(cls) -> str:
        return f"{SCHEMA_BASE}{cls.event_type()}.json"

    def key(self) -> str:
        """The aggregate id: the Kafka key and the CloudEvents subject."""
        return str(getattr(self, self.key_field))

    def to_event(
        self, source: str, *, event_id: str | None = None, time: datetime | None = None
    ) -> CloudEvent:
        fields: dict[str, Any] = {
            "source": source,
            "type": self.event_type(),
            "subject": self.key(),
            "dataschema": self.schema_id(),
            "data": self.model_dump(mode="json"),
        }
        if event_id is not None:
            fields["id"] = event_id
        if time is not None:
            fields["time"] = time
        return CloudEvent.model_validate(fields)


REGISTRY: dict[str, type[EventData]] = {}

E = TypeVar("E", bound=type[EventData])


def register(cls: E) -> E:
    """Class decorator: make the model the one for its event type."""
    event_type = cls.event_type()
    if event_type in REGISTRY and REGISTRY[event_type] is not cls:
        raise ValueError(f"event type {event_type} declared twice")
    REGISTRY[event_type] = cls
    return cls


def model_for(event_type: str) -> type[EventData]:
    try:
        return REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def parse_data(event: CloudEvent) -> EventData:
    """The typed payload of an envelope; UnknownEventType or pydantic.ValidationError otherwise."""
    return model_for(event.type).model_validate(event.data)
