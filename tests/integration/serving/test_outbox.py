"""The outbox: events commit with their state, and reach Kafka across a Kafka outage."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine

from serving.outbox import OutboxRelay, drain
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent
from shoplake.events.user import UserRegistered
from shoplake.kafka import ensure_topics
from shoplake.outbox import outbox, record
from shoplake.stack import Stack


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings, pool_size=2)
    yield engine
    engine.dispose()


def _insert(engine: Engine, topic: str, keys: list[str], start: int) -> list[str]:
    """Outbox rows for a test-only topic; returns their event ids in insertion order."""
    ids = []
    with engine.begin() as conn:
        for n, key in enumerate(keys, start=start):
            event = CloudEvent(
                source="/tests", type="shop.test.Counted.v1", subject=key, data={"n": n}
            )
            conn.execute(
                outbox.insert().values(
                    event_id=event.id,
                    event_type=event.type,
                    topic=topic,
                    key=key,
                    payload=json.loads(event.to_json()),
                )
            )
            ids.append(event.id)
    return ids


def _consume_all(settings: Settings, topic: str, expected: int) -> list[CloudEvent]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5_000,
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    events: list[CloudEvent] = []
    deadline = time.monotonic() + 60
    while len(events) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=1000).values():
            events.extend(CloudEvent.from_json(r.value) for r in records)
    consumer.close()
    return events


def test_an_event_exists_only_if_its_transaction_committed(engine: Engine) -> None:
    user_id = str(uuid.uuid4())
    data = UserRegistered(user_id=user_id, email="x@example.com", role="customer")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        record(conn, data, "/tests")
        raise RuntimeError("the state change failed")
    with engine.begin() as conn:
        event = record(conn, data, "/tests")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox).where(outbox.c.key == user_id)).mappings().all()
    assert [str(r["event_id"]) for r in rows] == [event.id]
    assert rows[0]["topic"] == "shop.user.v1"
    assert rows[0]["sent_at"] is None


def test_relay_publishes_in_order_per_key_and_marks_sent(
    settings: Settings, engine: Engine, unique: str
) -> None:
    topic = f"shop.test{unique}.v1"
    ensure_topics(settings, [topic], partitions=3)
    ids = _insert(engine, topic, [f"k{i % 4}" for i in range(40)], start=0)
    relay = OutboxRelay(settings, engine)
    assert drain(relay) >= 40

    with engine.connect() as conn:
        unsent = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.event_id.in_(ids), outbox.c.sent_at.is_(None))
        ).scalar()
    assert unsent == 0
    events = _consume_all(settings, topic, 40)
    assert sorted(e.id for e in events) == sorted(ids)
    for key in ("k0", "k1", "k2", "k3"):
        ns = [e.data["n"] for e in events if e.subject == key]
        assert ns == sorted(ns) and len(ns) == 10


@pytest.mark.stack_lifecycle
def test_nothing_is_lost_when_kafka_stops_in_the_middle(
    settings: Settings, engine: Engine, stack: Stack, unique: str
) -> None:
    topic = f"shop.test{unique}.v1"
    ensure_topics(settings, [topic], partitions=2)
    relay = OutboxRelay(settings, engine)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, args=(stop, 1.0), daemon=True)
    kafka = stack.service("kafka")
    try:
        thread.start()
        before = _insert(engine, topic, [f"k{i % 3}" for i in range(30)], start=0)
        deadline = time.monotonic() + 30
        while relay.stats.sent < 30 and time.monotonic() < deadline:
            time.sleep(0.1)

        kafka.stop()
        during = _insert(engine, topic, [f"k{i % 3}" for i in range(30)], start=30)
        deadline = time.monotonic() + 30
        while relay.stats.failures == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert relay.stats.failures > 0, "the relay should have failed while Kafka was down"
        with engine.connect() as conn:
            pending = conn.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.event_id.in_(during), outbox.c.sent_at.is_(None)
                )
            ).scalar()
        assert pending == 30  # nothing marked sent while Kafka was away

        kafka.start(lambda _m: None)
        after = _insert(engine, topic, [f"k{i % 3}" for i in range(30)], start=60)
        deadline = time.monotonic() + 90
        while relay.pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert relay.pending() == 0
    finally:
        stop.set()
        thread.join(30)
        kafka.start(lambda _m: None)

    events = _consume_all(settings, topic, 90)
    # Consumers deduplicate on the event id; what matters is that none is missing.
    assert {e.id for e in events} == set(before + during + after)
    for key in ("k0", "k1", "k2"):
        ns = [e.data["n"] for e in events if e.subject == key]
        assert sorted(set(ns)) == sorted(n for n in range(90) if f"k{n % 3}" == key)
        deduped = list(dict.fromkeys(ns))
        assert deduped == sorted(deduped), f"order broken for {key}"
