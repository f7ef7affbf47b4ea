"""The fulfilment consumer: order events → shipments, through a handler this layer only knows
by its shape.

A Kafka consumer group on `shop.order.v1`. Each poll is one batch: records are parsed against
the contract (unreadable or mismatched ones go to `shop.deadletter.v1` with the reason and the
batch goes on), OrderConfirmed events ask the handler for the order's shipments, and an order
cancelled or refunded (OrderStatusChanged to CANCELLED or REFUNDED) asks it to cancel what has
not left the warehouse; other order events are skipped. Offsets are committed after the
batch, so a crash replays it (at least once); the handler is idempotent on the event id, so a
replayed or redelivered event creates nothing. A handler failure (the database away) stops
the batch uncommitted and the loop retries with backoff.

The handler is serving's (`serving.fulfilment.intake.ShipmentIntake`): streaming may not
import serving, so the two are joined above both layers (the CLI root, the demo, the tests).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from shoplake.config import Settings
from shoplake.events import DEADLETTER_TOPIC, CloudEvent, UnknownEventType, parse_data, topic_for
from shoplake.events.order import OrderConfirmed, OrderStatusChanged
from shoplake.kafka import consume

log = logging.getLogger(__name__)

GROUP_ID = "shoplake-fulfilment"
ORDER_TOPIC = topic_for("order")
POLL_TIMEOUT_MS = 200
CLOSING = frozenset({"CANCELLED", "REFUNDED"})


class OrderEventsHandler(Protocol):
    """What the consumer asks of fulfilment; each call is idempotent on the event id."""

    def order_confirmed(self, event_id: str, order_id: str) -> int:
        """Make the order's shipments; how many were made (0 for a redelivered event)."""
        ...

    def order_closed(self, event_id: str, order_id: str, reason: str) -> int:
        """Cancel the order's shipments that did not leave; how many were cancelled."""
        ...


@dataclass
class FulfilmentStats:
    records: int = 0
    confirmed: int = 0
    shipments_created: int = 0
    redelivered: int = 0  # OrderConfirmed events that created nothing
    closed: int = 0
    shipments_cancelled: int = 0
    skipped: int = 0  # other order events
    dead_letters: int = 0
    batches: int = 0


def _dead_letter_value(record: ConsumerRecord, reason: str, detail: str) -> bytes:
    original = bytes(record.value).decode(errors="replace") if record.value else None
    return json.dumps(
        {
            "reason": reason,
            "detail": detail,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "original": original,
            "consumer": GROUP_ID,
        }
    ).encode()


class FulfilmentFeed:
    """Applies batches of order records to the handler; Kafka-free so tests can feed it."""

    def __init__(
        self,
        handler: OrderEventsHandler,
        producer: KafkaProducer | None,
        deadletter_topic: str = DEADLETTER_TOPIC,
    ) -> None:
        self.handler = handler
        self.producer = producer
        self.deadletter_topic = deadletter_topic
        self.stats = FulfilmentStats()

    def _dead_letter(self, record: ConsumerRecord, reason: str, detail: str) -> None:
        self.stats.dead_letters += 1
        log.warning("fulfilment consumer: dead letter (%s) at offset %s", reason, record.offset)
        if self.producer is not None:
            self.producer.send(
                self.deadletter_topic,
                key=record.key,
                value=_dead_letter_value(record, reason, detail),
            )

    def apply(self, records: list[ConsumerRecord]) -> None:
        for record in records:
            self.stats.records += 1
            try:
                event = CloudEvent.from_json(record.value)
                data = parse_data(event)
            except UnknownEventType as exc:
                self._dead_letter(record, "unknown_type", str(exc))
                continue
            except (ValidationError, ValueError, TypeError) as exc:
                self._dead_letter(record, "unreadable", str(exc).splitlines()[0])
                continue
            if isinstance(data, OrderConfirmed):
                made = self.handler.order_confirmed(event.id, data.order_id)
                self.stats.confirmed += 1
                self.stats.shipments_created += made
                self.stats.redelivered += made == 0
            elif isinstance(data, OrderStatusChanged) and data.to_status in CLOSING:
                reason = f"order {data.to_status.lower()}"
                self.stats.shipments_cancelled += self.handler.order_closed(
                    event.id, data.order_id, reason
                )
                self.stats.closed += 1
            else:
                self.stats.skipped += 1
        if self.producer is not None and self.stats.dead_letters:
            self.producer.flush(timeout=10)
        self.stats.batches += 1


def make_consumer(
    settings: Settings, group_id: str, topics: tuple[str, ...], from_beginning: bool = True
) -> KafkaConsumer:
    """A new group starts at the beginning: no confirmed order may go without its shipments."""
    return KafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        max_poll_records=settings.fulfilment_consumer_batch,
        client_id="shoplake-fulfilment-consumer",
    )


def run(
    settings: Settings,
    handler: OrderEventsHandler,
    *,
    stop_after_idle_s: float | None = None,
    stop: threading.Event | None = None,
    group_id: str = GROUP_ID,
    topics: tuple[str, ...] = (ORDER_TOPIC,),
    deadletter_topic: str = DEADLETTER_TOPIC,
    on_batch: Callable[[FulfilmentStats], None] | None = None,
) -> FulfilmentStats:
    """Consume until `stop` is set, or until idle for `stop_after_idle_s` once assigned."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        client_id="shoplake-fulfilment-deadletters",
    )
    feed = FulfilmentFeed(handler, producer, deadletter_topic)

    def step(consumer: KafkaConsumer) -> int:
        batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
        records = [record for part in batches.values() for record in part]
        if records:
            feed.apply(records)
            consumer.commit()  # only after the handler: at least once
            if on_batch is not None:
                on_batch(feed.stats)
        return len(records)

    try:
        consume(
            lambda: make_consumer(settings, group_id, topics),
            step,
            name="fulfilment consumer",
            stop=stop or threading.Event(),
            stop_after_idle_s=stop_after_idle_s,
        )
    finally:
        producer.close(timeout=5)
    return feed.stats
