"""Consumers that join two sibling layers: a streaming loop and the serving rules it applies.

`streaming.fulfilment_consumer` reads order events from Kafka; the shipments it makes are
serving's (`serving.fulfilment.intake`). Neither layer may import the other, so the command
that puts them together lives here, at the composition root (ARCHITECTURE.md, "Fulfilment").
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from shoplake.commands.common import console
from shoplake.config import get_settings


def stream_fulfilment(
    once: Annotated[
        bool, typer.Option("--once", help="catch up with what is in Kafka now, then stop")
    ] = False,
    idle_s: Annotated[float, typer.Option(help="with --once: stop after this long idle")] = 3.0,
) -> None:
    """Kafka order events → shipments (one per warehouse of each confirmed order)."""
    import redis

    from serving.fulfilment.intake import ShipmentIntake
    from shoplake.db import make_engine
    from streaming.fulfilment_consumer import run

    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(f"fulfilment consumer ({'once' if once else 'continuous'})")
    try:
        stats = run(
            settings,
            ShipmentIntake(engine, settings, client),
            stop_after_idle_s=idle_s if once else None,
            stop=stop,
        )
    finally:
        client.close()
        engine.dispose()
    console.print(
        f"{stats.confirmed} confirmed orders → {stats.shipments_created} shipments "
        f"({stats.redelivered} already handled), {stats.shipments_cancelled} cancelled, "
        f"{stats.dead_letters} dead letters",
        highlight=False,
    )
