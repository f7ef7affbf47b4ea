"""`shoplake serve`, `shoplake outbox relay` and `shoplake users create-admin`."""

from __future__ import annotations

import signal
import threading

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

outbox_app = typer.Typer(help="The transactional outbox.")
users_app = typer.Typer(help="Accounts administration.")


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


cache_app = typer.Typer(help="The product read cache.")


@cache_app.command("invalidator")
def cache_invalidator() -> None:
    """Drop cached products as catalog events arrive (one per API deployment); until interrupted."""
    from streaming.cache_invalidator import run_forever

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print("cache invalidator running (Ctrl-C to stop)")
    run_forever(get_settings(), stop)
