"""`shoplake stream` (the long-running Kafka → bronze stream) and `shoplake lake` (silver
merges, reconciliation, compaction and vacuum). Spark is imported inside each command."""

from __future__ import annotations

from typing import Annotated

import typer

from shoplake.commands.common import console
from shoplake.config import get_settings

stream_app = typer.Typer(help="Long-running streams into the lake.", no_args_is_help=True)
lake_app = typer.Typer(help="The Delta Lake: silver merges, reconcile, optimize, vacuum.")

TopicsOption = Annotated[
    str | None,
    typer.Option("--topics", help="regex of the topics to read (default: every domain topic)"),
]


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
