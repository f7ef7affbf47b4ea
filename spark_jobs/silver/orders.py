"""Orders: the change table `silver.order_events`, the lines `silver.order_items`, and the latest
state `silver.orders`, folded from every event of the order by event time (late events included)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform, read_table
from shoplake.lake import ORDER_EVENTS, ORDER_ITEMS, ORDER_TYPES, ORDERS, event_data_schema
from spark_jobs.silver.common import (
    JobRun,
    SilverJob,
    fact,
    merge_new,
    merge_state,
    parse,
    run_jobs,
)

DATA_SCHEMA = event_data_schema(ORDER_TYPES)
PLACED, CONFIRMED, CANCELLED, STATUS_CHANGED = ORDER_TYPES


def transform_events(bronze: DataFrame) -> DataFrame:
    """One `silver.order_events` row per order event, with the status it leaves the order in."""
    parsed = parse(bronze, DATA_SCHEMA)
    type_ = F.col("event_type")
    status = F.when(type_ == STATUS_CHANGED, F.col("d.to_status")).otherwise(
        fact(
            type_,
            {PLACED: "PENDING_PAYMENT", CONFIRMED: "CONFIRMED", CANCELLED: "CANCELLED"},
        )
    )
    return conform(
        parsed.select(
            "event_id",
            "event_type",
            "event_time",
            "event_date",
            "d.order_id",
            "d.user_id",
            status.alias("status"),
            "d.from_status",
            "d.subtotal_cents",
            "d.discount_cents",
            "d.shipping_cents",
            "d.total_cents",
            "d.currency",
            "d.ship_to_country",
            F.size("d.lines").alias("line_count"),
            "d.reason",
        ).withColumn("line_count", F.when(type_ == PLACED, F.col("line_count"))),
        ORDER_EVENTS,
    )


def transform_items(bronze: DataFrame) -> DataFrame:
    """One `silver.order_items` row per line of each placed order (lines numbered from 1)."""
    placed = parse(bronze.where(F.col("event_type") == PLACED), DATA_SCHEMA)
    lines = placed.select(
        "event_id",
        "event_type",
        "event_time",
        "event_date",
        "d.order_id",
        "d.user_id",
        "d.currency",
        F.posexplode("d.lines").alias("position", "line"),
    )
    discount = F.coalesce(F.col("line.discount_cents"), F.lit(0))
    return conform(
        lines.select(
            "*",
            (F.col("position") + 1).alias("line_number"),
            F.col("line.sku").alias("sku"),
            F.col("line.quantity").alias("quantity"),
            F.col("line.unit_price_cents").alias("unit_price_cents"),
            discount.alias("discount_cents"),
            (F.col("line.quantity") * F.col("line.unit_price_cents") - discount).alias(
                "line_total_cents"
            ),
        ),
        ORDER_ITEMS,
    )


def fold_orders(order_events: DataFrame) -> DataFrame:
    """The state of each order after all its events, ordered by (event time, event id)."""
    order = F.struct("event_time", "event_id")
    type_ = F.col("event_type")

    def latest(column: str, when: Column | None = None) -> Column:
        ordering = order if when is None else F.when(when, order)
        return F.max_by(F.col(column), ordering)

    placed = type_ == PLACED
    cancelled = type_ == CANCELLED
    return conform(
        order_events.groupBy("order_id").agg(
            latest("user_id", F.col("user_id").isNotNull()).alias("user_id"),
            latest("status").alias("status"),
            latest("subtotal_cents", placed).alias("subtotal_cents"),
            latest("discount_cents", placed).alias("discount_cents"),
            latest("shipping_cents", placed).alias("shipping_cents"),
            latest("total_cents", F.col("total_cents").isNotNull()).alias("total_cents"),
            latest("currency", F.col("currency").isNotNull()).alias("currency"),
            latest("ship_to_country", placed).alias("ship_to_country"),
            latest("line_count", placed).alias("line_count"),
            F.min(F.when(placed, F.col("event_time"))).alias("placed_at"),
            F.min(F.when(type_ == CONFIRMED, F.col("event_time"))).alias("confirmed_at"),
            F.min(F.when(cancelled, F.col("event_time"))).alias("cancelled_at"),
            latest("reason", cancelled).alias("cancel_reason"),
            F.max("event_time").alias("updated_at"),
            F.count("*").alias("event_count"),
            latest("event_id").alias("last_event_id"),
        ),
        ORDERS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    """Merge the batch's events and lines, then refold the orders they touch from history."""
    events = transform_events(bronze).persist()
    try:
        merge_new(spark, events, ORDER_EVENTS, lake_root)
        merge_new(spark, transform_items(bronze), ORDER_ITEMS, lake_root)
        touched = events.select("order_id").distinct()
        history = read_table(spark, ORDER_EVENTS, lake_root).join(
            F.broadcast(touched), "order_id", "left_semi"
        )
        merge_state(spark, fold_orders(history), ORDERS, lake_root)
    finally:
        events.unpersist()


JOB = SilverJob("orders", ORDER_TYPES, (ORDER_EVENTS, ORDER_ITEMS, ORDERS), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
