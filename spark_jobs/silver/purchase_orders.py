"""Purchase orders: one row per fact of an order, with the status it leaves the order in and
the units it moves (ordered, announced or received)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import INBOUND_TYPES, PURCHASE_ORDER_EVENTS, event_data_schema
from spark_jobs.silver.common import EVENT_KEYS, JobRun, SilverJob, fact, merge_new, parse, run_jobs

DATA_SCHEMA = event_data_schema(INBOUND_TYPES)
CREATED, SUBMITTED, ACKNOWLEDGED, SHIP_NOTICE, RECEIVED, CLOSED = INBOUND_TYPES
ACTION = dict(
    zip(
        INBOUND_TYPES,
        ("CREATED", "SUBMITTED", "ACKNOWLEDGED", "SHIP_NOTICE", "RECEIVED", "CLOSED"),
        strict=True,
    )
)
STATUS_AFTER = {
    CREATED: "DRAFT",
    SUBMITTED: "SUBMITTED",
    ACKNOWLEDGED: "ACKNOWLEDGED",
    CLOSED: "CLOSED",
}


def transform(bronze: DataFrame) -> DataFrame:
    parsed = parse(bronze, DATA_SCHEMA)
    type_ = F.col("event_type")
    lines = (
        F.when(type_ == CREATED, F.col("d.lines.quantity"))
        .when(type_ == SHIP_NOTICE, F.col("d.shipped_lines.quantity"))
        .when(type_ == RECEIVED, F.col("d.received_lines.quantity"))
    )
    status = F.when(type_ == RECEIVED, F.col("d.status")).otherwise(fact(type_, STATUS_AFTER))
    return conform(
        parsed.select(
            *EVENT_KEYS,
            "d.purchase_order_id",
            "d.supplier_id",
            fact(type_, ACTION).alias("action"),
            status.alias("status"),
            "d.number",
            "d.warehouse_id",
            "d.currency",
            "d.total_cost_cents",
            "d.expected_arrival",
            "d.reference",
            "d.receipt_id",
            "d.ship_notice_id",
            F.when(lines.isNotNull(), F.size(lines)).alias("line_count"),
            F.aggregate(lines, F.lit(0).cast("bigint"), lambda total, q: total + q).alias("units"),
            "d.units_short",
            "d.carrier",
            "d.tracking_number",
        ),
        PURCHASE_ORDER_EVENTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), PURCHASE_ORDER_EVENTS, lake_root)


JOB = SilverJob("purchase_order_events", INBOUND_TYPES, (PURCHASE_ORDER_EVENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
