"""The demo's shopper history: one small simulated history, written into the stack before the
demo's lake step (which lands it with the story's events), that both the analysts' chapter and
the models' chapter read.

Eight weeks of 300 shoppers over 120 products: seconds to simulate and land, long enough for the
models' 14-day holdout and 14-day forecast, and big enough for the marts to show something. A
second run of the demo brings the same history up to now instead of writing another.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from rich.console import Console

from demo.history.run import HistoryError, simulate_or_extend
from demo.history.world import HistoryParams
from shoplake.config import Settings

DEMO_HISTORY = HistoryParams(days=56, users=300, products=120, seed=13)


def history_chapter(settings: Settings, console: Console) -> None:
    """Write the demo's history into Postgres and Kafka, or bring it up to now if it is there."""
    params = replace(DEMO_HISTORY, end=datetime.now(UTC).replace(microsecond=0))
    try:
        run, verb = simulate_or_extend(settings, params)
    except HistoryError as exc:  # up to date already: the lake has it
        console.print(f"… shopper history: {exc}", highlight=False)
        return
    since, until = run.window
    console.print(
        f"… shopper history h{params.seed} {verb}: {since:%Y-%m-%d %H:%M} → {until:%H:%M} UTC, "
        f"{run.counts.interactions:,} interactions, {run.counts.orders:,} orders, "
        f"{run.events:,} events ({run.outbox_rows:,} through the outbox) at "
        f"{run.events_per_second:,.0f} events/s ({params.users} shoppers, {params.products} "
        f"products, {params.days} days)",
        highlight=False,
    )
