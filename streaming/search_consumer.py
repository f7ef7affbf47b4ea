"""The search consumer: catalog and stock events → Elasticsearch, near real time.

A Kafka consumer group on `shop.catalog.v1` and `shop.inventory.v1`. Each poll is one batch:
events are parsed against the contract (unreadable ones go to `shop.deadletter.v1` with the
reason), grouped by SKU, folded in order onto the documents the index holds (one mget), and
written back with one bulk request guarded by the product version (`external_gte`), into the
live index and into the one a reindex is building. Offsets are committed after the bulk
request, so a crash replays the batch; replayed or reordered events are ignored by the version
(catalog) and the per-warehouse event time (stock).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import ValidationError

from shoplake.config import Settings
from shoplake.events import DEADLETTER_TOPIC, CloudEvent, EventData, UnknownEventType, topic_for
from shoplake.events.base import parse_data
from shoplake.kafka import consume
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.documents import IndexedProduct, Outcome, apply_event

log = logging.getLogger(__name__)

GROUP_ID = "shoplake-search-indexer"
TOPICS = (topic_for("catalog"), topic_for("inventory"))
POLL_TIMEOUT_MS = 200


@dataclass
class ConsumerStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0
    batches: int = 0

    @property
    def applied(self) -> int:
        return self.outcomes[Outcome.APPLIED]


@dataclass(frozen=True)
class Parsed:
    record: ConsumerRecord
    event: CloudEvent
    data: EventData


def parse(record: ConsumerRecord) -> Parsed | tuple[str, str, CloudEvent | None]:
    """The event, or (reason, detail, envelope if readable) for the dead-letter topic."""
    try:
        event = CloudEvent.from_json(record.value)
    except (ValidationError, ValueError, TypeError) as exc:
        return "unreadable", str(exc).splitlines()[0], None
    try:
        data = parse_data(event)
    except UnknownEventType:
        return "unknown_type", event.type, event
    except ValidationError as exc:
        return "schema_mismatch", str(exc).splitlines()[0], event
    return Parsed(record, event, data)


def dead_letter_value(
    record: ConsumerRecord, reason: str, detail: str, event: CloudEvent | None
) -> bytes:
    """The bronze dead-letter shape: the original value wrapped with the reason."""
    original = bytes(record.value).decode(errors="replace") if record.value else None
    return json.dumps(
        {
            "reason": reason,
            "detail": detail,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "event_id": event.id if event else None,
            "event_type": event.type if event else None,
            "original": original,
            "consumer": GROUP_ID,
        }
    ).encode()


class SearchIndexer:
    """Applies batches of records to the index; Kafka-free so tests can feed it directly."""

    def __init__(
        self, index: ProductIndex, producer: KafkaProducer | None, deadletter_topic: str
    ) -> None:
        self.index = index
        self.producer = producer
        self.deadletter_topic = deadletter_topic
        self.stats = ConsumerStats()

    def _dead_letter(
        self, record: ConsumerRecord, reason: str, detail: str, event: CloudEvent | None
    ) -> None:
        self.stats.dead_letters += 1
        log.warning("search consumer: dead letter (%s) at offset %s", reason, record.offset)
        if self.producer is not None:
            self.producer.send(
                self.deadletter_topic,
                key=record.key,
                value=dead_letter_value(record, reason, detail, event),
            )

    def apply(self, records: list[ConsumerRecord], refresh: bool = False) -> None:
        """Fold the batch's events onto the indexed documents and write them in one bulk."""
        events: list[Parsed] = []
        for record in records:
            parsed = parse(record)
            if isinstance(parsed, Parsed):
                events.append(parsed)
            else:
                self._dead_letter(record, *parsed)
        if events:
            self._write(events, refresh)
        if self.producer is not None and self.stats.dead_letters:
            self.producer.flush(timeout=10)
        self.stats.batches += 1

    def _write(self, events: list[Parsed], refresh: bool) -> None:
        skus = {p.event.subject for p in events}
        state: dict[str, IndexedProduct] = self.index.get_many(skus)
        changed: dict[str, IndexedProduct] = {}
        last_event: dict[str, Parsed] = {}
        for parsed in events:  # Kafka order per partition = per SKU order
            sku = parsed.event.subject
            outcome, new_state = apply_event(state.get(sku), parsed.event, parsed.data)
            self.stats.outcomes[outcome] += 1
            if outcome == Outcome.MISSING:
                log.info("search consumer: %s for unknown sku %s skipped", parsed.data.fact, sku)
            if new_state is not None:
                state[sku] = changed[sku] = new_state
                last_event[sku] = parsed
        if not changed:
            return
        result = self.index.write(changed.values(), self.index.write_indices(), refresh=refresh)
        self.stats.outcomes["version_conflict"] += result.conflicts
        for sku, reason in result.rejected.items():
            parsed = last_event[sku]
            self._dead_letter(parsed.record, "index_rejected", reason, parsed.event)


def make_consumer(
    settings: Settings, group_id: str, topics: tuple[str, ...], from_beginning: bool = True
) -> KafkaConsumer:
    """A new group starts at the beginning (a fresh index gets the whole history) unless told
    to start at the end (benchmarks on an index already built by a reindex)."""
    return KafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        max_poll_records=settings.search_consumer_batch,
        client_id="shoplake-search-consumer",
    )


def make_dead_letter_producer(settings: Settings) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        client_id="shoplake-search-deadletters",
    )


def _poll_once(consumer: KafkaConsumer, indexer: SearchIndexer) -> int:
    batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS)
    records = [record for part in batches.values() for record in part]
    if records:
        indexer.apply(records)
        consumer.commit()  # only after the bulk request: at least once
    return len(records)


def run(
    settings: Settings,
    *,
    stop_after_idle_s: float | None = None,
    stop: threading.Event | None = None,
    group_id: str = GROUP_ID,
    topics: tuple[str, ...] = TOPICS,
    alias: str | None = None,
    deadletter_topic: str = DEADLETTER_TOPIC,
    client: Elasticsearch | None = None,
    from_beginning: bool = True,
) -> ConsumerStats:
    """Consume until `stop` is set, or until idle for `stop_after_idle_s` once assigned.

    Elasticsearch or Kafka failures are retried with backoff; the batch is not committed until
    it is written, so nothing is lost."""
    es = client or make_client(settings, timeout_s=30)
    index = ProductIndex(es, alias or settings.search_alias)
    index.ensure()
    producer = make_dead_letter_producer(settings)
    indexer = SearchIndexer(index, producer, deadletter_topic)
    try:
        consume(
            lambda: make_consumer(settings, group_id, topics, from_beginning),
            lambda consumer: _poll_once(consumer, indexer),
            name="search consumer",
            stop=stop or threading.Event(),
            stop_after_idle_s=stop_after_idle_s,
        )
    finally:
        producer.close(timeout=5)
        if client is None:
            es.close()
    return indexer.stats


def stats_summary(stats: ConsumerStats) -> dict[str, Any]:
    return {**{str(k): v for k, v in stats.outcomes.items()}, "dead_letters": stats.dead_letters}
