"""Structured Streaming Kafka → Delta with a checkpoint, read back by Spark, delta-rs, DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from demo.kafka_to_delta import stream_to_delta
from shoplake.config import Settings
from shoplake.events import CloudEvent, topic_for
from shoplake.kafka import ensure_topics, produce_events

COLUMNS = ["id", "type", "subject", "data", "kafka_topic", "kafka_partition", "kafka_offset"]


def _events(domain: str, start: int, count: int) -> list[CloudEvent]:
    return [
        CloudEvent(
            source="/tests",
            type=f"shop.{domain}.ThingHappened.v1",
            subject=f"thing-{i}",
            data={"n": i, "label": f"thing {i}"},
        )
        for i in range(start, start + count)
    ]


def _spark_rows(spark: SparkSession, path: Path) -> list[tuple[object, ...]]:
    rows = spark.read.format("delta").load(str(path)).select(*COLUMNS).collect()
    return sorted(tuple(row) for row in rows)


def _delta_rs_rows(path: Path) -> list[tuple[object, ...]]:
    table = DeltaTable(str(path)).to_pyarrow_table(columns=COLUMNS).to_pylist()
    return sorted(tuple(row[c] for c in COLUMNS) for row in table)


def test_stream_lands_each_event_once_and_every_reader_agrees(
    spark: SparkSession, settings: Settings, unique: str, tmp_path: Path
) -> None:
    domain = f"test{unique}"
    topic = topic_for(domain)
    ensure_topics(settings, [topic], partitions=2)
    table, checkpoint = tmp_path / "events", tmp_path / "_checkpoint"

    first = _events(domain, 0, 25)
    produce_events(settings, first)
    stream_to_delta(spark, settings, topics=[topic], table_path=table, checkpoint=checkpoint)

    spark_rows = _spark_rows(spark, table)
    assert sorted(str(r[0]) for r in spark_rows) == sorted(e.id for e in first)
    assert _delta_rs_rows(table) == spark_rows

    # A second run resumes from the checkpoint: only the new events are appended.
    second = _events(domain, 25, 15)
    produce_events(settings, second)
    stream_to_delta(spark, settings, topics=[topic], table_path=table, checkpoint=checkpoint)

    spark_rows = _spark_rows(spark, table)
    assert len(spark_rows) == 40
    assert sorted(str(r[0]) for r in spark_rows) == sorted(e.id for e in first + second)
    assert _delta_rs_rows(table) == spark_rows
    assert DeltaTable(str(table)).version() == 1  # one commit per micro-batch run

    with duckdb.connect() as conn:
        conn.register("events", DeltaTable(str(table)).to_pyarrow_dataset())
        count, distinct_ids, n_sum = conn.execute(
            "select count(*), count(distinct id), sum(cast(json_extract(data, '$.n') as int)) "
            "from events"
        ).fetchone() or (0, 0, 0)
    assert (count, distinct_ids, n_sum) == (40, 40, sum(range(40)))


def test_envelope_columns_are_typed(
    spark: SparkSession, settings: Settings, unique: str, tmp_path: Path
) -> None:
    domain = f"test{unique}"
    ensure_topics(settings, [topic_for(domain)], partitions=1)
    [event] = _events(domain, 7, 1)
    produce_events(settings, [event])
    stream_to_delta(
        spark,
        settings,
        topics=[topic_for(domain)],
        table_path=tmp_path / "t",
        checkpoint=tmp_path / "c",
    )
    row = spark.read.format("delta").load(str(tmp_path / "t")).collect()[0]
    assert row["id"] == event.id
    assert row["type"] == event.type
    assert row["event_time"].replace(tzinfo=None) == event.time.replace(tzinfo=None)
    assert row["kafka_topic"] == topic_for(domain)
    assert json.loads(row["data"]) == {"n": 7, "label": "thing 7"}
