"""Payments: every gateway outcome, one row per event."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.lake import PAYMENT_TYPES, PAYMENTS
from spark_jobs.silver.common import JobRun, SilverJob, labelled_events, merge_new, run_jobs
from spark_jobs.silver.common import extract as extract_bronze

DATA_SCHEMA = (
    "payment_id string, order_id string, amount_cents bigint, currency string, "
    "gateway string, reason string"
)
STATUS = dict(
    zip(PAYMENT_TYPES, ("AUTHORIZED", "DECLINED", "CAPTURED", "VOIDED", "REFUNDED"), strict=True)
)

extract = extract_bronze


def transform(bronze: DataFrame) -> DataFrame:
    return labelled_events(bronze, DATA_SCHEMA, PAYMENTS, "status", STATUS)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), PAYMENTS, lake_root)


JOB = SilverJob("payments", PAYMENT_TYPES, (PAYMENTS,), load)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
