"""Returns: one row per return event (requested, received, refunded) with its units and money."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import RETURN_EVENTS, RETURN_TYPES, event_data_schema
from spark_jobs.silver.common import EVENT_KEYS, JobRun, SilverJob, fact, merge_new, parse, run_jobs

DATA_SCHEMA = event_data_schema(RETURN_TYPES)
REQUESTED, RECEIVED, REFUNDED = RETURN_TYPES
STATUS = dict(zip(RETURN_TYPES, ("REQUESTED", "RECEIVED", "REFUNDED"), strict=True))


def _units(lines: str) -> Column:
    """The sum of `quantity` over an array of line structs."""
    return F.aggregate(F.col(lines), F.lit(0), lambda total, line: total + line["quantity"])


def transform(bronze: DataFrame) -> DataFrame:
    parsed = parse(bronze, DATA_SCHEMA)
    type_ = F.col("event_type")
    units = F.when(type_ == REQUESTED, _units("d.lines")).when(
        type_ == RECEIVED, _units("d.received")
    )
    return conform(
        parsed.select(
            *EVENT_KEYS,
            "d.*",
            fact(type_, STATUS).alias("status"),
            units.alias("unit_count"),
        ),
        RETURN_EVENTS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_new(spark, transform(bronze), RETURN_EVENTS, lake_root)


JOB = SilverJob("return_events", RETURN_TYPES, (RETURN_EVENTS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
