"""Naming the lake's tables in the Spark SQL endpoint: a fresh metastore gets every table back,
a known one is left alone, a name whose files are gone is dropped. On an in-memory metastore
(the statements are checked against the real endpoint in the integration tests)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from shoplake.config import Settings
from shoplake.lake import DEMAND_FORECASTS, FCT_ORDERS, ORDERS, PAYMENTS
from shoplake.sql_endpoint import (
    create_statement,
    name_written_tables,
    register_statement,
    register_tables,
)


class FakeMetastore:
    """What `register_tables` asks of a cursor: DDL, and `SHOW TABLES IN <schema>`."""

    def __init__(self) -> None:
        self.tables: dict[str, set[str]] = {}
        self.statements: list[str] = []
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str) -> None:
        self.statements.append(sql)
        if match := re.match(r"CREATE DATABASE IF NOT EXISTS (\w+)", sql):
            self.tables.setdefault(match[1], set())
        elif match := re.match(r"SHOW TABLES IN (\w+)", sql):
            self._rows = [(match[1], name, False) for name in sorted(self.tables[match[1]])]
        elif match := re.match(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)", sql):
            self.tables[match[1]].add(match[2])
            location = re.search(r"LOCATION '([^']+)'", sql)
            if location and " (" in sql.split("USING")[0]:  # a new empty table: Spark writes it
                _delta(location[1])
        elif match := re.match(r"DROP TABLE IF EXISTS (\w+)\.(\w+)", sql):
            self.tables[match[1]].discard(match[2])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def _delta(path: str) -> None:
    write_deltalake(path, pa.table({"x": [1]}))


def test_a_fresh_metastore_gets_every_table_back(tmp_path: Path) -> None:
    lake = str(tmp_path)
    _delta(ORDERS.path(lake))
    _delta(FCT_ORDERS.path(lake))
    metastore = FakeMetastore()
    done = register_tables(metastore, lake, tables=(ORDERS, PAYMENTS, FCT_ORDERS))
    assert done.registered == ("silver.orders", "gold.fct_orders")
    assert done.created == ("silver.payments",)  # nothing wrote it yet: empty, registry schema
    assert metastore.tables == {"silver": {"orders", "payments"}, "gold": {"fct_orders"}}
    again = register_tables(metastore, lake, tables=(ORDERS, PAYMENTS, FCT_ORDERS))
    assert not again.changed


def test_a_gold_table_dbt_has_not_built_waits_and_a_vanished_one_is_forgotten(
    tmp_path: Path,
) -> None:
    lake = str(tmp_path)
    metastore = FakeMetastore()
    metastore.tables = {"t1_gold": {"fct_orders"}}
    done = register_tables(metastore, lake, prefix="t1_", tables=(FCT_ORDERS,))
    assert done.dropped == ("t1_gold.fct_orders",)
    assert done.waiting == ("t1_gold.fct_orders",)
    assert metastore.tables["t1_gold"] == set()


def test_statements_name_the_lake_path_and_the_registry_schema() -> None:
    created = create_statement(PAYMENTS, "/lake", prefix="t1_")
    assert created.startswith(
        "CREATE TABLE IF NOT EXISTS t1_silver.payments (event_id string NOT NULL"
    )
    assert "USING DELTA PARTITIONED BY (event_date) LOCATION '/lake/silver/payments'" in created
    assert register_statement(ORDERS, "/la'ke") == (
        "CREATE TABLE IF NOT EXISTS silver.orders USING DELTA LOCATION '/la\\'ke/silver/orders'"
    )


def test_a_table_written_while_the_endpoint_is_down_waits_for_its_next_start() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = Settings(spark_sql_port=closed, bind_host="127.0.0.1")
    assert name_written_tables(settings, (DEMAND_FORECASTS,)) is None
