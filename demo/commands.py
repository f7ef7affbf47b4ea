"""`shoplake demo`: the platform's story end to end, printed as it goes."""

from __future__ import annotations

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings
from shoplake.stack import StackError


def demo(
    lake: bool = typer.Option(True, help="land the story's events in bronze and silver"),
    models: bool = typer.Option(True, help="train, publish and ask the recommendation models"),
) -> None:
    """The main job: the platform's story, from the stack round trip to the reconciled lake.

    A round trip through every component, a shopper story through the API (search, then a
    checkout followed to the door and an old order archived), and the story's events landed in
    bronze and silver and reconciled.
    """
    from demo.after_checkout import after_checkout_story
    from demo.roundtrip import run_round_trip
    from demo.search_story import search_demo
    from demo.story import run_story

    settings = get_settings()

    def chapters(base_url: str) -> None:
        """What runs while the story's API still serves."""
        search_demo(base_url, console)
        after_checkout_story(settings, base_url, console)

    try:
        run_round_trip(settings, console)
        run_story(settings, console, then=chapters)
    except StackError as exc:
        raise fail(str(exc)) from None
    if not lake:
        return
    from shoplake.spark import get_spark
    from spark_jobs.reconcile import reconcile, render
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
    if models:
        from demo.ml_story import models_demo

        models_demo(settings, console)
