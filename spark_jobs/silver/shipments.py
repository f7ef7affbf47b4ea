"""Shipments: the change table `silver.shipment_events` and the latest state `silver.shipments`,
folded from every event of the shipment by event time (late events included)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform, read_table
from shoplake.lake import SHIPMENT_EVENTS, SHIPMENT_TYPES, SHIPMENTS, event_data_schema
from spark_jobs.silver.common import (
    JobRun,
    SilverJob,
    labelled_events,
    merge_new,
    merge_state,
    run_jobs,
)

DATA_SCHEMA = event_data_schema(SHIPMENT_TYPES)
CREATED, PACKED, SHIPPED, DELIVERED, CANCELLED = SHIPMENT_TYPES
STATUS = dict(
    zip(SHIPMENT_TYPES, ("CREATED", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED"), strict=True)
)


def transform_events(bronze: DataFrame) -> DataFrame:
    """One `silver.shipment_events` row per shipment event, with the status it leaves."""
    return labelled_events(bronze, DATA_SCHEMA, SHIPMENT_EVENTS, "status", STATUS)


def fold_shipments(events: DataFrame) -> DataFrame:
    """The state of each shipment after all its events, ordered by (event time, event id)."""
    order = F.struct("event_time", "event_id")
    type_ = F.col("event_type")

    def latest(column: str, when: Column | None = None) -> Column:
        return F.max_by(F.col(column), order if when is None else F.when(when, order))

    def first_time(event_type: str) -> Column:
        return F.min(F.when(type_ == event_type, F.col("event_time")))

    return conform(
        events.groupBy("shipment_id").agg(
            latest("order_id").alias("order_id"),
            latest("warehouse_id").alias("warehouse_id"),
            latest("status").alias("status"),
            latest("carrier", F.col("carrier").isNotNull()).alias("carrier"),
            latest("tracking_number", F.col("tracking_number").isNotNull()).alias(
                "tracking_number"
            ),
            latest("unit_count", type_ == CREATED).alias("unit_count"),
            latest("weight_g", type_ == PACKED).alias("weight_g"),
            first_time(CREATED).alias("created_at"),
            first_time(PACKED).alias("packed_at"),
            first_time(SHIPPED).alias("shipped_at"),
            first_time(DELIVERED).alias("delivered_at"),
            first_time(CANCELLED).alias("cancelled_at"),
            latest("attempts", type_ == DELIVERED).alias("attempts"),
            F.max("event_time").alias("updated_at"),
            F.count("*").alias("event_count"),
            latest("event_id").alias("last_event_id"),
        ),
        SHIPMENTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    """Merge the batch's events, then refold the shipments they touch from their history."""
    events = transform_events(bronze).persist()
    try:
        merge_new(spark, events, SHIPMENT_EVENTS, lake_root)
        touched = events.select("shipment_id").distinct()
        history = read_table(spark, SHIPMENT_EVENTS, lake_root).join(
            F.broadcast(touched), "shipment_id", "left_semi"
        )
        merge_state(spark, fold_shipments(history), SHIPMENTS, lake_root)
    finally:
        events.unpersist()


JOB = SilverJob("shipments", SHIPMENT_TYPES, (SHIPMENT_EVENTS, SHIPMENTS), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
