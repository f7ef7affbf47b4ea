"""kill -9 of each part of the platform while a checkout load runs, then a restart of just that
part (issues 10 and 15): the API worker, the relay, Kafka, Redis, Postgres (the postmaster) and
the sandbox gateway; and Elasticsearch, where only search may answer 503.

Whatever dies: no 500 and no answer that is not JSON at any time, 503s only inside the outage
window, no connection lost but those in flight on a killed API worker (their retries with the
same Idempotency-Key answer the same order), every order settled once the sweeper's grace period
has passed, the ledger, the orders and the payments in agreement, no double charge; and, once
all faults are through, outbox = Kafka = bronze = silver for every event they caused."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlalchemy import Engine

from demo.checkout_load import CheckoutLoad
from serving.outbox import OutboxRelay, drain
from serving.security import Role, issue_token
from shoplake.config import Settings
from shoplake.lake import BRONZE_EVENTS, TABLES, counting_table, domain_topic_pattern
from shoplake.outbox import outbox
from shoplake.stack import Stack
from spark_jobs.silver.jobs import run_silver
from streaming.bronze import BronzeJob, start
from tests.support.faults import GRACE_S, ServedApi, problems, restart, settled_books

SLACK_S = 5.0  # after a restart, how long recovery may take (pools, a breaker's cooldown)
FIRST_OUTBOX_ID: list[int] = []
ALL_KEYS: list[str] = []


@dataclass
class Outage:
    killed_at: float
    restored_at: float


def _shopper(settings: Settings) -> Callable[[], dict[str, str]]:
    def make() -> dict[str, str]:
        token, _ = issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")
        return {"Authorization": f"Bearer {token}"}

    return make


def _run(
    served: ServedApi,
    settings: Settings,
    admin: dict[str, str],
    inject: Callable[[CheckoutLoad], Outage],
    *,
    before_s: float = 1.5,
    after_s: float = 3.0,
) -> tuple[CheckoutLoad, Outage]:
    load = CheckoutLoad(
        served.base,
        settings,
        admin=admin,
        shopper_headers=_shopper(settings),
        shoppers=240,
        units=1000,
        concurrency=4,
        patience_s=90,
        sku_prefix="FAULT",
    )
    load.prepare()
    stop = threading.Event()
    runner = threading.Thread(target=lambda: load.run(pace_s=0.15, stop=stop), daemon=True)
    runner.start()
    time.sleep(before_s)
    outage = inject(load)
    time.sleep(after_s)
    stop.set()
    runner.join(180)
    assert not runner.is_alive()
    ALL_KEYS.extend(k for k in load.keys if k in load.record.final)
    return load, outage


def _assert_books(load: CheckoutLoad, engine: Engine, settings: Settings) -> None:
    keys = [k for k in load.keys if k in load.record.final]
    assert keys, "the load checked nobody out"
    time.sleep(GRACE_S)
    found = settled_books(engine, settings, keys, load.sku)
    assert found.pending == 0, found.statuses  # the sweeper settled every order
    assert found.orders_with_two_payments == 0
    assert found.confirmed_without_authorized_payment == 0
    assert found.failed_with_authorized_payment == 0
    assert found.gateway_holds_money == found.confirmed_keys  # no charge without its order
    assert found.reserved == 0
    assert load.units - found.on_hand == len(found.confirmed_keys)  # the ledger agrees
    for key in keys:  # a retry with the same key answers the settled order
        final = load.record.final[key]
        assert final in {201, 200, 402, 409, 422}, (key, final)


@pytest.fixture(autouse=True)
def _first_outbox_id(fault_engine: Engine) -> None:
    if not FIRST_OUTBOX_ID:
        with fault_engine.connect() as conn:
            FIRST_OUTBOX_ID.append(
                int(conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0)
            )


def test_a_killed_api_worker(
    served: ServedApi, settings: Settings, fault_admin: dict[str, str], fault_engine: Engine
) -> None:
    workers_before = served.workers()

    def inject(_load: CheckoutLoad) -> Outage:
        killed_at = time.monotonic()
        killed = served.kill_worker()
        deadline = time.monotonic() + 60
        while (killed in served.workers() or len(served.workers()) < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        return Outage(killed_at, time.monotonic())

    load, outage = _run(served, settings, fault_admin, inject)
    assert len(served.workers()) == len(workers_before) == 2  # the supervisor replaced it
    assert (
        problems(load.record, (outage.killed_at, outage.killed_at), resets_at=outage.killed_at)
        == []
    )
    _assert_books(load, fault_engine, settings)


def test_a_killed_relay(
    served: ServedApi, settings: Settings, fault_admin: dict[str, str], fault_engine: Engine
) -> None:
    def inject(_load: CheckoutLoad) -> Outage:
        killed_at = time.monotonic()
        served.kill_relay()
        time.sleep(2.0)
        served.start_relay()
        return Outage(killed_at, time.monotonic())

    load, outage = _run(served, settings, fault_admin, inject)
    assert problems(load.record, (outage.killed_at, outage.killed_at), resets_at=None) == []
    assert "503" not in load.record.statuses()
    _assert_books(load, fault_engine, settings)


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("postgres", "DATABASE_UNAVAILABLE"),
        ("redis", "CACHE_UNAVAILABLE"),
        ("kafka", None),
        ("sandbox-gateway", "PAYMENT"),
    ],
)
def test_a_killed_dependency(
    served: ServedApi,
    settings: Settings,
    fault_admin: dict[str, str],
    fault_engine: Engine,
    stack: Stack,
    service: str,
    code: str | None,
) -> None:
    cart_owner = _shopper(settings)()
    before: list[Any] = []

    def inject(load: CheckoutLoad) -> Outage:
        if service == "redis":  # a cart written before the crash, flushed by the AOF
            with httpx.Client(base_url=served.base, timeout=10) as http:
                body = {"sku": load.sku, "quantity": 2}
                http.post("/v1/cart/items", json=body, headers=cart_owner).raise_for_status()
                before.extend(http.get("/v1/cart", headers=cart_owner).json()["lines"])
            time.sleep(1.5)  # appendfsync everysec: a second after the write it is on disk
        killed_at = time.monotonic()
        stack.service(service).kill()
        time.sleep(2.0)
        restored_at = restart(stack, service)
        return Outage(killed_at, restored_at)

    after_s = 3.0 if service != "kafka" else 2.0
    load, outage = _run(served, settings, fault_admin, inject, after_s=after_s)
    window = (outage.killed_at, outage.restored_at + SLACK_S)
    assert problems(load.record, window, resets_at=None) == []
    seen = {a.code for a in load.record.attempts if a.status == 503}
    if code is None:
        assert not seen  # the relay waits for Kafka; no checkout needs it
    else:
        assert all(str(c).startswith(code) for c in seen), seen
    # Checkouts work again (the load may have run out of shoppers during a long restart).
    assert load.one_more(_shopper(settings)()) == 201
    if service == "redis":  # the shopper's cart survived the crash
        with httpx.Client(base_url=served.base, timeout=10) as http:
            after = http.get("/v1/cart", headers=cart_owner).json()["lines"]
        assert before and [(x["sku"], x["quantity"]) for x in after] == [
            (x["sku"], x["quantity"]) for x in before
        ]
    served.wait_ready(60)
    _assert_books(load, fault_engine, settings)


def test_elasticsearch_down_makes_search_503_and_nothing_else(
    served: ServedApi,
    settings: Settings,
    fault_admin: dict[str, str],
    fault_engine: Engine,
    stack: Stack,
) -> None:
    searches: list[tuple[float, int]] = []
    stop = threading.Event()

    def read() -> None:
        with httpx.Client(base_url=served.base, timeout=10) as http:
            while not stop.is_set():
                began = time.monotonic()
                status = http.get("/v1/search", params={"q": "lantern"}).status_code
                searches.append((began, status))
                time.sleep(0.1)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def inject(_load: CheckoutLoad) -> Outage:
        killed_at = time.monotonic()
        stack.service("elasticsearch").kill()
        time.sleep(2.0)
        return Outage(killed_at, restart(stack, "elasticsearch"))

    load, outage = _run(served, settings, fault_admin, inject)
    time.sleep(SLACK_S)
    stop.set()
    reader.join(30)
    window = (outage.killed_at, outage.restored_at + SLACK_S)
    assert problems(load.record, window, resets_at=None) == []
    assert "503" not in load.record.statuses()  # checkout never needed search
    during = {s for t, s in searches if window[0] + 1 <= t <= outage.restored_at}
    assert 503 in during
    assert {s for t, s in searches if not window[0] <= t <= window[1]} <= {200}
    assert searches[-1][1] == 200
    _assert_books(load, fault_engine, settings)


def test_outbox_kafka_bronze_and_silver_agree_for_every_event_of_the_faults(
    settings: Settings,
    fault_engine: Engine,
    spark: SparkSession,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert FIRST_OUTBOX_ID and ALL_KEYS, "run with the fault tests above"
    drain(OutboxRelay(settings, fault_engine), timeout_s=120)
    with fault_engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                outbox.c.event_id, outbox.c.event_type, outbox.c.topic, outbox.c.sent_at
            ).where(outbox.c.id > FIRST_OUTBOX_ID[0])
        ).all()
    pattern = re.compile(domain_topic_pattern())
    window = {str(r.event_id): r.event_type for r in rows if pattern.match(r.topic)}
    assert window and all(r.sent_at is not None for r in rows)

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    topics = sorted({r.topic for r in rows if pattern.match(r.topic)})
    partitions = [
        TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    in_kafka: set[str] = set()
    ends = consumer.end_offsets(partitions)
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        for records in consumer.poll(timeout_ms=1000, max_records=5000).values():
            for record in records:
                try:
                    event_id = json.loads(record.value)["id"]
                except (ValueError, KeyError, TypeError):
                    continue
                if event_id in window:
                    in_kafka.add(event_id)
    consumer.close()
    assert in_kafka == set(window)

    root = str(tmp_path_factory.mktemp("fault-lake") / "lake")
    bronze = BronzeJob.from_settings(settings, lake_root=root)
    start(spark, bronze, once=True).awaitTermination()
    run_silver(settings, lake_root=root)
    ids = list(window)
    bronze_ids = {
        r.event_id
        for r in spark.read.format("delta")
        .load(BRONZE_EVENTS.path(root))
        .where(F.col("event_id").isin(ids))
        .select("event_id")
        .collect()
    }
    assert bronze_ids == set(window)
    by_table: dict[str, set[str]] = {}
    for event_id, event_type in window.items():
        table = counting_table(event_type)
        if table is not None:
            by_table.setdefault(table.name, set()).add(event_id)
    for name, expected in by_table.items():
        found = {
            r.event_id
            for r in spark.read.format("delta")
            .load(TABLES[name].path(root))
            .where(F.col("event_id").isin(list(expected)))
            .select("event_id")
            .collect()
        }
        assert found == expected, name
