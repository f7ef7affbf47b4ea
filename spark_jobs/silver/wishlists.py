"""Wishlist events: items added and removed."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.lake import WISHLIST_EVENTS, WISHLIST_TYPES
from spark_jobs.silver.common import JobRun, SilverJob, fact, merge_new, parse, run_jobs
from spark_jobs.silver.common import extract as extract_bronze
from spark_jobs.silver.tables import conform

DATA_SCHEMA = "user_id string, sku string"
ACTION = dict(zip(WISHLIST_TYPES, ("ADD", "REMOVE"), strict=True))

extract = extract_bronze


def transform(bronze: DataFrame) -> DataFrame:
    parsed = parse(bronze, DATA_SCHEMA)
    return conform(
        parsed.select(
            "event_id",
            "event_type",
            "event_time",
            "event_date",
            "d.*",
            fact(F.col("event_type"), ACTION).alias("action"),
        ),
        WISHLIST_EVENTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), WISHLIST_EVENTS, lake_root)


JOB = SilverJob("wishlist_events", WISHLIST_TYPES, (WISHLIST_EVENTS,), load)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
