"""Fast local reads of the lake: DuckDB with every silver and gold table as a view.

DuckDB reads each Delta table through delta-rs (`DeltaTable(path).to_pyarrow_dataset()`, with
filter and column pushdown), since DuckDB's own `delta` extension is downloaded at run time from
a site these machines do not reach (ARCHITECTURE.md, "DuckDB reads Delta through delta-rs").
Each view is `<layer>.<name>` as in the Spark SQL endpoint (`select * from gold.sales_daily`).
Shared by `shoplake sql`, the dashboards and the benchmarks; it imports duckdb and deltalake.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
from deltalake import DeltaTable

from shoplake.lake import GOLD_TABLES, SILVER_TABLES, Table

LAYERS_READ: tuple[Table, ...] = (*SILVER_TABLES, *GOLD_TABLES)


def _arrow_name(table: Table) -> str:
    return f"{table.layer}__{table.short_name}"


def connect(
    lake_root: str,
    tables: Iterable[Table] = LAYERS_READ,
    *,
    threads: int = 2,
) -> tuple[duckdb.DuckDBPyConnection, list[Table]]:
    """An in-memory DuckDB with a view per table that has a Delta log; the tables it found.

    The views read the table version current at connection time: reconnect (cheap: a few ms
    per table) to see newer versions.
    """
    con = duckdb.connect()
    con.execute(f"set threads = {int(threads)}")
    found = []
    for schema in sorted({t.layer for t in tables}):
        con.execute(f"create schema if not exists {schema}")
    for table in tables:
        path = table.path(lake_root)
        if not DeltaTable.is_deltatable(path):
            continue
        dataset = DeltaTable(path).to_pyarrow_dataset()
        con.register(_arrow_name(table), dataset)
        con.execute(
            f"create or replace view {table.layer}.{table.short_name} as "  # noqa: S608
            f"select * from {_arrow_name(table)}"
        )
        found.append(table)
    return con, found


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    seconds: float


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> QueryResult:
    began = time.perf_counter()
    cursor = con.execute(sql, list(params))
    rows = cursor.fetchall() if cursor.description else []
    columns = [d[0] for d in cursor.description or []]
    return QueryResult(columns, rows, time.perf_counter() - began)


@dataclass(frozen=True)
class TableFreshness:
    """How current a table is, from its Delta log (no scan): version, last write, row count."""

    name: str
    version: int | None
    last_write: datetime | None
    rows: int | None
    files: int | None

    @property
    def age_seconds(self) -> float | None:
        if self.last_write is None:
            return None
        return (datetime.now(UTC) - self.last_write).total_seconds()


def freshness(lake_root: str, tables: Iterable[Table] = LAYERS_READ) -> list[TableFreshness]:
    """Every table's last commit and size, read from its log; None fields when it has none."""
    result = []
    for table in tables:
        path = table.path(lake_root)
        if not DeltaTable.is_deltatable(path):
            result.append(TableFreshness(table.name, None, None, None, None))
            continue
        delta = DeltaTable(path)
        last = delta.history(1)
        written = datetime.fromtimestamp(int(last[0]["timestamp"]) / 1000, UTC) if last else None
        actions = delta.get_add_actions(flatten=True)
        records = actions.column("num_records") if "num_records" in actions.schema.names else None
        rows = sum(v for v in records.to_pylist() if v is not None) if records is not None else None
        result.append(TableFreshness(table.name, delta.version(), written, rows, actions.num_rows))
    return result
