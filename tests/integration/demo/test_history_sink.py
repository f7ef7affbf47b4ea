"""The history's sink against the real broker and database: behaviour events reach Kafka as
the live path sends them (same bytes, same key, the partition kafka-python's murmur2 picks),
and outbox events wait in the transaction as the payload the API's outbox would hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from kafka import KafkaConsumer
from kafka.partitioner.default import murmur2

from demo.history.writer import PostgresKafkaSink
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent
from shoplake.kafka import ensure_topics

PARTITIONS = 3


def _event(unique: str, domain: str, n: int) -> CloudEvent:
    return CloudEvent(
        source="/tests/history",
        type=f"shop.{domain}.Thing.v1",
        subject=f"session-{n % 17}-{unique}",
        time=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=n),
        data={"n": n, "name": "Crème brûlée \\ \t tab", "price": 12.5},
    )


def test_sink_sends_behaviour_like_the_live_path_and_buffers_the_outbox(
    settings: Settings, unique: str
) -> None:
    behaviour_topic, orders_topic = f"shop.hb{unique}.v1", f"shop.ho{unique}.v1"
    ensure_topics(settings, [behaviour_topic, orders_topic], partitions=PARTITIONS)
    engine = make_engine(settings, pool_size=1)
    sent = [_event(unique, "behaviour", n) for n in range(300)]
    facts = [_event(unique, "orders", n) for n in range(5)]
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            sink = PostgresKafkaSink(
                driver, settings, {"behaviour": behaviour_topic, "orders": orders_topic}
            )
            for event in sent:
                sink.event(event, outbox=False)
            for event in facts:
                sink.event(event, outbox=True)
            sink.day_done(date(2026, 11, 1), 1)
            sink.flush_kafka()
            with driver.cursor() as cur:
                cur.execute("select event_id, topic, key, payload from history_outbox order by seq")
                buffered = cur.fetchall()
            conn.rollback()  # nothing of this test stays in the database
    finally:
        engine.dispose()

    consumer = KafkaConsumer(
        behaviour_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"test-{unique}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    received = list(consumer)
    consumer.close()

    assert sink.behaviour_events == len(sent) and sink.outbox_rows == len(facts)
    by_id = {event.id: event for event in sent}
    assert sorted(CloudEvent.from_json(m.value).id for m in received) == sorted(by_id)
    for message in received:
        event = by_id[CloudEvent.from_json(message.value).id]
        assert message.value == event.to_json()
        assert message.key == event.subject.encode()
        # The partition the API's kafka-python producer (and the JVM client) would choose.
        assert message.partition == (murmur2(message.key) & 0x7FFFFFFF) % PARTITIONS
    for event in sent[:17]:  # one key, one partition: its events arrive in the order sent
        key = event.subject.encode()
        mine = [CloudEvent.from_json(m.value).data["n"] for m in received if m.key == key]
        assert mine == sorted(mine)

    assert [str(row[0]) for row in buffered] == [event.id for event in facts]
    assert {row[1] for row in buffered} == {orders_topic}
    for (_, _, key, payload), event in zip(buffered, facts, strict=True):
        assert key == event.subject
        assert payload == event.model_dump(mode="json")
