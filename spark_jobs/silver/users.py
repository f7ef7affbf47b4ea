"""Users for analytics: no e-mail address (only its SHA-256 for joins), no name, no address."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform
from shoplake.lake import USER_REGISTERED, USERS, event_data_schema
from spark_jobs.silver.common import JobRun, SilverJob, merge_state, parse, run_jobs

DATA_SCHEMA = event_data_schema(USER_REGISTERED)
NEWER = "s.event_time > t.event_time OR (s.event_time = t.event_time AND s.event_id > t.event_id)"


def transform(bronze: DataFrame) -> DataFrame:
    """One row per user (the newest registration by event time); the e-mail is hashed."""
    parsed = parse(bronze, DATA_SCHEMA)
    newest = parsed.groupBy("d.user_id").agg(
        F.max_by(F.struct("*"), F.struct("event_time", "event_id")).alias("r")
    )
    email = F.lower(F.trim(F.col("r.d.email")))
    return conform(
        newest.select(
            "r.event_id",
            "r.event_type",
            "r.event_time",
            "r.event_date",
            "user_id",
            F.sha2(email, 256).alias("email_sha256"),
            "r.d.role",
            "r.d.country",
        ),
        USERS,
    )


def load(spark: SparkSession, bronze: DataFrame, lake_root: str) -> None:
    merge_state(spark, transform(bronze), USERS, lake_root, newer=NEWER)


JOB = SilverJob("users", USER_REGISTERED, (USERS,), load)
JOBS = (JOB,)


def run(settings: Settings, lake_root: str | None = None) -> JobRun:
    return run_jobs(settings, [JOB], lake_root)[0]
