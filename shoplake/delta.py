"""Delta tables from the registry in `shoplake.lake`: create them, read them, cast rows to them.

Shared by bronze (streaming) and silver (spark_jobs), hence in the kernel; it imports pyspark.
"""

from __future__ import annotations

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoplake.lake import Table


def ensure_table(spark: SparkSession, table: Table, lake_root: str) -> str:
    """Create the table at its path when it does not exist yet; return the path."""
    path = table.path(lake_root)
    builder = DeltaTable.createIfNotExists(spark).location(path).comment(table.description)
    for column in table.columns:
        builder = builder.addColumn(column.name, column.type, nullable=column.nullable)
    if table.partition_by:
        builder = builder.partitionedBy(*table.partition_by)
    builder.execute()
    return path


def conform(df: DataFrame, table: Table) -> DataFrame:
    """The table's columns, in its order and with its types; fails on a missing column."""
    return df.select(*(F.col(c.name).cast(c.type).alias(c.name) for c in table.columns))


def read_table(spark: SparkSession, table: Table, lake_root: str) -> DataFrame:
    return spark.read.format("delta").load(table.path(lake_root))
