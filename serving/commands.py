"""The serving layer's commands: `shoplake serve`, `outbox`, `users`, `inventory`, `orders`,
`fulfilment` and `db revision` (serving owns the OLTP schema). Heavy imports stay inside each
command."""

from __future__ import annotations

import signal
import threading

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

outbox_app = typer.Typer(help="The transactional outbox.")
users_app = typer.Typer(help="Accounts administration.")
inventory_app = typer.Typer(help="The stock ledger: expired holds and the Redis admission gate.")
orders_app = typer.Typer(help="Orders: settle checkouts that stopped half-way, archive old ones.")
fulfilment_app = typer.Typer(help="Shipments: carrier tracking.")


def serve(
    host: str | None = typer.Option(None, help="defaults to SHOPLAKE_API_HOST"),
    port: int | None = typer.Option(None, help="defaults to SHOPLAKE_API_PORT"),
    workers: int = typer.Option(1, min=1),
    relay: bool | None = typer.Option(
        None, help="run the outbox relay in the app (defaults to SHOPLAKE_OUTBOX_RELAY_IN_APP)"
    ),
) -> None:
    """Run the HTTP API with uvicorn."""
    import uvicorn

    settings = get_settings()
    if relay is not None:
        settings = settings.model_copy(update={"outbox_relay_in_app": relay})
    if workers > 1:
        # Each worker builds its own app from the environment's settings.
        uvicorn.run(
            "serving.app:create_app",
            factory=True,
            host=host or settings.api_host,
            port=port or settings.api_port,
            workers=workers,
        )
        return
    from serving.app import create_app

    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=settings.log_level.lower(),
    )


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
    """How many outbox rows wait to be published."""
    from serving.outbox import OutboxRelay
    from shoplake.db import make_engine

    engine = make_engine(get_settings(), pool_size=1)
    try:
        console.print(f"pending: {OutboxRelay(get_settings(), engine).pending()}")
    finally:
        engine.dispose()


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
            user = service.register(conn, body, role=Role.ADMIN)
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
