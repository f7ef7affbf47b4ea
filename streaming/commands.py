"""The streaming layer's commands: `shoplake stream bronze|search|notifications` (long-running
Kafka consumers into the lake, the search index and users' mailboxes) and `shoplake cache
invalidator`. Spark and the clients are imported inside each command."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from shoplake.commands.common import TopicsOption, console
from shoplake.config import get_settings

stream_app = typer.Typer(help="Long-running streams: Kafka into the lake and the search index.")
cache_app = typer.Typer(help="The product read cache.")


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


@stream_app.command("search")
def stream_search(
    once: Annotated[
        bool, typer.Option("--once", help="catch up with what is in Kafka now, then stop")
    ] = False,
    idle_s: Annotated[float, typer.Option(help="with --once: stop after this long idle")] = 3.0,
) -> None:
    """Kafka catalog and stock events → Elasticsearch, near real time (consumer group)."""
    from streaming.search_consumer import run, stats_summary

    settings = get_settings()
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print(f"search consumer → {settings.search_alias} ({'once' if once else 'continuous'})")
    stats = run(settings, stop_after_idle_s=idle_s if once else None, stop=stop)
    console.print(stats_summary(stats), highlight=False)


@cache_app.command("invalidator")
def cache_invalidator() -> None:
    """Drop cached products as catalog events arrive (one per API deployment); until interrupted."""
    from streaming.cache_invalidator import run_forever

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print("cache invalidator running (Ctrl-C to stop)")
    run_forever(get_settings(), stop)


@stream_app.command("notifications")
def stream_notifications(
    once: Annotated[
        bool,
        typer.Option("--once", help="take what is in Kafka now, send what is due, then stop"),
    ] = False,
    idle_s: Annotated[float, typer.Option(help="with --once: stop after this long idle")] = 3.0,
) -> None:
    """Events → e-mail (SMTP), SMS and push (sandboxes) and the in-app feed, once each."""
    from streaming.notifications.consumer import run

    settings = get_settings()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    host, port = settings.smtp_endpoint
    console.print(
        f"notifications → smtp://{host}:{port} ({'once' if once else 'continuous'})",
        highlight=False,
    )
    stats = run(settings, stop=stop, stop_after_idle_s=idle_s if once else None)
    console.print(stats.summary(), highlight=False)
