"""Kafka: produce and consume through the real broker with kafka-python."""

from __future__ import annotations

from kafka import KafkaConsumer, KafkaProducer

from shoplake.config import Settings
from shoplake.events import CloudEvent
from shoplake.kafka import ensure_topics


def test_produce_then_consume_keeps_keys_values_and_per_key_order(
    settings: Settings, unique: str
) -> None:
    topic = f"shop.test{unique}.v1"
    ensure_topics(settings, [topic], partitions=3)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    sent = [
        CloudEvent(
            source="/tests", type=f"shop.test{unique}.Thing.v1", subject=f"k{i % 2}", data={"n": i}
        )
        for i in range(10)
    ]
    for event in sent:
        producer.send(topic, key=event.subject.encode(), value=event.to_json())
    producer.flush(timeout=30)
    producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"test-{unique}",
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    received = [(msg.key.decode(), CloudEvent.from_json(msg.value)) for msg in consumer]
    consumer.close()

    assert sorted(event.id for _, event in received) == sorted(event.id for event in sent)
    assert all(key == event.subject for key, event in received)
    for key in ("k0", "k1"):
        # One key lives on one partition, so its events arrive in the order they were sent.
        order = [event.data["n"] for k, event in received if k == key]
        assert order == sorted(order)
        assert len(order) == 5
