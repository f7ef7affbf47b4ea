"""The gold steps' results as tables a person reads (the CLI and the demo print them)."""

from __future__ import annotations

from rich.table import Table

from spark_jobs.gold.dbt import FreshnessRun
from spark_jobs.gold.gates import GateResult
from spark_jobs.gold.reconcile import RevenueReconciliation


def render_gate(result: GateResult) -> Table:
    table = Table(title=f"quality gate: {result.layer} ({result.seconds:.1f}s)")
    for column in ("table", "rows", "expectations", "result"):
        table.add_column(column, justify="right" if column in ("rows", "expectations") else "left")
    for item in result.tables:
        if item.missing:
            verdict = "[dim]no table yet[/]"
        elif item.ok:
            verdict = "[green]passed[/]"
        else:
            verdict = "[red]" + "; ".join(f.describe() for f in item.failures) + "[/]"
        table.add_row(item.table, f"{item.rows:,}", str(item.expectations), verdict)
    return table


def render_freshness(run: FreshnessRun) -> Table:
    table = Table(title="source freshness (newest row)")
    for column in ("source", "newest", "age", "status"):
        table.add_column(column)
    colours = {"pass": "green", "warn": "yellow"}
    for item in run.sources:
        age = "-" if item.age_seconds is None else f"{item.age_seconds / 3600:.1f} h"
        colour = colours.get(item.status, "red")
        table.add_row(item.source, item.max_loaded_at or "-", age, f"[{colour}]{item.status}[/]")
    return table


def render_revenue(result: RevenueReconciliation) -> Table:
    table = Table(title="net revenue: the marts against Postgres's payments")
    for column in ("order day", "orders", "gold", "Postgres", "difference"):
        table.add_column(column, justify="left" if column == "order day" else "right")
    shown = [d for d in result.days if d.difference_cents] or list(result.days[-7:])
    for day in shown:
        colour = "green" if day.difference_cents == 0 else "red"
        table.add_row(
            str(day.order_date),
            str(day.orders),
            f"{day.gold_cents / 100:,.2f}",
            f"{day.postgres_cents / 100:,.2f}",
            f"[{colour}]{day.difference_cents / 100:+,.2f}[/]",
        )
    table.caption = (
        f"all {len(result.days)} days: gold {result.gold_cents / 100:,.2f}, Postgres "
        f"{result.postgres_cents / 100:,.2f}; {len(result.in_flight)} orders not in the lake yet"
    )
    return table
