"""Payments: every gateway outcome, one row per event."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import PAYMENT_TYPES, PAYMENTS, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs

DATA_SCHEMA = event_data_schema(PAYMENT_TYPES)
STATUS = dict(
    zip(PAYMENT_TYPES, ("AUTHORIZED", "DECLINED", "CAPTURED", "VOIDED", "REFUNDED"), strict=True)
)


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, PAYMENTS, "status", STATUS)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), PAYMENTS, lake_root)


JOB = SilverJob("payments", PAYMENT_TYPES, (PAYMENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
