"""Kafka helpers every layer shares: topics made on demand, and a producer that waits for acks.

The local broker creates a topic on its first write (`auto.create.topics.enable`, three
partitions), so a new domain's topic needs no set-up step; `ensure_topics` makes topics
explicitly where a caller needs its own partition count or the topic before anyone writes (a
consumer that subscribes first). Managed clusters usually disable auto-creation: create
`shop.<domain>.v1` there with the partitions its consumers need.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from shoplake.config import Settings
from shoplake.events import CloudEvent, topic_for


def ensure_topics(settings: Settings, topics: Iterable[str], partitions: int = 3) -> None:
    """Create the topics that do not exist yet (idempotent, safe when several callers race)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(topic, num_partitions=partitions, replication_factor=1)
            for topic in sorted(set(topics) - existing)
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
    finally:
        admin.close()


def produce_events(
    settings: Settings, events: Iterable[CloudEvent], topic: str | None = None
) -> int:
    """Send events keyed by subject (to their domain's topic unless `topic` is given) and wait
    until the broker has acknowledged every one; the number sent."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5
    )
    try:
        futures = [
            producer.send(
                topic or topic_for(event.domain), key=event.subject.encode(), value=event.to_json()
            )
            for event in events
        ]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)
    return len(futures)
