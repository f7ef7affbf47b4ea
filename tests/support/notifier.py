"""The notification consumer under test: a topic of the test's own that events are produced
to, consumers of fresh groups run on it until idle, its dead letters read back; users with
preferences; events as services emit them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine

from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from shoplake.config import Settings
from shoplake.events import CloudEvent
from shoplake.events.base import EventData
from shoplake.events.order import OrderConfirmed
from shoplake.notifications.tables import notification_preferences
from streaming.notifications.consumer import NotifierStats, run

PASSWORD = "correct horse battery"


class Topic:
    def __init__(self, settings: Settings, unique: str) -> None:
        self.settings = settings
        self.name = f"test.notify.{unique}"
        self.deadletters = f"test.notify-deadletter.{unique}"
        self.unique = unique
        self.groups = 0

    def send(self, *events: CloudEvent) -> None:
        self.send_raw(*((event.subject.encode(), event.to_json()) for event in events))

    def send_raw(self, *records: tuple[bytes, bytes]) -> None:
        """Records as given (key, value), readable or not."""
        producer = KafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, acks="all"
        )
        for key, value in records:
            producer.send(self.name, key=key, value=value)
        producer.flush()
        producer.close()

    def consume(self, settings: Settings | None = None, **options: Any) -> NotifierStats:
        """One consumer of a new group (so it reads the topic from its start) until idle."""
        self.groups += 1
        options.setdefault("stop_after_idle_s", 2.0)
        return run(
            settings or self.settings,
            topics=(self.name,),
            group_id=f"test-notify-{self.unique}-{self.groups}",
            deadletter_topic=self.deadletters,
            **options,
        )

    def dead_letters(self, expected: int) -> list[dict[str, Any]]:
        """The test's dead letters once `expected` have come (or all there are after 5 s)."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, consumer_timeout_ms=5000
        )
        try:
            parts = consumer.partitions_for_topic(self.deadletters) or set()
            if not parts:
                return []
            partitions = [TopicPartition(self.deadletters, p) for p in parts]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            letters: list[dict[str, Any]] = []
            for record in consumer:
                letters.append(json.loads(record.value))
                if expected and len(letters) >= expected:
                    break
            return letters
        finally:
            consumer.close()


def make_user(engine: Engine, **preferences: Any) -> tuple[str, str]:
    email = f"notify-{uuid.uuid4().hex[:10]}@example.com"
    with engine.begin() as conn:
        user = accounts.register(
            conn, UserRegister(email=email, password=PASSWORD, display_name="Ada")
        )
        if preferences:
            conn.execute(notification_preferences.insert().values(user_id=user.id, **preferences))
    return user.id, email


def fresh(data: EventData) -> CloudEvent:
    return data.to_event("/test", time=datetime.now(UTC))


def confirmed(user_id: str, total: int = 4599) -> CloudEvent:
    order_id = str(uuid.uuid4())
    return fresh(
        OrderConfirmed(order_id=order_id, user_id=user_id, total_cents=total, currency="EUR")
    )
