"""The event contract: the CloudEvents envelope, topic names, and one model per event type.

Importing this package registers every event type (see `REGISTRY`).
"""

from shoplake.events import (  # noqa: F401 - imported for their @register side effect
    behaviour,
    cart,
    catalog,
    inventory,
    order,
    payment,
    user,
    wishlist,
)
from shoplake.events.base import REGISTRY, EventData, UnknownEventType, model_for, parse_data
from shoplake.events.envelope import CloudEvent
from shoplake.events.topics import DEADLETTER_TOPIC, topic_for, topic_for_type

DOMAINS: tuple[str, ...] = tuple(sorted({model.domain for model in REGISTRY.values()}))
DOMAIN_TOPICS: tuple[str, ...] = tuple(topic_for(domain) for domain in DOMAINS)

__all__ = [
    "DEADLETTER_TOPIC",
    "DOMAINS",
    "DOMAIN_TOPICS",
    "REGISTRY",
    "CloudEvent",
    "EventData",
    "UnknownEventType",
    "model_for",
    "parse_data",
    "topic_for",
    "topic_for_type",
]
