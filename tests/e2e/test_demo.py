"""`shoplake demo`: the round trip through every component finds what it wrote."""

from __future__ import annotations

from deltalake import DeltaTable
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from shoplake.cli import app
from shoplake.config import Settings
from streaming.roundtrip import roundtrip_paths


def test_demo_round_trip_prints_every_step_and_lands_the_event(
    spark: SparkSession, settings: Settings
) -> None:
    # `spark` makes the demo reuse the suite's one session instead of starting its own.
    table_path, _ = roundtrip_paths(settings)
    before = DeltaTable(str(table_path)).version() if (table_path / "_delta_log").exists() else -1

    result = CliRunner().invoke(app, ["demo"])

    assert result.exit_code == 0, result.output
    for step in (
        "postgres write+read",
        "redis write+read",
        "kafka produce",
        "spark stream kafka→delta",
        "delta-rs read",
        "duckdb read",
        "elasticsearch index+search",
        "total",
        "admin seeds the catalog",
        "server-side quote",
        "outbox → Kafka",
        "Search (Elasticsearch behind /v1/search)",
        "autocomplete",
        "lake reconciliation",
    ):
        assert step in result.output
    assert DeltaTable(str(table_path)).version() > before
