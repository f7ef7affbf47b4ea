"""Kafka → bronze: valid events land once, bad records are set aside, and a killed stream
resumes without losing or duplicating a single event."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from deltalake import DeltaTable
from kafka import KafkaConsumer, TopicPartition
from pyspark.sql import SparkSession

from demo.loadgen import (
    ShopStory,
    domain_topics,
    event_records,
    produce,
)
from shoplake.config import Settings
from shoplake.kafka import ensure_topics
from shoplake.lake import domain_topic_pattern
from streaming.bronze import BronzeJob, start

REPO = Path(__file__).resolve().parents[3]


def _job(settings: Settings, namespace: str, lake_root: Path) -> BronzeJob:
    return BronzeJob.from_settings(
        settings,
        lake_root=str(lake_root),
        topic_pattern=domain_topic_pattern(namespace),
        deadletter_topic=f"shop.{namespace}.deadletter.v1",
    )


def _delta_rs_ids(path: str) -> list[str]:
    ids: list[str] = (
        DeltaTable(path).to_pyarrow_table(columns=["event_id"]).column("event_id").to_pylist()
    )
    return ids


def _duckdb_count(path: str) -> int:
    with duckdb.connect() as conn:
        conn.register("t", DeltaTable(path).to_pyarrow_dataset())
        row = conn.execute("select count(*) from t").fetchone()
    assert row is not None
    return int(row[0])


def _consume_all(settings: Settings, topic: str, expected: int) -> list[dict[str, object]]:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, consumer_timeout_ms=5000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        values: list[dict[str, object]] = []
        for record in consumer:
            values.append(json.loads(record.value))
            if len(values) >= expected:
                break
        return values
    finally:
        consumer.close()


def test_valid_events_land_once_and_bad_records_go_aside(
    spark: SparkSession, settings: Settings, unique: str, tmp_path: Path
) -> None:
    namespace = f"t{unique}"
    topics = domain_topics(namespace)
    ensure_topics(settings, topics.values(), partitions=2)
    events = list(ShopStory(seed=11).events(400))
    produce(settings, event_records(events, topics))
    bad = [
        (topics["order"], b"k1", b"this is not json"),
        (topics["order"], None, b'{"hello": "world"}'),
        (
            topics["user"],
            b"u",
            b'{"specversion":"1.0","id":"bad-type","source":"/t",'
            b'"type":"shop.user.UserVanished.v1","subject":"u","data":{}}',
        ),
        (
            topics["user"],
            b"u",
            b'{"specversion":"1.0","id":"bad-data","source":"/t",'
            b'"type":"shop.user.UserRegistered.v1","subject":"u","data":{"user_id":"u"}}',
        ),
    ]
    produce(settings, bad)
    job = _job(settings, namespace, tmp_path / "lake")

    start(spark, job, once=True).awaitTermination()

    bronze = spark.read.format("delta").load(job.events_path)
    ids = [row.event_id for row in bronze.select("event_id").collect()]
    assert sorted(ids) == sorted(e.id for e in events)
    assert bronze.where("data is null or event_date is null or kafka_offset is null").count() == 0
    by_type = {r.event_type: r["count"] for r in bronze.groupBy("event_type").count().collect()}
    expected_by_type: dict[str, int] = {}
    for e in events:
        expected_by_type[e.type] = expected_by_type.get(e.type, 0) + 1
    assert by_type == expected_by_type
    # `data` is kept as the raw JSON object of the event.
    sample = bronze.where(f"event_id = '{events[0].id}'").first()
    assert sample is not None and json.loads(sample.data) == events[0].data

    rejected = spark.read.format("delta").load(job.rejected_path)
    reasons = sorted((r.reason, r.event_id) for r in rejected.collect())
    assert reasons == [
        ("not_cloudevent", None),
        ("not_json", None),
        ("schema_mismatch", "bad-data"),
        ("unknown_type", "bad-type"),
    ]
    dead = _consume_all(settings, job.deadletter_topic, expected=4)
    assert sorted(str(d["reason"]) for d in dead) == sorted(r for r, _ in reasons)
    assert {"this is not json", '{"hello": "world"}'} <= {str(d["original"]) for d in dead}

    # Every reader of the lake agrees with Spark.
    assert sorted(_delta_rs_ids(job.events_path)) == sorted(ids)
    assert _duckdb_count(job.events_path) == len(ids)
    assert _duckdb_count(job.rejected_path) == 4

    # A second run resumes from the checkpoint: only new records are appended.
    more = list(ShopStory(seed=12).events(50))
    produce(settings, event_records(more, topics))
    start(spark, job, once=True).awaitTermination()
    again = spark.read.format("delta").load(job.events_path)
    assert again.count() == len(events) + len(more)
    assert again.select("event_id").distinct().count() == len(events) + len(more)
    assert spark.read.format("delta").load(job.rejected_path).count() == 4


def _bronze_process(
    settings: Settings, namespace: str, lake_root: Path, log: Path, *, once: bool
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SHOPLAKE_LAKE_ROOT": str(lake_root),
        "SHOPLAKE_BRONZE_MAX_OFFSETS_PER_TRIGGER": "1500",
        "SHOPLAKE_BRONZE_TRIGGER_SECONDS": "0.5",
        "SHOPLAKE_SPARK_DRIVER_MEMORY": "1g",
    }
    command = [
        sys.executable,
        "-m",
        "shoplake_cli.main",
        "stream",
        "bronze",
        "--topics",
        domain_topic_pattern(namespace),
        "--deadletter-topic",
        f"shop.{namespace}.deadletter.v1",
    ]
    if once:
        command.append("--once")
    with log.open("ab") as out:
        # A session of its own, so SIGKILL reaches the Spark JVM as well as Python.
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=out, start_new_session=True
        )


def _rows(path: str) -> int:
    try:
        return len(_delta_rs_ids(path))
    except Exception:  # the table does not exist yet
        return 0


def test_a_stream_killed_mid_load_resumes_with_every_event_exactly_once(
    settings: Settings, unique: str, tmp_path: Path
) -> None:
    namespace = f"t{unique}"
    topics = domain_topics(namespace)
    ensure_topics(settings, topics.values(), partitions=3)
    events = list(ShopStory(seed=21, late_fraction=0.05).events(20_000))
    produce(settings, event_records(events, topics))
    lake_root = tmp_path / "lake"
    job = _job(settings, namespace, lake_root)
    log = tmp_path / "bronze.log"

    stream = _bronze_process(settings, namespace, lake_root, log, once=False)
    try:
        deadline = time.monotonic() + 420  # a hang guard, not a speed test (shared machines)
        while _rows(job.events_path) < 3_000:
            assert stream.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the stream made no progress"
            time.sleep(0.2)
    finally:
        os.killpg(stream.pid, signal.SIGKILL)
        stream.wait(timeout=30)
    at_kill = _rows(job.events_path)
    assert stream.returncode == -signal.SIGKILL
    assert 0 < at_kill < len(events), f"killed too late to prove anything ({at_kill} rows)"

    restarted = _bronze_process(settings, namespace, lake_root, log, once=True)
    assert restarted.wait(timeout=300) == 0, log.read_text()[-3000:]

    ids = _delta_rs_ids(job.events_path)
    assert len(ids) == len(events)
    assert set(ids) == {e.id for e in events}
    assert _duckdb_count(job.events_path) == len(events)
    assert _rows(job.rejected_path) == 0
