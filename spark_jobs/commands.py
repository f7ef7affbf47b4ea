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


gold_app = typer.Typer(
    help="The gold layer: dbt marts on the Spark SQL endpoint, quality gates, docs.",
    no_args_is_help=True,
)


def _gold_failure(exc: Exception) -> typer.Exit:
    return fail(str(exc))


@gold_app.command("build")
def gold_build(
    select: Annotated[
        list[str] | None, typer.Option("--select", "-s", help="dbt node selection (repeatable)")
    ] = None,
    full_refresh: Annotated[bool, typer.Option(help="rebuild incremental marts whole")] = False,
    gates: Annotated[bool, typer.Option(help="run the silver and gold quality gates")] = True,
) -> None:
    """Gate silver, `dbt build` the marts and their tests, gate gold; stops at a failure."""
    from spark_jobs.gold.dbt import DbtFailed
    from spark_jobs.gold.gates import GateFailed
    from spark_jobs.gold.pipeline import build
    from spark_jobs.gold.render import render_gate

    try:
        report = build(
            get_settings(),
            select=select or (),
            full_refresh=full_refresh,
            gates=gates,
            note=lambda step: console.print(f"… {step}", highlight=False),
        )
    except GateFailed as exc:
        console.print(render_gate(exc.result))
        raise _gold_failure(exc) from None
    except DbtFailed as exc:
        raise _gold_failure(exc) from None
    for result in (report.silver_gate, report.gold_gate):
        if result is not None:
            console.print(render_gate(result))
    console.print(report.dbt.summary(), highlight=False)


@gold_app.command("test")
def gold_test() -> None:
    """dbt's tests, the sources' freshness, and revenue reconciled against Postgres."""
    from spark_jobs.gold.pipeline import run_tests
    from spark_jobs.gold.render import render_freshness, render_revenue

    report = run_tests(
        get_settings(), check=False, note=lambda s: console.print(f"… {s}", highlight=False)
    )
    console.print(report.dbt.summary(), highlight=False)
    for node in report.dbt.failures:
        console.print(f"  [red]{node.status}[/] {node.name}: {node.message or ''}", highlight=False)
    console.print(render_freshness(report.freshness))
    console.print(render_revenue(report.revenue))
    if not report.ok:
        raise fail("the gold layer's tests did not pass")


@gold_app.command("gate")
def gold_gate(
    layer: Annotated[str, typer.Argument(help="silver (before dbt) or gold (after it)")],
) -> None:
    """Run one layer's quality gate; exits 1 and names the failing rows when it fails."""
    from spark_jobs.gold.gates import GateFailed
    from spark_jobs.gold.pipeline import gate
    from spark_jobs.gold.render import render_gate

    if layer not in ("silver", "gold"):
        raise fail(f"unknown layer {layer!r}: silver or gold", code=2)
    try:
        result = gate(get_settings(), layer)  # type: ignore[arg-type]
    except GateFailed as exc:
        console.print(render_gate(exc.result))
        raise _gold_failure(exc) from None
    console.print(render_gate(result))


@gold_app.command("docs")
def gold_docs() -> None:
    """dbt's documentation site (lineage, columns, tests) and the quality gates' Data Docs."""
    from spark_jobs.gold.dbt import DbtFailed
    from spark_jobs.gold.pipeline import docs

    try:
        report = docs(get_settings())
    except DbtFailed as exc:
        raise _gold_failure(exc) from None
    console.print(f"dbt docs: {report.dbt_site}", highlight=False)
    console.print(f"quality gates: {report.quality_site or '(no gate has run yet)'}")


@gold_app.command(
    "dbt", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def gold_dbt(context: typer.Context) -> None:
    """Any dbt command on the gold project, at the endpoint: `shoplake gold dbt -- run -s x`."""
    from spark_jobs.gold.dbt import GoldTarget, run_dbt

    settings = get_settings()
    run = run_dbt(settings, GoldTarget.of(settings), context.args, check=False)
    console.print(run.output, markup=False, highlight=False)
    if not run.ok:
        raise typer.Exit(1)
