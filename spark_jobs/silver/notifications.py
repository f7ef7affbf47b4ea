"""Notifications: notices asked for, and each message sent or dead-lettered."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import NOTIFICATION_TYPES, NOTIFICATIONS, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs

DATA_SCHEMA = event_data_schema(NOTIFICATION_TYPES)
ACTION = dict(zip(NOTIFICATION_TYPES, ("REQUESTED", "SENT", "FAILED"), strict=True))


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, NOTIFICATIONS, "action", ACTION)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), NOTIFICATIONS, lake_root)


JOB = SilverJob("notifications", NOTIFICATION_TYPES, (NOTIFICATIONS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
