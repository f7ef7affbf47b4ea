"""`shoplake inventory sweep` and `shoplake inventory rebuild-gate`."""

from __future__ import annotations

import typer

from shoplake.commands.common import console
from shoplake.config import get_settings

inventory_app = typer.Typer(help="The stock ledger: expired holds and the Redis admission gate.")


@inventory_app.command("sweep")
def sweep() -> None:
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
def rebuild_gate() -> None:
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
