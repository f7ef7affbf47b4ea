"""What every silver job shares: the incremental read of bronze, typed parsing, and MERGEs.

A silver job reads `bronze.events` as a Delta stream with an available-now trigger and a
checkpoint of its own, so each run picks up exactly the bronze rows it has not seen (it
"remembers" through the checkpoint), and MERGEs them into its tables. MERGEs are keyed on the
event id (or the entity key for latest-state tables), so replaying bronze rows changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.config import Settings
from shoplake.delta import conform, ensure_table
from shoplake.lake import BRONZE_EVENTS, Table, checkpoint_path

log = logging.getLogger(__name__)

Loader = Callable[[SparkSession, DataFrame, str], None]


@dataclass(frozen=True)
class SilverJob:
    """One entity: the bronze event types it reads, its tables, and how a batch is merged."""

    name: str
    source_types: tuple[str, ...]
    tables: tuple[Table, ...]
    load: Loader


@dataclass(frozen=True)
class JobRun:
    name: str
    bronze_rows: int
    batches: int
    seconds: float


def extract(spark: SparkSession, lake_root: str, event_types: tuple[str, ...]) -> DataFrame:
    """The bronze rows of these event types, as a stream that resumes where it stopped."""
    return (
        spark.readStream.format("delta")
        .load(BRONZE_EVENTS.path(lake_root))
        .where(F.col("event_type").isin(*event_types))
    )


def parse(bronze: DataFrame, data_schema: str) -> DataFrame:
    """Bronze rows with their `data` parsed by `data_schema` into `d.*`, deduplicated by id."""
    return bronze.dropDuplicates(["event_id"]).select(
        "event_id",
        "event_type",
        "event_time",
        "event_date",
        F.from_json("data", data_schema).alias("d"),
    )


def fact(event_type: Column, mapping: dict[str, str]) -> Column:
    """A label per event type: `shop.order.OrderPlaced.v1` → 'PLACED' etc."""
    label: Column | None = None
    for type_, value in mapping.items():
        label = (
            F.when(event_type == type_, value)
            if label is None
            else label.when(event_type == type_, value)
        )
    assert label is not None
    return label


def _date_pruning(df: DataFrame, table: Table) -> str:
    """A literal predicate on the target's partition dates, so a MERGE reads only those."""
    if table.partition_by != ("event_date",):
        return ""
    dates = sorted(str(row[0]) for row in df.select("event_date").distinct().collect())
    if not dates:
        return ""
    return " AND t.event_date IN (" + ", ".join(f"DATE'{d}'" for d in dates) + ")"


def merge_new(spark: SparkSession, df: DataFrame, table: Table, lake_root: str) -> None:
    """Insert the rows whose key is not in the table yet (an immutable fact per key)."""
    rows = conform(df, table).dropDuplicates(list(table.keys))
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.keys) + _date_pruning(rows, table)
    (
        DeltaTable.forPath(spark, table.path(lake_root))
        .alias("t")
        .merge(rows.alias("s"), on)
        .whenNotMatchedInsertAll()
        .execute()
    )


def merge_state(
    spark: SparkSession, df: DataFrame, table: Table, lake_root: str, newer: str | None = None
) -> None:
    """Upsert latest-state rows by key; `newer` (a condition on t and s) guards the update."""
    rows = conform(df, table)
    on = " AND ".join(f"t.{k} = s.{k}" for k in table.keys)
    (
        DeltaTable.forPath(spark, table.path(lake_root))
        .alias("t")
        .merge(rows.alias("s"), on)
        .whenMatchedUpdateAll(condition=newer)
        .whenNotMatchedInsertAll()
        .execute()
    )


def run_job(spark: SparkSession, job: SilverJob, lake_root: str) -> JobRun:
    """Merge every bronze row of the job's types not merged yet; return what it did."""
    ensure_table(spark, BRONZE_EVENTS, lake_root)
    for table in job.tables:
        ensure_table(spark, table, lake_root)

    def merge_batch(batch: DataFrame, batch_id: int) -> None:
        batch = batch.persist()
        try:
            job.load(spark, batch, lake_root)
        finally:
            batch.unpersist()

    began = time.perf_counter()
    query = (
        extract(spark, lake_root, job.source_types)
        .writeStream.queryName(f"silver_{job.name}")
        .foreachBatch(merge_batch)
        .option("checkpointLocation", checkpoint_path(lake_root, f"silver_{job.name}"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    if query.exception() is not None:
        raise RuntimeError(f"silver job {job.name} failed: {query.exception()}")
    progress = query.recentProgress
    done = JobRun(
        job.name,
        sum(int(p.numInputRows) for p in progress),
        sum(1 for p in progress if p.numInputRows),
        time.perf_counter() - began,
    )
    log.info("silver %s: %s bronze rows in %.1fs", job.name, done.bronze_rows, done.seconds)
    return done


def run_jobs(
    settings: Settings, jobs: list[SilverJob], lake_root: str | None = None
) -> list[JobRun]:
    from shoplake.spark import get_spark

    spark = get_spark(settings)
    return [run_job(spark, job, lake_root or settings.lake_path) for job in jobs]


EVENT_KEYS = ("event_id", "event_type", "event_time", "event_date")


def labelled_events(
    bronze: DataFrame, data_schema: str, table: Table, label: str, labels: dict[str, str]
) -> DataFrame:
    """One row per event: its keys, its typed `data`, and a label per event type."""
    parsed = parse(bronze, data_schema)
    return conform(
        parsed.select(*EVENT_KEYS, "d.*", fact(F.col("event_type"), labels).alias(label)), table
    )
