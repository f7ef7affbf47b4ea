"""Cart events: lines added and removed, and checkouts."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import CART_EVENTS, CART_TYPES, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs

DATA_SCHEMA = event_data_schema(CART_TYPES)
ACTION = dict(zip(CART_TYPES, ("ADD", "REMOVE", "CHECKOUT"), strict=True))


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, CART_EVENTS, "action", ACTION)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), CART_EVENTS, lake_root)


JOB = SilverJob("cart_events", CART_TYPES, (CART_EVENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
