"""Inventory movements: every ledger event with its signed effect on on-hand and reserved."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import INVENTORY_MOVEMENTS, INVENTORY_TYPES, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, fact, merge_new, parse, run_jobs

DATA_SCHEMA = event_data_schema(INVENTORY_TYPES)
RESERVED, RELEASED, ADJUSTED, RECEIVED, OUT_OF_STOCK, BACK_IN_STOCK = INVENTORY_TYPES
MOVEMENT = dict(
    zip(
        INVENTORY_TYPES,
        ("RESERVED", "RELEASED", "ADJUSTED", "RECEIVED", "OUT_OF_STOCK", "BACK_IN_STOCK"),
        strict=True,
    )
)


def transform(bronze: DataFrame) -> DataFrame:
    parsed = parse(bronze, DATA_SCHEMA)
    type_, quantity = F.col("event_type"), F.col("d.quantity")
    on_hand_delta = (
        F.when(type_ == RECEIVED, quantity).when(type_ == ADJUSTED, F.col("d.delta")).otherwise(0)
    )
    reserved_delta = F.when(type_ == RESERVED, quantity).when(type_ == RELEASED, -quantity)
    return conform(
        parsed.select(
            "event_id",
            "event_type",
            "event_time",
            "event_date",
            "d.sku",
            "d.warehouse_id",
            fact(type_, MOVEMENT).alias("movement"),
            F.coalesce(quantity, F.col("d.delta")).alias("quantity"),
            on_hand_delta.alias("on_hand_delta"),
            F.coalesce(reserved_delta, F.lit(0)).alias("reserved_delta"),
            "d.on_hand",
            "d.reserved",
            "d.order_id",
            "d.reason",
            "d.reference",
        ),
        INVENTORY_MOVEMENTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), INVENTORY_MOVEMENTS, lake_root)


JOB = SilverJob("inventory_movements", INVENTORY_TYPES, (INVENTORY_MOVEMENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
