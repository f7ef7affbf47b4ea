"""Kafka → Delta bronze: each valid CloudEvent appended exactly once to `bronze.events`.

One Structured Streaming query reads every domain topic (`shoplake.lake.domain_topic_pattern`).
Each micro-batch is classified record by record against the event contract (`classify`); valid
events go to `bronze.events`, the others to `bronze.rejected` with the reason and to the
dead-letter topic, so one bad record never stops the stream.

Exactly once: the checkpoint fixes each micro-batch's offset range before it runs, and both Delta
appends carry `txnAppId`/`txnVersion` (the query id and the batch id), so a batch replayed after a
crash is skipped by the table instead of appended twice. The dead-letter topic is at least once.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd
from pydantic import ValidationError
from pydantic_core import to_json
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.types import StringType, StructField, StructType

from shoplake.config import Settings
from shoplake.delta import conform, ensure_table
from shoplake.events import DEADLETTER_TOPIC, CloudEvent, UnknownEventType, model_for
from shoplake.lake import BRONZE_EVENTS, BRONZE_REJECTED, checkpoint_path, domain_topic_pattern

log = logging.getLogger(__name__)

NOT_JSON = "not_json"
NOT_CLOUDEVENT = "not_cloudevent"
UNKNOWN_TYPE = "unknown_type"
SCHEMA_MISMATCH = "schema_mismatch"
DETAIL_MAX = 500
KAFKA_FETCH_MAX_WAIT_MS = 10
# Good rows of a batch below which it is written as one file (above: one file per core).
ROWS_PER_FILE = 50_000


class Verdict(NamedTuple):
    """What the contract says about one Kafka record: `reason` is None when it is valid.

    A NamedTuple, so the UDF hands it to pandas as the row it already is: a dataclass's
    `astuple` (a deep copy) cost 20 µs a record, as much as validating it.
    """

    reason: str | None = None
    detail: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    source: str | None = None
    subject: str | None = None
    time: str | None = None
    specversion: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    data: str | None = None  # a valid record's `data` as JSON text, for bronze.events


VERDICT_FIELDS = Verdict._fields
VERDICT_SCHEMA = StructType([StructField(name, StringType()) for name in VERDICT_FIELDS])


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    text = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors[:3]
    )
    return text[:DETAIL_MAX]


def _peek(value: bytes) -> tuple[str | None, str | None]:
    """Best-effort id and type of a record that is JSON but not a valid envelope."""
    try:
        doc = json.loads(value)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    ident, type_ = doc.get("id"), doc.get("type")
    return (
        ident if isinstance(ident, str) else None,
        type_ if isinstance(type_, str) else None,
    )


def classify(value: bytes | None) -> Verdict:
    """Check one record against the contract: JSON, a CloudEvent, a known type, valid data."""
    if value is None:
        return Verdict(NOT_JSON, "empty record")
    try:
        event = CloudEvent.model_validate_json(value)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return Verdict(NOT_JSON, _first_error(exc))
        ident, type_ = _peek(value)
        return Verdict(NOT_CLOUDEVENT, _first_error(exc), ident, type_)
    try:
        model_for(event.type).model_validate(event.data)
    except UnknownEventType:
        return Verdict(UNKNOWN_TYPE, f"no model for {event.type}", event.id, event.type)
    except ValidationError as exc:
        return Verdict(SCHEMA_MISMATCH, _first_error(exc), event.id, event.type)
    return Verdict(
        None,
        None,
        event.id,
        event.type,
        event.source,
        event.subject,
        event.time.isoformat(),
        event.specversion,
        event.datacontenttype,
        event.dataschema,
        # Written out here, where the record is already parsed: `get_json_object` in the JVM
        # parsed every value a second time (100k records: 2.3 s on both cores).
        to_json(event.data).decode(),
    )


def classify_series(values: pd.Series) -> pd.DataFrame:
    """`classify` over a column of record values (the body of the pandas UDF)."""
    # Arrow hands binary values over as bytes already: no copy per record.
    return pd.DataFrame([classify(v) for v in values], columns=list(VERDICT_FIELDS))


@dataclass(frozen=True)
class BronzeJob:
    """Where the bronze stream reads and writes; tests point it at their own topics and paths."""

    lake_root: str
    topic_pattern: str
    deadletter_topic: str
    checkpoint: str
    bootstrap_servers: str
    trigger_seconds: float
    max_offsets_per_trigger: int

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        lake_root: str | None = None,
        topic_pattern: str | None = None,
        deadletter_topic: str | None = None,
    ) -> BronzeJob:
        root = lake_root or settings.lake_path
        return cls(
            lake_root=root,
            topic_pattern=topic_pattern or domain_topic_pattern(),
            deadletter_topic=deadletter_topic or DEADLETTER_TOPIC,
            checkpoint=checkpoint_path(root, "bronze_events"),
            bootstrap_servers=settings.kafka_bootstrap_servers,
            trigger_seconds=settings.bronze_trigger_seconds,
            max_offsets_per_trigger=settings.bronze_max_offsets_per_trigger,
        )

    @property
    def events_path(self) -> str:
        return BRONZE_EVENTS.path(self.lake_root)

    @property
    def rejected_path(self) -> str:
        return BRONZE_REJECTED.path(self.lake_root)


def extract(spark: SparkSession, job: BronzeJob) -> DataFrame:
    """The raw Kafka records of every matching topic, from the earliest offset."""
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", job.bootstrap_servers)
        .option("subscribePattern", job.topic_pattern)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", str(job.max_offsets_per_trigger))
        # Topics created after the start are found within this delay.
        .option("kafka.metadata.max.age.ms", "30000")
        # Each task reads a known offset range, so the broker's long poll is never needed; at
        # the default 500 ms each of a batch's ~45 topic partitions waited for it in turn, which
        # was most of bronze's time (100k records: Kafka read 13.8 s → 2.7 s).
        .option("kafka.fetch.max.wait.ms", str(KAFKA_FETCH_MAX_WAIT_MS))
        .option("failOnDataLoss", "false")
        .load()
    )


def transform(raw: DataFrame) -> DataFrame:
    """Kafka records → the contract's verdict (`v.*`) beside the Kafka coordinates and value."""
    classify_udf = pandas_udf(classify_series, VERDICT_SCHEMA)  # type: ignore[call-overload]
    verdict: Column = classify_udf(F.col("value"))
    rejected_record = verdict["reason"].isNotNull()
    return raw.select(
        verdict.alias("v"),
        # The batch is cached: a good record keeps only its `data`, a rejected one its whole
        # value, so the cache holds each record's bytes once (the values were most of it).
        F.when(rejected_record, F.col("value").cast("string")).alias("value"),
        F.col("key").cast("string").alias("kafka_key"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.current_timestamp().alias("ingested_at"),
    )


def accepted(classified: DataFrame) -> DataFrame:
    """Valid records as `bronze.events` rows; `data` stays the raw JSON text."""
    event_time = F.col("v.time").cast("timestamp")
    return conform(
        classified.where(F.col("v.reason").isNull()).select(
            F.col("v.event_id").alias("event_id"),
            F.col("v.event_type").alias("event_type"),
            F.col("v.source").alias("source"),
            F.col("v.subject").alias("subject"),
            event_time.alias("event_time"),
            F.to_date(event_time).alias("event_date"),
            F.col("v.specversion").alias("specversion"),
            F.col("v.datacontenttype").alias("datacontenttype"),
            F.col("v.dataschema").alias("dataschema"),
            F.col("v.data").alias("data"),
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "ingested_at",
        ),
        BRONZE_EVENTS,
    )


def rejected(classified: DataFrame) -> DataFrame:
    """Invalid records as `bronze.rejected` rows, with the reason and the raw value."""
    return conform(
        classified.where(F.col("v.reason").isNotNull()).select(
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "kafka_key",
            "value",
            F.col("v.reason").alias("reason"),
            F.col("v.detail").alias("detail"),
            F.col("v.event_id").alias("event_id"),
            F.col("v.event_type").alias("event_type"),
            F.col("ingested_at").alias("rejected_at"),
            F.to_date("ingested_at").alias("rejected_date"),
        ),
        BRONZE_REJECTED,
    )


def dead_letters(rejected_rows: DataFrame) -> DataFrame:
    """Kafka records for the dead-letter topic: the original value wrapped with the reason."""
    body = F.to_json(
        F.struct(
            "reason",
            "detail",
            F.col("kafka_topic").alias("topic"),
            F.col("kafka_partition").alias("partition"),
            F.col("kafka_offset").alias("offset"),
            "event_id",
            "event_type",
            F.col("value").alias("original"),
        )
    )
    return rejected_rows.select(F.col("kafka_key").alias("key"), body.alias("value"))


def _append(df: DataFrame, path: str, app_id: str, batch_id: int) -> None:
    # txnAppId/txnVersion: Delta skips an append of a batch it has already committed.
    (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", str(batch_id))
        .save(path)
    )


class _BatchWriter:
    """The foreachBatch body; it learns the query id from the checkpoint on its first batch."""

    def __init__(self, job: BronzeJob) -> None:
        self.job = job
        self.app_id: str | None = None

    def _query_app_id(self, spark: SparkSession) -> str:
        if self.app_id is None:
            # The query id survives restarts with the checkpoint and changes if it is reset, so
            # a fresh checkpoint never collides with the batch ids recorded in the table.
            metadata = spark.read.text(f"{self.job.checkpoint}/metadata").first()
            query_id = json.loads(metadata[0])["id"] if metadata is not None else "unknown"
            self.app_id = f"shoplake-bronze-{query_id}"
        return self.app_id

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        spark = batch.sparkSession
        app_id = self._query_app_id(spark)
        cores = spark.sparkContext.defaultParallelism
        # One task per core rather than per topic partition (~45): each task has a fixed cost
        # in the Python worker, which at a steady 2k events/s was most of a small batch's time.
        classified = transform(batch.coalesce(cores)).persist()
        try:
            # One pass fills the cache and counts the rejected (`count` skips null reasons).
            counts = classified.agg(F.count(F.lit(1)), F.count("v.reason")).first() or (0, 0)
            total, bad_count = counts
            good = total - bad_count
            files = 1 if good < ROWS_PER_FILE else cores  # small batches: one file, not many
            if good:  # an empty append would still cost a Delta commit
                _append(
                    accepted(classified).coalesce(files), self.job.events_path, app_id, batch_id
                )
            if bad_count:
                self._set_aside(rejected(classified).coalesce(1), app_id, batch_id)
            log.info("bronze batch %s: %s records, %s rejected", batch_id, total, bad_count)
        finally:
            classified.unpersist()

    def _set_aside(self, bad: DataFrame, app_id: str, batch_id: int) -> None:
        """Rejected records to `bronze.rejected` (exactly once) and the dead-letter topic."""
        bad = bad.persist()
        try:
            _append(bad, self.job.rejected_path, app_id, batch_id)
            (
                dead_letters(bad)
                .write.format("kafka")
                .option("kafka.bootstrap.servers", self.job.bootstrap_servers)
                .option("topic", self.job.deadletter_topic)
                .save()
            )
        finally:
            bad.unpersist()


def start(spark: SparkSession, job: BronzeJob, *, once: bool) -> StreamingQuery:
    """Start the stream; `once` processes what is there now (in several batches) and stops."""
    ensure_table(spark, BRONZE_EVENTS, job.lake_root)
    ensure_table(spark, BRONZE_REJECTED, job.lake_root)
    writer = (
        extract(spark, job)
        .writeStream.queryName("bronze_events")
        .foreachBatch(_BatchWriter(job))
        .option("checkpointLocation", job.checkpoint)
    )
    if once:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{job.trigger_seconds} seconds")
    return writer.start()


def stop_between_batches(query: StreamingQuery, timeout_s: float = 120.0) -> None:
    """Stop the stream once no batch runs (or after `timeout_s`).

    A stop that interrupts `foreachBatch` surfaces as a Py4J error, whose text Spark matches
    against `An error occurred while calling((.|\\r\\n|\\r|\\n)*)` to tell an interruption from a
    failure: on a long message that backtracking regex overflows the stream thread's stack
    (StackOverflowError), and the query dies instead of stopping. Between batches there is
    nothing to interrupt.
    """
    deadline = time.monotonic() + timeout_s
    while query.isActive and query.status["isTriggerActive"] and time.monotonic() < deadline:
        time.sleep(0.05)
    query.stop()


def run(settings: Settings, *, once: bool = False, **overrides: Any) -> None:
    """`shoplake stream bronze`: run until stopped, or with `once` until caught up."""
    from shoplake.spark import get_spark

    job = BronzeJob.from_settings(settings, **overrides)
    query = start(get_spark(settings, app_name="shoplake-bronze"), job, once=once)
    query.awaitTermination()
    if query.exception() is not None:
        raise RuntimeError(f"bronze stream failed: {query.exception()}")
