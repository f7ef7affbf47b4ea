"""Structured Streaming from Kafka into a Delta table: one row per CloudEvent, checkpointed."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming.query import StreamingQuery
from pyspark.sql.types import StringType, StructField, StructType

from shoplake.config import Settings

ENVELOPE_SCHEMA = StructType(
    [
        StructField("specversion", StringType()),
        StructField("id", StringType()),
        StructField("source", StringType()),
        StructField("type", StringType()),
        StructField("time", StringType()),
        StructField("subject", StringType()),
        StructField("datacontenttype", StringType()),
        StructField("dataschema", StringType()),
    ]
)


def read_topics(spark: SparkSession, settings: Settings, topics: list[str]) -> DataFrame:
    """A streaming DataFrame of the raw Kafka records of `topics`, from the earliest offset."""
    return (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", ",".join(topics))
        .option("startingOffsets", "earliest")
        .option("failOnDataLoss", "false")
        .load()
    )


def envelope_rows(raw: DataFrame) -> DataFrame:
    """Kafka records → envelope columns, `data` as raw JSON text, plus the Kafka coordinates."""
    value = F.col("value").cast("string")
    envelope = F.from_json(value, ENVELOPE_SCHEMA)
    return raw.select(
        envelope.alias("e"),
        F.get_json_object(value, "$.data").alias("data"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    ).select(
        "e.id",
        "e.type",
        "e.source",
        "e.subject",
        F.to_timestamp("e.time").alias("event_time"),
        "e.dataschema",
        "data",
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "kafka_timestamp",
        F.current_timestamp().alias("ingested_at"),
    )


def stream_to_delta(
    spark: SparkSession,
    settings: Settings,
    *,
    topics: list[str],
    table_path: Path | str,
    checkpoint: Path | str,
    available_now: bool = True,
) -> StreamingQuery:
    """Append the topics' events to the Delta table; with available_now, return once caught up.

    The checkpoint plus Delta's transactional sink make the append exactly-once across restarts.
    """
    writer = (
        envelope_rows(read_topics(spark, settings, topics))
        .writeStream.format("delta")
        .outputMode("append")
        .option("checkpointLocation", str(checkpoint))
    )
    writer = (
        writer.trigger(availableNow=True)
        if available_now
        else writer.trigger(processingTime="2 seconds")
    )
    query = writer.start(str(table_path))
    if available_now:
        query.awaitTermination()
        if query.exception() is not None:
            raise RuntimeError(f"stream to {table_path} failed: {query.exception()}")
    return query
