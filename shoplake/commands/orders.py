"""`shoplake orders sweep`: settle orders left mid-checkout by asking the payment gateway."""

from __future__ import annotations

import typer

from shoplake.commands.common import console
from shoplake.config import get_settings

orders_app = typer.Typer(help="Orders: settle checkouts that stopped half-way.")


@orders_app.command("sweep")
def sweep(
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
