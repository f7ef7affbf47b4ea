"""The event contract: the CloudEvents envelope, topic names and (per domain) the event models."""

from shoplake.events.envelope import CloudEvent
from shoplake.events.topics import DEADLETTER_TOPIC, topic_for, topic_for_type

__all__ = ["DEADLETTER_TOPIC", "CloudEvent", "topic_for", "topic_for_type"]
