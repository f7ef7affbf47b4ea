"""The Spark SQL endpoint, a service of the stack: it answers by table name, keeps its names
across a restart of the stack, and names every table again from the registry when its
metastore is fresh."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from shoplake.config import Settings
from shoplake.lake import GOLD_TABLES, SILVER_TABLES
from shoplake.sql_endpoint import query
from shoplake.stack import Stack
from shoplake.stack.spark_sql import SparkSqlService
from shoplake_cli.main import app


def _names(settings: Settings, schema: str) -> set[str]:
    return {str(row[1]) for row in query(settings, f"show tables in {schema}")}


def test_every_silver_table_is_there_by_name(stack: Stack, settings: Settings) -> None:
    assert {t.short_name for t in SILVER_TABLES} <= _names(settings, "silver")
    (row,) = query(settings, "select count(*) from silver.orders")
    assert row[0] >= 0
    status = CliRunner().invoke(app, ["stack", "status"])
    line = next(line for line in status.output.splitlines() if " spark-sql " in line)
    assert (
        "running" in line and f"jdbc:hive2://{settings.bind_host}:{settings.spark_sql_port}" in line
    )


@pytest.mark.stack_lifecycle
def test_names_survive_a_restart_and_come_back_to_a_fresh_metastore(
    stack: Stack, settings: Settings
) -> None:
    (before,) = query(settings, "select count(*) from silver.orders")[0]
    gold_before = _names(settings, "gold")

    stack.down()
    stack.up(lambda _name, _message: None)
    assert query(settings, "select count(*) from silver.orders")[0][0] == before
    assert _names(settings, "gold") == gold_before

    service = stack.service("spark-sql")
    assert isinstance(service, SparkSqlService)
    service.stop()
    shutil.rmtree(service.metastore)
    service.start(lambda _message: None)
    assert {t.short_name for t in SILVER_TABLES} <= _names(settings, "silver")
    built = {t.short_name for t in GOLD_TABLES} & gold_before
    assert built <= _names(settings, "gold")  # every gold table dbt had built
    assert query(settings, "select count(*) from silver.orders")[0][0] == before
