"""The demo's analyst chapters: a small shopper history lands with the story's events, then the
gold layer is built on the lake and shown (gates, daily revenue, the funnel, the reconciliation
against Postgres, the SQL endpoint and the dashboards).

The demo builds the marts it shows (and everything they depend on, with their tests);
`shoplake gold build` builds them all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from shoplake.config import Settings

# The marts the chapter shows, and the parents the gold gate checks them against (a customer
# of every order must be in dim_customers).
DEMO_MARTS = ("+sales_daily", "+funnel_daily", "+finance_revenue_reconciliation", "+dim_customers")
# What the chapter suggests an analyst types (and runs the first against the endpoint).
ENDPOINT_EXAMPLE = "select count(*) from gold.fct_orders"
DUCKDB_EXAMPLE = "select * from gold.sales_daily limit 5"


def gold_chapter(settings: Settings, console: Console) -> None:
    """Gate silver, build the demo's marts, gate gold, and show what they say."""
    from shoplake.commands.sql import render
    from shoplake.duck import connect, query
    from shoplake.sql_endpoint import query as endpoint_query
    from spark_jobs.gold.pipeline import build
    from spark_jobs.gold.reconcile import reconcile_revenue
    from spark_jobs.gold.render import render_gate, render_revenue

    report = build(
        settings,
        select=DEMO_MARTS,
        # The history is a backfill (past event times) and the incremental marts follow event
        # time within a look-back window, so the demo builds its marts whole.
        full_refresh=True,
        note=lambda step: console.print(f"… gold: {step}", highlight=False),
    )
    for gate in (report.silver_gate, report.gold_gate):
        if gate is not None:
            console.print(render_gate(gate))
    console.print(f"… {report.dbt.summary()}", highlight=False)

    con, _ = connect(settings.lake_path)
    since = (datetime.now(UTC) - timedelta(days=7)).date()
    revenue = query(
        con,
        "select order_date as day, sum(orders) as orders, sum(units) as units, "
        'sum(net_cents) / 100.0 as "net EUR", '
        'sum(net_cents) / 100.0 / nullif(sum(orders), 0) as "AOV EUR" '
        "from gold.sales_daily where order_date >= ? group by 1 order by 1",
        [since],
    )
    console.print(render(revenue, title="daily revenue (gold.sales_daily)"))
    funnel = query(
        con,
        "select date_day as day, sessions, view_sessions as viewed, cart_sessions as carted, "
        'checkout_sessions as "checked out", paid_sessions as paid, '
        'round(100 * conversion_rate, 1) as "conversion %" '
        "from gold.funnel_daily where date_day >= ? order by 1",
        [since],
    )
    console.print(render(funnel, title="the funnel (gold.funnel_daily)"))
    console.print(render_revenue(reconcile_revenue(settings)))
    host, port = settings.spark_sql_endpoint
    counted = endpoint_query(settings, ENDPOINT_EXAMPLE)[0][0]
    console.print(
        f"SQL endpoint: jdbc:hive2://{host}:{port}/default (beeline, PyHive, dbt; e.g. "
        f"`{ENDPOINT_EXAMPLE}` → {counted:,})\n"
        f"DuckDB: shoplake sql -c {DUCKDB_EXAMPLE!r}\n"
        f"dashboards: {settings.dashboards_endpoint}  ·  all marts: shoplake gold build",
        highlight=False,
    )
