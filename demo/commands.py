"""`shoplake demo`: the platform's story end to end, printed as it goes."""

from __future__ import annotations

import typer

from shoplake.commands.common import console, fail
from shoplake.config import get_settings
from shoplake.stack import StackError


def demo(
    lake: bool = typer.Option(True, help="land the story's events in bronze and silver"),
    models: bool = typer.Option(True, help="train, publish and ask the recommendation models"),
    gold: bool = typer.Option(True, help="a shopper history, and the gold layer built on it"),
) -> None:
    """The main job: the platform's story, from the stack round trip to the reconciled lake.

    A round trip through every component, a shopper story through the API (search, then a
    checkout followed to the door and an old order archived), and the story's events landed in
    bronze and silver and reconciled; then a small shopper history lands with them and the gold
    layer is built on it (gates, marts, the reconciliation against Postgres); then the models.
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

    if gold or models:
        from demo.history_story import history_chapter

        history_chapter(settings, console)
    console.print("… bronze: Kafka → Delta (available now)")
    run_bronze(settings, once=True)
    console.print("… silver: MERGE into the entity tables")
    for done in run_silver(settings):
        console.print(f"   {done.name:24} {done.bronze_rows:>7} bronze rows {done.seconds:6.1f}s")
    result = reconcile(get_spark(settings), settings)
    console.print(render(result))
    if not result.ok:
        raise fail("the lake does not reconcile")
    if gold:
        from demo.gold_story import gold_chapter
        from spark_jobs.gold.dbt import DbtFailed
        from spark_jobs.gold.gates import GateFailed

        try:
            gold_chapter(settings, console)
        except (GateFailed, DbtFailed) as exc:
            raise fail(str(exc)) from None

    if models:
        from demo.ml_story import models_demo

        models_demo(settings, console)


simulate_app = typer.Typer(help="Simulated data for analysts and models.", no_args_is_help=True)


@simulate_app.command("history")
def simulate_history(
    days: int = typer.Option(180, min=1, help="days of history, ending at --end"),
    users: int = typer.Option(5000, min=10, help="shoppers who sign up"),
    products: int = typer.Option(2000, min=20, help="products in the catalog"),
    seed: int = typer.Option(7, help="the same seed gives the same history"),
    end: str | None = typer.Option(None, help="when the history ends (ISO 8601; default now)"),
    extend_days: float | None = typer.Option(
        None, help="instead: add this many days to the history with --seed"
    ),
) -> None:
    """Months of shoppers as if the platform had been running: Postgres, outbox and Kafka.

    Commerce facts go into the API's tables with their outbox rows (published by the relay),
    behaviour straight to Kafka; `shoplake stream bronze --once` and `shoplake lake silver`
    then land them. The planted structure is written to `<lake>/_history/h<seed>/`.
    """
    from datetime import UTC, datetime

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from demo.history.run import HistoryError, extend_history
    from demo.history.run import simulate_history as simulate
    from demo.history.world import HistoryParams

    settings = get_settings()
    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        days_task = progress.add_task("simulating days", total=None)
        relay_task = progress.add_task("outbox → Kafka", total=None, visible=False)

        def on_day(_day: object, total: int) -> None:
            progress.update(days_task, total=total, advance=1)

        def on_relay(sent: int, total: int) -> None:
            progress.update(relay_task, total=total, completed=sent, visible=True)

        try:
            if extend_days is not None:
                run = extend_history(settings, seed, extend_days, on_day=on_day, on_relay=on_relay)
            else:
                moment = datetime.fromisoformat(end) if end else datetime.now(UTC)
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                params = HistoryParams(
                    days=days, users=users, products=products, seed=seed, end=moment
                )
                run = simulate(settings, params, on_day=on_day, on_relay=on_relay)
        except (HistoryError, ValueError) as exc:
            raise fail(str(exc)) from None
    since, until = run.window
    console.print(
        f"history h{seed}: {since:%Y-%m-%d %H:%M} → {until:%Y-%m-%d %H:%M} UTC, "
        f"{run.counts.interactions:,} interactions, {run.counts.orders:,} orders, "
        f"{run.events:,} events ({run.outbox_rows:,} through the outbox, "
        f"{run.behaviour_events:,} straight to Kafka) at {run.events_per_second:,.0f} events/s; "
        f"relayed in {run.relay_seconds:.1f}s",
        highlight=False,
    )
    console.print(f"planted structure: {run.directory}/ground_truth.json", highlight=False)
