"""`shoplake stream` (the long-running Kafka → bronze stream) and `shoplake lake` (silver
merges, reconciliation, compaction and vacuum). Spark is imported inside each command."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

stream_app = typer.Typer(help="Long-running streams into the lake.", no_args_is_help=True)
lake_app = typer.Typer(help="The Delta Lake: silver merges, reconcile, optimize, vacuum.")

TopicsOption = Annotated[
    str | None,
    typer.Option("--topics", help="regex of the topics to read (default: every domain topic)"),
]


@stream_app.command("bronze")
def stream_bronze(
    once: Annotated[
        bool, typer.Option("--once", help="catch up with what is in Kafka now, then stop")
    ] = False,
    topics: TopicsOption = None,
    deadletter_topic: Annotated[
        str | None, typer.Option("--deadletter-topic", help="where rejected records go")
    ] = None,
) -> None:
    """Kafka → Delta `bronze.events` (and `bronze.rejected`), exactly once, checkpointed."""
    from streaming.bronze import run

    settings = get_settings()
    console.print(f"bronze stream → {settings.lake_path} ({'once' if once else 'continuous'})")
    run(settings, once=once, topic_pattern=topics, deadletter_topic=deadletter_topic)


@lake_app.command("silver")
def silver(
    job: Annotated[
        list[str] | None, typer.Option("--job", help="run only these jobs (repeatable)")
    ] = None,
) -> None:
    """MERGE the bronze rows not merged yet into the silver tables (every job by default)."""
    from spark_jobs.silver.jobs import run_silver

    try:
        runs = run_silver(get_settings(), job)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for done in runs:
        console.print(
            f"{done.name:24} {done.bronze_rows:>9} bronze rows  {done.batches:>3} batches  "
            f"{done.seconds:6.1f}s",
            highlight=False,
        )


@lake_app.command("reconcile")
def reconcile(topics: TopicsOption = None) -> None:
    """Counts per event type: outbox (sent) = Kafka = bronze (+ rejected) = silver."""
    from spark_jobs.reconcile import reconcile as run_reconcile
    from spark_jobs.reconcile import render
    from spark_jobs.session import get_spark

    settings = get_settings()
    result = run_reconcile(get_spark(settings), settings, topic_pattern=topics)
    console.print(render(result))
    if not result.outbox_in_play:
        console.print("outbox: n/a (no outbox table, or no sent row for these topics)")
    if not result.ok:
        raise fail("the lake does not reconcile")


TablesOption = Annotated[
    list[str] | None,
    typer.Option("--table", help="e.g. bronze.events (repeatable; default: bronze and silver)"),
]


def _maintain(action: str, tables: list[str] | None, retention_hours: int | None = None) -> None:
    from spark_jobs.maintenance import run

    try:
        done = run(get_settings(), action=action, names=tables, retention_hours=retention_hours)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for item in done:
        console.print(
            f"{item.table:32} files {item.files_before:>6} → {item.files_after:<6}", highlight=False
        )


@lake_app.command("optimize")
def optimize(tables: TablesOption = None) -> None:
    """Compact small files into larger ones."""
    _maintain("optimize", tables)


@lake_app.command("vacuum")
def vacuum(
    tables: TablesOption = None,
    retention_hours: Annotated[
        int | None, typer.Option(help="default: SHOPLAKE_LAKE_VACUUM_RETENTION_HOURS")
    ] = None,
) -> None:
    """Delete the files no table version within the retention needs."""
    _maintain("vacuum", tables, retention_hours)
