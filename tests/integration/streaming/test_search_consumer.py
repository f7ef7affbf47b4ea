"""The search consumer over real Kafka and Elasticsearch: events applied in order, a replayed
old event ignored, bad records to the dead-letter topic with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from shoplake.config import Settings
from shoplake.events.base import EventData
from shoplake.events.catalog import (
    PriceChanged,
    ProductCreated,
    ProductDiscontinued,
    ProductUpdated,
)
from shoplake.events.inventory import BackInStock, OutOfStock
from shoplake.search.adapter import ProductIndex
from streaming.search_consumer import run

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def product(fact: type[ProductCreated | ProductUpdated], sku: str, version: int, name: str) -> Any:
    return fact(
        sku=sku,
        version=version,
        name=name,
        brand="Stride",
        category_path=["shoes", "running"],
        price_cents=9999,
        currency="EUR",
        status="active",
        attributes={"color": "blue", "size": "42"},
    )


def _dead_letters(settings: Settings, topic: str, expected: int) -> list[dict[str, object]]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, consumer_timeout_ms=5000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        values = []
        for record in consumer:
            values.append(json.loads(record.value))
            if len(values) >= expected:
                break
        return values
    finally:
        consumer.close()


def test_events_applied_in_order_replays_ignored_bad_ones_dead_lettered(
    settings: Settings, product_index: ProductIndex, unique: str
) -> None:
    topic, deadletters = f"test.search.{unique}", f"test.deadletter.{unique}"
    sku, other = f"SHO-RUN-{unique}", f"SHO-RUN-{unique}-2"
    events: list[EventData] = [
        product(ProductCreated, sku, 1, "Stride trail runner in blue"),
        product(ProductUpdated, sku, 2, "Stride featherlight trail runner in blue"),
        PriceChanged(
            sku=sku, version=2, old_price_cents=9999, new_price_cents=7999, currency="EUR"
        ),
        OutOfStock(sku=sku, warehouse_id="w1", on_hand=3, reserved=3),
        product(ProductCreated, sku, 1, "a replayed old state"),  # version 1 < 2: ignored
        product(ProductCreated, other, 1, "Stride racing flat in blue"),
        BackInStock(sku=other, warehouse_id="w1", on_hand=4, reserved=0),
        ProductDiscontinued(sku=other, version=2),
    ]
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    for n, data in enumerate(events):
        event = data.to_event("/test", time=T0 + timedelta(seconds=n))
        producer.send(topic, key=event.subject.encode(), value=event.to_json())
    producer.send(topic, key=b"junk", value=b"{not json")
    bad_type = {**json.loads(events[0].to_event("/test").to_json()), "type": "shop.catalog.Nope.v1"}
    producer.send(topic, key=sku.encode(), value=json.dumps(bad_type).encode())
    producer.flush()
    producer.close()

    stats = run(
        settings,
        stop_after_idle_s=1.5,
        group_id=f"test-search-{unique}",
        topics=(topic,),
        alias=product_index.alias,
        deadletter_topic=deadletters,
    )

    assert stats.outcomes["applied"] == 7 and stats.outcomes["stale"] == 1
    product_index.refresh()
    docs = product_index.get_many([sku, other])
    assert docs[sku].name == "Stride featherlight trail runner in blue"
    assert (docs[sku].version, docs[sku].price_cents, docs[sku].in_stock) == (2, 7999, False)
    assert docs[other].status == "discontinued" and docs[other].in_stock is True
    found = product_index.search({"query": {"match": {"search_text": "featherlight"}}})
    assert [hit["_id"] for hit in found["hits"]["hits"]] == [sku]
    letters = _dead_letters(settings, deadletters, 2)
    assert sorted(str(letter["reason"]) for letter in letters) == ["unknown_type", "unreadable"]
    assert all(letter["topic"] == topic for letter in letters)
