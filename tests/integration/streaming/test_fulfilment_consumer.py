"""The fulfilment consumer over real Kafka and Postgres: an order's OrderConfirmed delivered
twice, and read again from the beginning by a consumer restarted on a new group, creates its
shipments once; a bad record goes to the dead-letter topic and the batch goes on."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine

from serving.app import create_app
from serving.fulfilment.intake import ShipmentIntake
from serving.fulfilment.tables import shipments
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from streaming.fulfilment_consumer import run
from tests.support.api import generous_limits
from tests.support.callers import Caller, register_caller
from tests.support.fakes import FakeGateway, injected_gateway
from tests.support.fulfilment import order_event, split_order


@pytest.fixture(scope="module")
def api_settings(settings: Settings) -> Settings:
    return generous_limits(settings)


@pytest.fixture(scope="module")
def engine(api_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(api_settings, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def admin(client: TestClient, engine: Engine) -> Caller:
    return register_caller(client, engine, Role.ADMIN)


def _count(engine: Engine, order_id: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(shipments.c.order_id == order_id)
            ).scalar_one()
        )


def _dead_letters(settings: Settings, topic: str) -> list[dict[str, object]]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, consumer_timeout_ms=5000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()


def test_a_redelivered_order_confirmed_creates_no_second_shipment(
    client: TestClient, admin: Caller, api_settings: Settings, engine: Engine, unique: str
) -> None:
    with injected_gateway(client, FakeGateway()):
        order = split_order(client, admin, api_settings)
    confirmed = order_event(engine, order.order_id, "OrderConfirmed")
    topic, deadletters = f"test.fulfilment.{unique}", f"test.deadletter.{unique}"
    producer = KafkaProducer(bootstrap_servers=api_settings.kafka_bootstrap_servers, acks="all")
    for _ in range(2):  # the relay published it twice (a retry after a lost ack)
        producer.send(topic, key=order.order_id.encode(), value=confirmed.to_json())
    producer.send(topic, key=b"junk", value=b"{not json")
    producer.flush(timeout=30)
    producer.close()
    intake = ShipmentIntake(engine, api_settings)

    first = run(
        api_settings,
        intake,
        stop_after_idle_s=2.0,
        group_id=f"test-fulfilment-{unique}",
        topics=(topic,),
        deadletter_topic=deadletters,
    )
    assert (first.confirmed, first.shipments_created, first.redelivered) == (2, 2, 1)
    assert first.dead_letters == 1
    assert _count(engine, order.order_id) == 2

    # A consumer restarted on a fresh group reads everything again: nothing new.
    again = run(
        api_settings,
        intake,
        stop_after_idle_s=2.0,
        group_id=f"test-fulfilment-{uuid.uuid4().hex[:8]}",
        topics=(topic,),
        deadletter_topic=deadletters,
    )
    assert (again.confirmed, again.shipments_created, again.redelivered) == (2, 0, 2)
    assert _count(engine, order.order_id) == 2
    (letter,) = _dead_letters(api_settings, deadletters)[:1]
    assert letter["reason"] == "unreadable" and letter["consumer"] == "shoplake-fulfilment"
