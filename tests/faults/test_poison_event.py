"""A row the broker refuses for good among good ones (issue 10, finding 1): the good ones
arrive, in order per key; the poison row is set aside with its reason (table, dead-letter
topic, metric, error log), `shoplake outbox dead` lists it and `shoplake outbox retry ID`
sends it once the cause is fixed."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine
from typer.testing import CliRunner

from serving.outbox import DEAD_LETTERS, RELAY_LOCK_ID, OutboxRelay, drain
from shoplake.config import Settings
from shoplake.events import DEADLETTER_TOPIC, CloudEvent
from shoplake.kafka import ensure_topics
from shoplake.outbox import outbox, outbox_dead_letters
from shoplake_cli.main import app


@pytest.fixture
def topic(settings: Settings, unique: str, fault_engine: Engine) -> Iterator[str]:
    name = f"shop.poison{unique}.v1"
    ensure_topics(settings, [name, DEADLETTER_TOPIC], partitions=1)
    yield name
    with fault_engine.begin() as conn:
        conn.execute(outbox.delete().where(outbox.c.topic == name))
        conn.execute(outbox_dead_letters.delete().where(outbox_dead_letters.c.topic == name))


def _insert(engine: Engine, topic: str, key: str, n: int, padding: int = 0) -> tuple[int, str]:
    event = CloudEvent(
        source="/tests",
        type="shop.test.Counted.v1",
        subject=key,
        data={"n": n, "pad": "p" * padding},
    )
    with engine.begin() as conn:
        row_id = conn.execute(
            outbox.insert()
            .values(
                event_id=event.id,
                event_type=event.type,
                topic=topic,
                key=key,
                payload=json.loads(event.to_json()),
            )
            .returning(outbox.c.id)
        ).scalar_one()
    return int(row_id), event.id


def _no_other_relay_leads(engine: Engine) -> None:
    # The test's relay must be the one that meets the poison row (its metric is this process's).
    with engine.connect() as conn:
        free = conn.execute(sa.select(sa.func.pg_try_advisory_lock(RELAY_LOCK_ID))).scalar()
        if free:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(RELAY_LOCK_ID)))
        conn.commit()
    assert free, "another outbox relay leads on this database (a `shoplake serve --relay`?)"


def _consume(
    settings: Settings, topic: str, want: int, timeout_s: float = 30
) -> list[dict[str, object]]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    found: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < want and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            found.extend(json.loads(r.value) for r in records)
    consumer.close()
    return found


def test_a_poison_row_is_set_aside_and_the_rows_behind_it_arrive(
    settings: Settings, fault_engine: Engine, topic: str, caplog: pytest.LogCaptureFixture
) -> None:
    good_before = [_insert(fault_engine, topic, "k", n) for n in range(3)]
    poison_id, poison_event = _insert(fault_engine, topic, "k", 3, padding=1_200_000)
    good_after = [_insert(fault_engine, topic, "k", n) for n in range(4, 8)]
    dead_before = DEAD_LETTERS.labels("too_large")._value.get()

    _no_other_relay_leads(fault_engine)
    relay = OutboxRelay(settings, fault_engine)
    with caplog.at_level(logging.ERROR, logger="serving.outbox"):
        drain(relay, timeout_s=60)

    arrived = _consume(settings, topic, 7)
    assert [e["data"]["n"] for e in arrived] == [0, 1, 2, 4, 5, 6, 7]  # type: ignore[index]
    assert {e["id"] for e in arrived} == {i for _, i in good_before + good_after}
    with fault_engine.connect() as conn:
        dead = conn.execute(
            sa.select(outbox_dead_letters).where(outbox_dead_letters.c.id == poison_id)
        ).one()
        still_pending = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.topic == topic, outbox.c.sent_at.is_(None))
        ).scalar_one()
    assert dead.reason == "too_large" and str(dead.event_id) == poison_event
    assert still_pending == 0
    assert DEAD_LETTERS.labels("too_large")._value.get() == dead_before + 1
    logged = [json.loads(r.getMessage()) for r in caplog.records if "set_aside" in r.getMessage()]
    assert logged and logged[0]["outbox_id"] == poison_id and logged[0]["reason"] == "too_large"
    notices = [
        n
        for n in _consume(settings, DEADLETTER_TOPIC, 10_000, timeout_s=10)
        if n.get("event_id") == poison_event
    ]
    assert notices and notices[0]["reason"] == "outbox_too_large"

    listed = CliRunner().invoke(app, ["outbox", "dead"])
    assert listed.exit_code == 0 and str(poison_id) in listed.output


def test_a_set_aside_row_is_sent_by_retry_once_the_cause_is_fixed(
    settings: Settings, fault_engine: Engine, topic: str
) -> None:
    row_id, event_id = _insert(fault_engine, topic, "r", 1, padding=5_000)
    strict = settings.model_copy(update={"outbox_max_event_bytes": 2_000})  # the "bug"
    _no_other_relay_leads(fault_engine)
    drain(OutboxRelay(strict, fault_engine), timeout_s=60)
    with fault_engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(outbox_dead_letters.c.reason).where(outbox_dead_letters.c.id == row_id)
            ).scalar_one()
            == "too_large"
        )

    runner = CliRunner()
    assert runner.invoke(app, ["outbox", "retry", str(row_id)]).exit_code == 0
    assert runner.invoke(app, ["outbox", "retry", str(row_id)]).exit_code == 1  # gone from there
    drain(OutboxRelay(settings, fault_engine), timeout_s=60)  # the fixed relay
    assert event_id in {e["id"] for e in _consume(settings, topic, 1)}
