"""The serving layer's commands: `shoplake serve`, `outbox`, `users`, `inventory`, `orders`,
`fulfilment` and `db revision` (serving owns the OLTP schema). Heavy imports stay inside each
command."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings, override_settings

outbox_app = typer.Typer(help="The transactional outbox.")
users_app = typer.Typer(help="Accounts administration.")
inventory_app = typer.Typer(help="The stock ledger: expired holds and the Redis admission gate.")
orders_app = typer.Typer(help="Orders: settle checkouts that stopped half-way, archive old ones.")
fulfilment_app = typer.Typer(help="Shipments: carrier tracking.")
import_app = typer.Typer(help="Bulk imports of products and stock (CSV or JSON Lines).")


def serve(
    host: str | None = typer.Option(None, help="defaults to SHOPLAKE_API_HOST"),
    port: int | None = typer.Option(None, help="defaults to SHOPLAKE_API_PORT"),
    workers: int | None = typer.Option(None, min=1, help="defaults to SHOPLAKE_API_WORKERS"),
    relay: bool | None = typer.Option(
        None, help="run the outbox relay in the app (defaults to SHOPLAKE_OUTBOX_RELAY_IN_APP)"
    ),
    log_level: str | None = typer.Option(None, help="defaults to SHOPLAKE_LOG_LEVEL"),
) -> None:
    """Run the HTTP API with uvicorn. Every option reaches every worker; with --relay each
    worker runs a relay and one of them (the advisory lock's holder) publishes."""
    import uvicorn

    overrides: dict[str, object] = {
        name: value
        for name, value in {
            "api_host": host,
            "api_port": port,
            "api_workers": workers,
            "outbox_relay_in_app": relay,
            "log_level": log_level,
        }.items()
        if value is not None
    }
    # Workers are fresh processes that build their app from the environment's settings.
    settings = override_settings(overrides)
    common: dict[str, object] = {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": settings.log_level.lower(),
        # X-Forwarded-For is judged by the app against SHOPLAKE_TRUSTED_PROXIES, never by
        # uvicorn's loopback default; and no server header names the product.
        "proxy_headers": False,
        "server_header": False,
        # A line per request costs a worker measurably (ARCHITECTURE.md, "Performance").
        "access_log": settings.api_access_log,
    }
    if settings.api_workers > 1:
        uvicorn.run("serving.app:create_app", factory=True, workers=settings.api_workers, **common)  # type: ignore[arg-type]
        return
    from serving.app import create_app

    uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]


@outbox_app.command("relay")
def relay(
    once: bool = typer.Option(False, "--once", help="publish what is pending, then exit"),
) -> None:
    """Publish pending outbox rows to Kafka, in order per key; runs until interrupted."""
    from serving.outbox import OutboxRelay, drain
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    outbox_relay = OutboxRelay(settings, engine)
    try:
        if once:
            console.print(f"published {drain(outbox_relay, timeout_s=300)} events")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        console.print("outbox relay running (Ctrl-C to stop)")
        outbox_relay.run_forever(stop)
        console.print(f"published {outbox_relay.stats.sent} events")
    finally:
        engine.dispose()


@outbox_app.command("status")
def status() -> None:
    """How many outbox rows wait to be published, the oldest one's age, rows set aside."""
    from serving.outbox import dead_letters
    from shoplake import pipeline
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=1)
    try:
        lag = pipeline.outbox_lag(engine, settings)
        dead = len(dead_letters(engine, limit=10_000))
    finally:
        engine.dispose()
    console.print(
        f"pending: {lag.records}, oldest unsent: {lag.seconds or 0:.1f}s ({lag.state}), "
        f"set aside: {dead}"
    )


@outbox_app.command("dead")
def dead(limit: int = typer.Option(100, min=1)) -> None:
    """Rows the broker refused for good, set aside by the relay (newest first)."""
    from rich.table import Table

    from serving.outbox import dead_letters
    from shoplake.db import make_engine

    engine = make_engine(get_settings(), pool_size=1)
    try:
        rows = dead_letters(engine, limit)
    finally:
        engine.dispose()
    table = Table(title=f"outbox rows set aside ({len(rows)})")
    for column in ("id", "event type", "topic", "key", "bytes", "reason", "set aside at"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.event_type,
            row.topic,
            row.key,
            str(row.size_bytes),
            row.reason,
            row.dead_at,
        )
    console.print(table)


@outbox_app.command("retry")
def retry(
    dead_id: int = typer.Argument(..., metavar="ID", help="the id `outbox dead` shows"),
) -> None:
    """Put a set-aside row back into the outbox, once what the broker refused is fixed."""
    from serving.outbox import retry_dead_letter
    from shoplake.db import make_engine

    engine = make_engine(get_settings(), pool_size=1)
    try:
        moved = retry_dead_letter(engine, dead_id)
    finally:
        engine.dispose()
    if not moved:
        raise fail(f"no set-aside outbox row {dead_id} (see `shoplake outbox dead`)", code=1)
    console.print(f"outbox row {dead_id} is pending again; the relay sends it next")


@users_app.command("create-admin")
def create_admin(
    email: str = typer.Option(..., prompt=True),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create an administrator account (the first admin cannot register through the API)."""
    from pydantic import ValidationError

    from serving.accounts import service
    from serving.accounts.schemas import UserRegister
    from serving.errors import ApiError
    from serving.security import Role
    from shoplake.db import make_engine

    try:
        body = UserRegister(email=email, password=password)
    except ValidationError as exc:
        raise fail(f"invalid email or password: {exc.errors()[0]['msg']}", code=2) from None
    engine = make_engine(get_settings(), pool_size=1)
    try:
        with engine.begin() as conn:
            user = service.register(conn, body, role=Role.ADMIN, settings=get_settings())
    except ApiError as exc:
        raise fail(exc.message, code=1) from None
    finally:
        engine.dispose()
    console.print(f"created admin {user.email} ({user.id})")


@inventory_app.command("sweep")
def inventory_sweep() -> None:
    """Release the stock of reservations whose orders were not paid in time."""
    import redis

    from serving.inventory import service
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    try:
        result = service.sweep_expired(
            engine,
            gate=service.gate_for(client, settings),
            batch=settings.inventory_sweep_batch,
        )
        console.print(f"released {result.units} units held by {result.orders} expired orders")
    finally:
        client.close()
        engine.dispose()


@inventory_app.command("rebuild-gate")
def inventory_rebuild_gate() -> None:
    """Set the Redis stock gate of every tracked SKU from the Postgres ledger."""
    import redis

    from serving.inventory import service
    from serving.inventory.gate import StockGate
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=1)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    try:
        keys = service.rebuild_gate(engine, StockGate(client))
        console.print(f"stock gate rebuilt: {keys} SKUs")
    finally:
        client.close()
        engine.dispose()


@orders_app.command("sweep")
def orders_sweep(
    grace_s: float | None = typer.Option(
        None,
        help="settle orders pending longer than this (default SHOPLAKE_ORDERS_PENDING_GRACE_S)",
    ),
) -> None:
    """Confirm, cancel or fail every order still PENDING_PAYMENT after the grace period."""
    import redis

    from serving.checkout import service
    from serving.payments.factory import make_gateway
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    try:
        result = service.sweep(engine, client, settings, make_gateway(settings), grace_s=grace_s)
        console.print(
            f"confirmed {result.confirmed}, payment failed {result.failed}, "
            f"cancelled {result.cancelled}, left for later {result.skipped}"
        )
    finally:
        client.close()
        engine.dispose()


def db_revision(
    message: str = typer.Option(..., "-m", "--message"),
    autogenerate: bool = typer.Option(True, help="compare the tables with the database"),
) -> None:
    """Write the next migration (`000N_<message>.py`) from the tables of every serving domain."""
    import serving.tables  # noqa: F401 - registers every table on shoplake.db.metadata
    from shoplake import db

    path = db.revision(get_settings(), message, autogenerate=autogenerate)
    console.print(f"wrote {path}: review it, then `shoplake db upgrade`")


@fulfilment_app.command("track")
def fulfilment_track(
    follow: bool = typer.Option(False, "--follow", help="poll until interrupted"),
    interval_s: float = typer.Option(30.0, min=0.1, help="with --follow: seconds between polls"),
) -> None:
    """Ask the carrier about every shipment it has: new scans move shipments and orders."""
    from serving.fulfilment import service
    from serving.unit_of_work import SqlUnitOfWork
    from shoplake.db import make_engine

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while True:
            run = service.track(SqlUnitOfWork(engine, settings=settings))
            console.print(
                f"checked {run.checked}, {run.scans} new scans, {run.delivered} delivered, "
                f"{run.orders_delivered} orders delivered, {run.unreachable} unanswered",
                highlight=False,
            )
            if not follow or stop.wait(interval_s):
                return
    finally:
        engine.dispose()


def _import(kind: str, path: Path, fmt: str | None, partial: bool) -> None:
    """One import through the API's rules, with a progress bar; exits 1 if nothing applied."""
    import io

    import redis
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Table

    from serving.imports.schemas import ImportFormat, ImportKind
    from serving.imports.service import format_of, run_import
    from shoplake.db import make_engine

    chosen = format_of(path.name, ImportFormat(fmt) if fmt else None)
    if chosen is None:
        raise fail("name the format with --format csv|jsonl (or use .csv / .jsonl)", code=2)
    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    size = path.stat().st_size
    try:
        with (
            path.open("rb") as raw,
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            ) as bar,
        ):
            task = bar.add_task(f"{kind} ← {path.name}", total=size, rows=0)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            report = run_import(
                engine,
                client,
                settings,
                ImportKind(kind),
                chosen,
                text,
                partial=partial,
                progress=lambda rows: bar.update(task, completed=raw.tell(), rows=rows),
            )
            bar.update(task, completed=size)
    except UnicodeDecodeError as exc:
        raise fail(f"{path} is not UTF-8: {exc}") from None
    finally:
        client.close()
        engine.dispose()
    rate = report.rows / report.seconds if report.seconds else 0.0
    console.print(
        f"{report.rows} rows in {report.seconds:.1f}s ({rate:,.0f} rows/s): "
        f"{report.accepted} accepted, {report.refused} refused; "
        + ("applied" if report.applied else "nothing applied"),
        highlight=False,
    )
    if report.errors:
        table = Table(title="refused rows")
        for column in ("line", "column", "reason", "value"):
            table.add_column(column)
        for error in report.errors[:50]:
            table.add_row(str(error.line), error.column or "-", error.reason, error.value or "")
        console.print(table)
        hidden = len(report.errors) - 50 + report.errors_not_listed
        if hidden > 0:
            console.print(f"... and {hidden} more", highlight=False)
    if report.refused and not report.applied:
        raise typer.Exit(1)


FormatOption = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)")
PartialOption = typer.Option(False, "--partial", help="apply the good rows even if some fail")


@import_app.command("products")
def import_products(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    fmt: str | None = FormatOption,
    partial: bool = PartialOption,
) -> None:
    """Create or replace products (the fields of POST /v1/admin/products), all or nothing."""
    _import("products", file, fmt, partial)


@import_app.command("stock")
def import_stock(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    fmt: str | None = FormatOption,
    partial: bool = PartialOption,
) -> None:
    """Set counted stock: sku, warehouse_id, on_hand[, note] per row, all or nothing."""
    _import("stock", file, fmt, partial)
