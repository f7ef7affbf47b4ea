"""The `shoplake` command: local stack, database, event contract, demo and pipeline steps.

This module is the composition root: it alone in `shoplake` reaches into the other packages,
and only inside a command, so `import shoplake` stays free of Spark and FastAPI.
"""

from __future__ import annotations

import typer

from shoplake.commands.common import console, fail
from shoplake.commands.events import events_app
from shoplake.commands.inventory import inventory_app
from shoplake.commands.lake import lake_app, stream_app
from shoplake.commands.orders import orders_app
from shoplake.commands.search import search_app, stream_search
from shoplake.commands.serving import cache_app, outbox_app, serve, users_app
from shoplake.commands.stack import db_app, stack_app
from shoplake.config import get_settings
from shoplake.stack import StackError

app = typer.Typer(help="shoplake: a data-first e-commerce platform.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(db_app, name="db")
app.add_typer(events_app, name="events")
app.add_typer(stream_app, name="stream")
app.add_typer(lake_app, name="lake")
app.add_typer(outbox_app, name="outbox")
app.add_typer(users_app, name="users")
app.add_typer(cache_app, name="cache")
app.add_typer(inventory_app, name="inventory")
app.add_typer(orders_app, name="orders")
app.command("serve")(serve)
app.add_typer(search_app, name="search")
stream_app.command("search")(stream_search)


@app.command("demo")
def demo(
    lake: bool = typer.Option(True, help="land the story's events in bronze and silver"),
) -> None:
    """The main job: a round trip through every component, a shopper story through the API,
    and the story's events landed in the lake and reconciled."""
    from serving.demo import run_story
    from serving.search.demo import search_demo
    from streaming.roundtrip import run_round_trip

    settings = get_settings()
    try:
        run_round_trip(settings, console)
        run_story(settings, console, then=lambda base_url: search_demo(base_url, console))
    except StackError as exc:
        raise fail(str(exc)) from None
    if not lake:
        return
    from spark_jobs.reconcile import reconcile, render
    from spark_jobs.session import get_spark
    from spark_jobs.silver.jobs import run_silver
    from streaming.bronze import run as run_bronze

    console.print("… bronze: Kafka → Delta (available now)")
    run_bronze(settings, once=True)
    console.print("… silver: MERGE into the entity tables")
    for done in run_silver(settings):
        console.print(f"   {done.name:24} {done.bronze_rows:>7} bronze rows {done.seconds:6.1f}s")
    result = reconcile(get_spark(settings), settings)
    console.print(render(result))
    if not result.ok:
        raise fail("the lake does not reconcile")


if __name__ == "__main__":
    app()
