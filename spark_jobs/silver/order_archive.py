"""Order archive batches: one row per batch the archive job moved out of Postgres."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import ARCHIVE_TYPES, ORDER_ARCHIVE_BATCHES, event_data_schema
from spark_jobs.silver.common import EVENT_KEYS, JobRun, SilverJob, merge_new, parse, run_jobs

DATA_SCHEMA = event_data_schema(ARCHIVE_TYPES)


def transform(bronze: DataFrame) -> DataFrame:
    return conform(parse(bronze, DATA_SCHEMA).select(*EVENT_KEYS, "d.*"), ORDER_ARCHIVE_BATCHES)


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), ORDER_ARCHIVE_BATCHES, lake_root)


JOB = SilverJob("order_archive_batches", ARCHIVE_TYPES, (ORDER_ARCHIVE_BATCHES,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
