"""`shoplake stack` and `shoplake db`: the local services and the OLTP schema."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from shoplake import db
from shoplake.commands.common import console, fail
from shoplake.config import get_settings
from shoplake.stack import Stack, StackError
from shoplake.stack.manager import Reporter
from shoplake.stack.process import tail
from shoplake.stack.service import ServiceStatus

stack_app = typer.Typer(help="The local stack: Kafka, Elasticsearch, PostgreSQL, Redis.")
db_app = typer.Typer(help="The OLTP schema (Alembic).")


@contextmanager
def _reporter() -> Iterator[Reporter]:
    """A live spinner per service on a terminal; plain, throttled lines in CI logs."""
    if console.is_terminal:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def report(name: str, message: str) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(message)
                progress.update(tasks[name], description=message)

            yield report
    else:
        last: dict[str, tuple[str, float]] = {}

        def report(name: str, message: str) -> None:
            kind = message.split("(")[0]
            previous = last.get(name)
            if previous and previous[0] == kind and time.monotonic() - previous[1] < 10:
                return
            last[name] = (kind, time.monotonic())
            console.print(message, highlight=False)

        yield report


@stack_app.command("up")
def stack_up(
    migrate: bool = typer.Option(True, help="Run the database migrations once Postgres is up."),
) -> None:
    """Start every service that is not running and wait until each answers a health probe."""
    settings = get_settings()
    stack = Stack(settings)
    try:
        with _reporter() as report:
            results = stack.up(report)
        if migrate:
            db.upgrade(settings)
    except StackError as exc:
        raise fail(str(exc)) from None
    for result in results:
        verb = "started" if result.started else "already running"
        console.print(f"[green]✓[/] {result.name} {verb} ({result.seconds:.1f}s)")
    if migrate:
        console.print("[green]✓[/] database schema at head")


@stack_app.command("down")
def stack_down() -> None:
    """Stop every service that shoplake started."""
    stack = Stack(get_settings())
    try:
        stopped = stack.down()
    except StackError as exc:
        raise fail(str(exc)) from None
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@stack_app.command("status")
def stack_status() -> None:
    """Each service's state, port, pid and version; exits 1 unless all are healthy."""
    rows = Stack(get_settings()).status()
    table = Table(title="shoplake stack")
    for column in ("service", "state", "port", "pid", "version", "endpoint"):
        table.add_column(column)
    for row in rows:
        colour = "green" if row.state in {"running", "external"} else "red"
        table.add_row(
            row.name,
            f"[{colour}]{row.state}[/]",
            str(row.port),
            str(row.pid or "-"),
            row.version or "-",
            row.endpoint,
        )
    Console(width=140).print(table)
    _print_pipeline(rows)
    if any(row.state not in {"running", "external"} for row in rows):
        raise typer.Exit(1)


def _print_pipeline(rows: list[ServiceStatus]) -> None:
    """The pipeline's lags (the oldest unsent outbox row, bronze behind Kafka): reported with
    the services, in red past their alarm thresholds (the API's /readyz turns red then too)."""
    from shoplake import pipeline

    settings = get_settings()
    up = {row.name for row in rows if row.state in {"running", "external"}}
    table = Table(title="pipeline")
    for column in ("stage", "state", "lag", "records", "alarm after"):
        table.add_column(column)
    lags = []
    if "postgres" in up:
        engine = db.make_engine(settings, pool_size=1)
        try:
            lags.append((pipeline.outbox_lag(engine, settings), settings.outbox_lag_alarm_s))
        finally:
            engine.dispose()
    if "kafka" in up:
        lags.append((pipeline.bronze_lag(settings), settings.bronze_lag_alarm_s))
    for lag, threshold in lags:
        colour = "red" if lag.alarm else "green" if lag.state == "ok" else "yellow"
        table.add_row(
            lag.stage,
            f"[{colour}]{'ALARM: ' if lag.alarm else ''}{lag.state}[/]",
            "-" if lag.seconds is None else f"{lag.seconds:.0f}s",
            "-" if lag.records is None else str(lag.records),
            f"{threshold:.0f}s",
        )
    Console(width=140).print(table)


@stack_app.command("logs")
def stack_logs(
    service: str = typer.Argument(..., help="kafka, elasticsearch, postgres or redis"),
    lines: int = typer.Option(50, "--lines", "-n"),
) -> None:
    """The last lines of a service's log."""
    try:
        svc = Stack(get_settings()).service(service)
    except StackError as exc:
        raise fail(str(exc), code=2) from None
    console.print(f"[dim]{svc.log_file}[/]")
    console.print(tail(svc.log_file, lines), highlight=False, markup=False)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the migrations up to REVISION."""
    settings = get_settings()
    db.upgrade(settings, revision)
    console.print(f"database at {db.current_revision(settings)}")


@db_app.command("current")
def db_current() -> None:
    """The revision the database is at."""
    console.print(db.current_revision(get_settings()) or "(empty)")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument("-1", help="-1 for one step back, base for an empty schema"),
) -> None:
    """Take the schema back to REVISION (each migration's downgrade, newest first)."""
    settings = get_settings()
    db.downgrade(settings, revision)
    console.print(f"database at {db.current_revision(settings) or '(empty)'}")
