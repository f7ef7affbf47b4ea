"""`shoplake search reindex` (full rebuild behind the alias) and `shoplake stream search` (the
near-real-time consumer of catalog and stock events into Elasticsearch)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings

search_app = typer.Typer(help="Product search: the Elasticsearch index.", no_args_is_help=True)


@search_app.command("reindex")
def reindex(
    source: Annotated[
        str,
        typer.Option(help="auto (silver when it has rows, else Postgres), silver or postgres"),
    ] = "auto",
    alias: Annotated[str | None, typer.Option(help="the alias to rebuild")] = None,
) -> None:
    """Build a new index from the source, check its count, swap the alias, drop the old one."""
    from shoplake.search.reindex import ReindexError, run

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
