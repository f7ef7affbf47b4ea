"""Drop cached products when catalog events arrive: Kafka shop.catalog.v1 → DEL product:{sku}.

The API deletes the key itself after a write, but a reader on another replica may refill it with
the old row between that delete and the commit. This consumer deletes the key again once the
committed change is on Kafka, so no replica serves a stale product for longer than the relay and
consumer lag. It is a plain consumer group: run several and Kafka shares the partitions. Offsets
are committed after the deletes (at least once); deleting twice is harmless.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from shoplake.catalog import product_cache_key
from shoplake.config import Settings
from shoplake.events import CloudEvent, topic_for

log = logging.getLogger(__name__)

GROUP_ID = "shoplake-cache-invalidator"
CATALOG_TOPIC = topic_for("catalog")
POLL_TIMEOUT_MS = 500


def sku_of(record: ConsumerRecord) -> str | None:
    """The sku an event is about: the envelope's subject, else the Kafka key."""
    try:
        return CloudEvent.from_json(record.value).subject
    except (ValidationError, ValueError, TypeError):
        if record.key:
            return bytes(record.key).decode(errors="replace")
        log.warning("cache invalidator: skipped an unreadable record at offset %s", record.offset)
        return None


def make_consumer(settings: Settings, group_id: str, from_beginning: bool) -> KafkaConsumer:
    return KafkaConsumer(
        CATALOG_TOPIC,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        client_id="shoplake-cache-invalidator",
    )


def _consume(consumer: KafkaConsumer, client: redis.Redis) -> int:
    """One poll: delete the keys of its events, then commit; the number of events handled.

    A Redis error propagates before the commit, so the events are consumed again."""
    batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
    skus = [sku for records in batches.values() for record in records if (sku := sku_of(record))]
    handled = sum(len(records) for records in batches.values())
    if skus:
        client.delete(*(product_cache_key(sku) for sku in sorted(set(skus))))
    if handled:
        consumer.commit()
    return handled


def run(
    settings: Settings,
    stop_after_idle_s: float,
    *,
    group_id: str = GROUP_ID,
    from_beginning: bool = False,
    max_run_s: float = 300.0,
) -> int:
    """Consume until no event arrived for `stop_after_idle_s` (or `max_run_s` passed); the
    number of catalog events handled. The idle clock starts once partitions are assigned."""
    consumer = make_consumer(settings, group_id, from_beginning)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    handled = 0
    began = time.monotonic()
    last_activity: float | None = None
    try:
        while time.monotonic() - began < max_run_s:
            count = _consume(consumer, client)
            handled += count
            now = time.monotonic()
            if count or (last_activity is None and consumer.assignment()):
                last_activity = now
            if last_activity is not None and now - last_activity >= stop_after_idle_s:
                break
    finally:
        consumer.close()
        client.close()
    return handled


def run_forever(settings: Settings, stop: threading.Event, *, group_id: str = GROUP_ID) -> None:
    """Consume until `stop` is set, reconnecting with backoff when Kafka or Redis fail."""
    backoff = 0.5
    while not stop.is_set():
        consumer: KafkaConsumer | None = None
        client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
        try:
            consumer = make_consumer(settings, group_id, from_beginning=False)
            while not stop.is_set():
                _consume(consumer, client)
                backoff = 0.5
        except Exception as exc:  # keep the invalidator alive through broker restarts
            log.warning("cache invalidator: %s; retrying in %.1fs", exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)
        finally:
            if consumer is not None:
                consumer.close()
            client.close()
