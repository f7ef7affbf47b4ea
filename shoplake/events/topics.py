"""Topic names: one topic per domain, `shop.<domain>.v1`, declared here and nowhere else."""

from __future__ import annotations

TOPIC_VERSION = "v1"
DEADLETTER_TOPIC = "shop.deadletter.v1"


def topic_for(domain: str) -> str:
    """The topic that carries every event of a domain."""
    return f"shop.{domain}.{TOPIC_VERSION}"


def topic_for_type(event_type: str) -> str:
    """The topic for an event type `shop.<domain>.<Fact>.v<N>`."""
    parts = event_type.split(".")
    if len(parts) != 4 or parts[0] != "shop":
        raise ValueError(f"not a shoplake event type: {event_type!r}")
    return topic_for(parts[1])
