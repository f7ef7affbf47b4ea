"""Reconcile the lake: per event type, outbox (sent) = Kafka = bronze (+ rejected) = silver.

- outbox: rows marked sent, per type, for the topics in scope (`shoplake.outbox.sent_counts`);
  "n/a" when the table does not exist, or for a type with no sent row in scope (events produced
  straight to Kafka, like behaviour events, never pass through it).
- Kafka: every record of the topics in scope, read from the beginning; a record's type is the
  `type` of its JSON, or `(invalid)`.
- bronze: rows of `bronze.events`; rejected: rows of `bronze.rejected`, by the same type rule.
- silver: distinct event ids in the silver table that accounts for the type (`shoplake.lake`).

Checks: Kafka = bronze + rejected (exactly once into bronze), silver = distinct bronze ids, and
outbox = distinct bronze ids where the outbox is in play.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from rich.table import Table as RichTable
from sqlalchemy.exc import ProgrammingError

from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.delta import ensure_table
from shoplake.lake import (
    BRONZE_EVENTS,
    BRONZE_REJECTED,
    SILVER_TABLES,
    counting_table,
    domain_topic_pattern,
)
from shoplake.outbox import sent_counts

INVALID = "(invalid)"


@dataclass(frozen=True)
class TypeCounts:
    event_type: str
    outbox: int | None
    kafka: int
    bronze: int
    bronze_ids: int
    rejected: int
    silver: int | None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.kafka != self.bronze + self.rejected:
            found.append(f"kafka {self.kafka} ≠ bronze {self.bronze} + rejected {self.rejected}")
        if self.silver is not None and self.silver != self.bronze_ids:
            found.append(f"silver {self.silver} ≠ bronze ids {self.bronze_ids}")
        if self.outbox is not None and self.outbox != self.bronze_ids:
            found.append(f"outbox {self.outbox} ≠ bronze ids {self.bronze_ids}")
        return found


@dataclass(frozen=True)
class Reconciliation:
    rows: list[TypeCounts] = field(default_factory=list)
    outbox_in_play: bool = False

    @property
    def ok(self) -> bool:
        return all(not row.problems for row in self.rows)

    def row(self, event_type: str) -> TypeCounts:
        return next(r for r in self.rows if r.event_type == event_type)


def record_type(value: bytes | None) -> str:
    """The `type` a record claims, or `(invalid)`: the rule bronze.rejected follows too."""
    if value is None:
        return INVALID
    try:
        doc = json.loads(value)
    except ValueError:
        return INVALID
    type_ = doc.get("type") if isinstance(doc, dict) else None
    return type_ if isinstance(type_, str) else INVALID


def kafka_counts(settings: Settings, topic_pattern: str) -> Counter[str]:
    """Records per claimed type in every matching topic, read from the beginning to the end."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    counts: Counter[str] = Counter()
    try:
        pattern = re.compile(topic_pattern)
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(consumer.topics())
            if pattern.search(topic)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return counts
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > consumer.position(tp)}
        while pending:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=50_000).items():
                for record in records:
                    if record.offset < ends[tp]:
                        counts[record_type(record.value)] += 1
                if consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        consumer.close()
    return counts


def outbox_counts(settings: Settings, topic_pattern: str) -> Counter[str] | None:
    """Sent outbox rows per type for the topics in scope; None when there is no outbox."""
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.connect() as conn:
            counts = sent_counts(conn, topic_pattern)
    except ProgrammingError:  # the outbox table does not exist (yet)
        return None
    finally:
        engine.dispose()
    return counts or None


def lake_counts(
    spark: SparkSession, lake_root: str
) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    """Per type: bronze rows, distinct bronze ids, rejected rows, silver distinct ids."""
    for table in (BRONZE_EVENTS, BRONZE_REJECTED, *SILVER_TABLES):
        ensure_table(spark, table, lake_root)
    bronze, bronze_ids, rejected, silver = (
        Counter[str](),
        Counter[str](),
        Counter[str](),
        Counter[str](),
    )
    events = spark.read.format("delta").load(BRONZE_EVENTS.path(lake_root))
    for row in (
        events.groupBy("event_type")
        .agg(F.count("*").alias("n"), F.count_distinct("event_id").alias("ids"))
        .collect()
    ):
        bronze[row.event_type] = row.n
        bronze_ids[row.event_type] = row.ids
    bad = spark.read.format("delta").load(BRONZE_REJECTED.path(lake_root))
    claimed = F.coalesce(F.col("event_type"), F.lit(INVALID)).alias("event_type")
    for row in bad.groupBy(claimed).count().collect():
        rejected[row.event_type] = row["count"]
    for table in SILVER_TABLES:
        if not table.counted_types:
            continue
        rows = spark.read.format("delta").load(table.path(lake_root))
        for row in (
            rows.groupBy("event_type").agg(F.count_distinct("event_id").alias("ids")).collect()
        ):
            silver[row.event_type] += row.ids
    return bronze, bronze_ids, rejected, silver


def reconcile(
    spark: SparkSession,
    settings: Settings,
    *,
    lake_root: str | None = None,
    topic_pattern: str | None = None,
) -> Reconciliation:
    pattern = topic_pattern or domain_topic_pattern()
    outbox = outbox_counts(settings, pattern)
    kafka = kafka_counts(settings, pattern)
    bronze, bronze_ids, rejected, silver = lake_counts(spark, lake_root or settings.lake_path)
    types = sorted(set(kafka) | set(bronze) | set(rejected) | set(silver) | set(outbox or ()))
    rows = [
        TypeCounts(
            event_type=t,
            # A type with no sent outbox row is produced straight to Kafka (behaviour events).
            outbox=None if outbox is None else outbox.get(t),
            kafka=kafka.get(t, 0),
            bronze=bronze.get(t, 0),
            bronze_ids=bronze_ids.get(t, 0),
            rejected=rejected.get(t, 0),
            silver=silver.get(t, 0) if counting_table(t) is not None else None,
        )
        for t in types
    ]
    return Reconciliation(rows, outbox_in_play=outbox is not None)


def render(result: Reconciliation) -> RichTable:
    table = RichTable(title="lake reconciliation (counts per event type)")
    for name in ("event type", "outbox", "kafka", "bronze", "rejected", "silver", "status"):
        table.add_column(name, justify="left" if name in ("event type", "status") else "right")

    def cell(value: int | None) -> str:
        return "n/a" if value is None else str(value)

    for row in result.rows:
        status = "[green]ok[/]" if not row.problems else "[red]" + "; ".join(row.problems) + "[/]"
        table.add_row(
            row.event_type,
            cell(row.outbox),
            str(row.kafka),
            str(row.bronze),
            str(row.rejected),
            cell(row.silver),
            status,
        )
    return table
