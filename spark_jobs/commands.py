"""The batch layer's commands: `shoplake lake` (silver merges, reconciliation, compaction and
vacuum) and `shoplake search reindex`. Spark is imported inside each command."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplake.commands.common import TopicsOption, console, fail
from shoplake.config import get_settings

lake_app = typer.Typer(help="The Delta Lake: silver merges, reconcile, optimize, vacuum.")
search_app = typer.Typer(help="Product search: the Elasticsearch index.", no_args_is_help=True)


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
    from shoplake.spark import get_spark
    from spark_jobs.reconcile import reconcile as run_reconcile
    from spark_jobs.reconcile import render

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


@search_app.command("reindex")
def reindex(
    source: Annotated[
        str,
        typer.Option(help="auto (silver when it has rows, else Postgres), silver or postgres"),
    ] = "auto",
    alias: Annotated[str | None, typer.Option(help="the alias to rebuild")] = None,
) -> None:
    """Build a new index from the source, check its count, swap the alias, drop the old one."""
    from spark_jobs.search_reindex import ReindexError, run

    if source not in ("auto", "silver", "postgres"):
        raise fail(f"unknown source {source!r}: auto, silver or postgres")
    try:
        result = run(get_settings(), source=source, alias=alias)  # type: ignore[arg-type]
    except ReindexError as exc:
        raise fail(f"reindex aborted, the alias is unchanged: {exc}") from None
    console.print(
        f"{result.alias} → {result.index}: {result.indexed} documents "
        f"(source {result.source}: {result.source_count}) in {result.seconds:.1f}s; "
        f"removed {', '.join(result.removed) or 'nothing'}",
        highlight=False,
    )


def orders_archive(
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="archive final orders older than DAYS")
    ],
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="orders per batch (SHOPLAKE_ARCHIVE_BATCH_SIZE)")
    ] = None,
    max_batches: Annotated[int | None, typer.Option(min=1, help="stop after this many")] = None,
) -> None:
    """Move final orders, and all that hangs off them, from Postgres into the Delta archive.

    Batch by batch: copied, verified against Postgres, then deleted there. Safe to kill
    and rerun: a rerun finishes the open batch and never duplicates an order.
    """
    from spark_jobs.order_archive import archive_orders

    run = archive_orders(
        get_settings(), older_than_days=older_than, batch_size=batch_size, max_batches=max_batches
    )
    if run.busy:
        raise fail("another archive run holds the lock; nothing was done")
    for batch in run.batches:
        console.print(
            f"batch {batch.version:>5}  {batch.state:9} {batch.orders:>7} orders "
            f"{batch.row_count:>8} rows  {batch.seconds:6.2f}s"
            + ("  (resumed)" if batch.resumed else ""),
            highlight=False,
        )
    rate = run.rows / run.seconds if run.seconds else 0.0
    console.print(
        f"archived {run.orders} orders ({run.rows} rows) last changed before "
        f"{run.cutoff:%Y-%m-%d %H:%M} in {run.seconds:.1f}s ({rate:,.0f} rows/s)",
        highlight=False,
    )
    if any(batch.state == "discarded" for batch in run.batches):
        raise fail("a batch changed while it was copied and was discarded: run again")
