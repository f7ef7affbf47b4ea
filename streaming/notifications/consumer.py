"""The notification consumer: a Kafka consumer group on the topics the rules read, and the
sender, in one loop (`shoplake stream notifications`).

Each poll is one batch: records are parsed (unreadable ones and events a rule cannot read go
to the dead-letter topic with the reason), the batch's deliveries are added to the ledger in
one transaction, and only then are the offsets committed — at least once into the ledger,
whose unique key makes a replay add nothing. Then one round of sending. Any failure (Kafka,
Postgres) closes the consumer and retries with backoff; uncommitted records come again.
Run as many as you like: Kafka shares the partitions, the ledger shares the sending.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import Engine

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import DEADLETTER_TOPIC, CloudEvent, topic_for_type
from shoplake.kafka import consume
from shoplake.notifications.contract import Channel
from shoplake.resilience import CircuitBreaker
from streaming.notifications.channels import ChannelAdapter, make_channels
from streaming.notifications.directory import SqlDirectory
from streaming.notifications.intake import Intake
from streaming.notifications.ledger import SqlLedger
from streaming.notifications.rules import RULES
from streaming.notifications.sender import CONSUMER, RetryPolicy, Sender

log = logging.getLogger(__name__)

GROUP_ID = CONSUMER
# Every topic a rule reads; Kafka creates the ones no service has written to yet.
TOPICS: tuple[str, ...] = tuple(sorted({topic_for_type(t) for t in RULES}))
POLL_TIMEOUT_MS = 200
# An event older than this when first read is not worth a message (see Intake).
MAX_EVENT_AGE_S = 24 * 3600.0


@dataclass
class NotifierStats:
    intake: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    batches: int = 0

    def summary(self) -> dict[str, int]:
        return {**self.intake, **self.sent, "dead_letters": self.dead_letters}


class KafkaDeadLetters:
    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def publish(self, key: str, value: dict[str, Any]) -> None:
        self.producer.send(self.topic, key=key.encode(), value=json.dumps(value).encode()).get(
            timeout=15
        )


def _record_letter(
    record: ConsumerRecord, reason: str, detail: str, event: CloudEvent | None
) -> dict[str, Any]:
    return {
        "reason": reason,
        "detail": detail,
        "consumer": CONSUMER,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "event_id": event.id if event else None,
        "event_type": event.type if event else None,
        "original": bytes(record.value).decode(errors="replace") if record.value else None,
    }


class Notifier:
    """One consumer's intake and sender; Kafka-free so tests can feed it events directly."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        dead_letters: KafkaDeadLetters,
        channels: dict[Channel, ChannelAdapter],
        *,
        max_event_age_s: float = MAX_EVENT_AGE_S,
    ) -> None:
        self.ledger = SqlLedger(engine, lease_s=settings.notify_lease_s)
        self.intake = Intake(
            SqlDirectory(engine),
            self.ledger,
            storefront_url=settings.notify_storefront_url,
            max_event_age_s=max_event_age_s,
        )
        breakers = {
            channel: CircuitBreaker(
                failures_to_open=settings.notify_breaker_failures,
                cooldown_s=settings.notify_breaker_open_s,
                name=f"notifications-{channel.value}",
            )
            for channel in channels
        }
        policy = RetryPolicy(
            settings.notify_max_attempts,
            settings.notify_retry_backoff_s,
            settings.notify_retry_max_backoff_s,
        )
        self.dead_letters = dead_letters
        self.sender = Sender(
            self.ledger,
            channels,
            dead_letters,
            policy=policy,
            breakers=breakers,
            batch=settings.notify_batch,
        )
        self.stats = NotifierStats()

    def take(self, records: Sequence[ConsumerRecord]) -> None:
        """Add the deliveries of a batch of records; dead-letter what cannot be read."""
        events: list[CloudEvent] = []
        record_of: dict[str, ConsumerRecord] = {}
        for record in records:
            try:
                event = CloudEvent.from_json(record.value)
            except (ValidationError, ValueError, TypeError) as exc:
                self._letter(record, "unreadable", str(exc).splitlines()[0], None)
                continue
            events.append(event)
            record_of.setdefault(event.id, record)
        result = self.intake.take(events)
        self.stats.intake.update(result.outcomes)
        for rejected in result.rejected:
            self._letter(
                record_of[rejected.event.id], rejected.reason, rejected.detail, rejected.event
            )
        self.stats.batches += 1

    def _letter(
        self, record: ConsumerRecord, reason: str, detail: str, event: CloudEvent | None
    ) -> None:
        log.warning("notifications: dead letter (%s) at offset %s", reason, record.offset)
        self.dead_letters.publish(
            event.id if event else "", _record_letter(record, reason, detail, event)
        )
        self.stats.dead_letters += 1

    def send(self) -> int:
        settled = self.sender.run_once()
        self.stats.sent = Counter(self.sender.stats)
        return settled

    def close(self) -> None:
        self.sender.close()


def make_consumer(settings: Settings, group_id: str, topics: Sequence[str]) -> KafkaConsumer:
    """A new group starts at the beginning of the topics: events older than a day are skipped
    (MAX_EVENT_AGE_S), so a first deployment mails nobody about the past."""
    return KafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.notify_batch,
        client_id="shoplake-notifications",
    )


def make_dead_letters(settings: Settings, topic: str) -> tuple[KafkaProducer, KafkaDeadLetters]:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        client_id="shoplake-notifications-deadletters",
    )
    return producer, KafkaDeadLetters(producer, topic)


ChannelsFactory = Callable[[Settings], dict[Channel, ChannelAdapter]]


def run(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    stop_after_idle_s: float | None = None,
    group_id: str = GROUP_ID,
    topics: Sequence[str] = TOPICS,
    deadletter_topic: str = DEADLETTER_TOPIC,
    make_channels_for: ChannelsFactory = make_channels,
    max_event_age_s: float = MAX_EVENT_AGE_S,
) -> NotifierStats:
    """Consume and send until `stop` is set, or (with `stop_after_idle_s`) until no record
    arrived and nothing was settled for that long once partitions are assigned."""
    engine = make_engine(settings, pool_size=4)
    producer, dead_letters = make_dead_letters(settings, deadletter_topic)
    notifier = Notifier(
        settings,
        engine,
        dead_letters,
        make_channels_for(settings),
        max_event_age_s=max_event_age_s,
    )

    def step(consumer: KafkaConsumer) -> int:
        polled = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
        records = [record for part in polled.values() for record in part]
        if records:
            notifier.take(records)
            consumer.commit()  # only once the deliveries are in the ledger
        return len(records) + notifier.send()

    try:
        consume(
            lambda: make_consumer(settings, group_id, topics),
            step,
            name="notifications",
            stop=stop or threading.Event(),
            stop_after_idle_s=stop_after_idle_s,
        )
    finally:
        notifier.close()
        producer.close(timeout=5)
        engine.dispose()
    return notifier.stats
