"""Wishlist events: items added and removed."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import WISHLIST_EVENTS, WISHLIST_TYPES, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs

DATA_SCHEMA = event_data_schema(WISHLIST_TYPES)
ACTION = dict(zip(WISHLIST_TYPES, ("ADD", "REMOVE"), strict=True))


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, WISHLIST_EVENTS, "action", ACTION)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), WISHLIST_EVENTS, lake_root)


JOB = SilverJob("wishlist_events", WISHLIST_TYPES, (WISHLIST_EVENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
