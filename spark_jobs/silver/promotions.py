"""Promotions: every change an administrator made, one row per event with the state after it."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import PROMOTION_EVENTS, PROMOTION_TYPES, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs

DATA_SCHEMA = event_data_schema(PROMOTION_TYPES)
ACTION = dict(zip(PROMOTION_TYPES, ("CREATED", "UPDATED", "DELETED"), strict=True))


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, PROMOTION_EVENTS, "action", ACTION)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), PROMOTION_EVENTS, lake_root)


JOB = SilverJob("promotion_events", PROMOTION_TYPES, (PROMOTION_EVENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
