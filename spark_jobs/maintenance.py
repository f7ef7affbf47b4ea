"""Small-file care: compact (OPTIMIZE) and VACUUM the bronze and silver tables.

Streaming appends and MERGEs write many small files; compaction rewrites them into larger ones
(a `dataChange=false` commit, which the silver streams reading bronze skip), and vacuum deletes
the files no version younger than the retention (`lake_vacuum_retention_hours`) still needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from shoplake.config import Settings
from shoplake.delta import ensure_table
from shoplake.lake import BRONZE_TABLES, SILVER_TABLES, TABLES, Table

# Delta refuses a retention below a week unless this check is off; the setting is the guard.
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


@dataclass(frozen=True)
class Maintained:
    table: str
    files_before: int
    files_after: int


def _files(spark: SparkSession, path: str) -> int:
    row = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").select("numFiles").first()
    return int(row[0]) if row is not None else 0


def optimize(spark: SparkSession, table: Table, lake_root: str) -> Maintained:
    """Bin-pack the table's small files (per partition) into larger ones."""
    path = ensure_table(spark, table, lake_root)
    before = _files(spark, path)
    DeltaTable.forPath(spark, path).optimize().executeCompaction()
    return Maintained(table.name, before, _files(spark, path))


def vacuum(spark: SparkSession, table: Table, lake_root: str, retention_hours: int) -> Maintained:
    """Delete files that no table version within the retention refers to."""
    path = ensure_table(spark, table, lake_root)
    before = _files(spark, path)
    spark.conf.set(RETENTION_CHECK, "false" if retention_hours < 168 else "true")
    try:
        DeltaTable.forPath(spark, path).vacuum(float(retention_hours))
    finally:
        spark.conf.unset(RETENTION_CHECK)
    return Maintained(table.name, before, _files(spark, path))


def tables_named(names: list[str] | None) -> list[Table]:
    if not names:
        return [*BRONZE_TABLES, *SILVER_TABLES]
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown tables {unknown}; known: {sorted(TABLES)}")
    return [TABLES[name] for name in names]


def run(
    settings: Settings,
    *,
    action: str,
    names: list[str] | None = None,
    lake_root: str | None = None,
    retention_hours: int | None = None,
) -> list[Maintained]:
    """`optimize` or `vacuum` the named tables (every bronze and silver table by default)."""
    from shoplake.spark import get_spark

    spark = get_spark(settings)
    root = lake_root or settings.lake_path
    hours = settings.lake_vacuum_retention_hours if retention_hours is None else retention_hours
    done = []
    for table in tables_named(names):
        if action == "optimize":
            done.append(optimize(spark, table, root))
        elif action == "vacuum":
            done.append(vacuum(spark, table, root, hours))
        else:
            raise ValueError(f"unknown maintenance action {action!r}")
    return done
