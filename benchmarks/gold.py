"""Gold-layer benchmark on the default shopper history (180 days, 5,000 shoppers, 2,000 products).

On a scratch Postgres database, test-only Kafka topics, a scratch lake under the state dir and
schemas of its own in the stack's Spark SQL endpoint:
1. simulate the history (ending a day ago): generation rate, relay time;
2. land it: bronze (once) and every silver job;
3. a full `gold build` (silver gate, `dbt build --full-refresh`, gold gate): time;
4. every dashboard query (`dashboards.queries`) 30 times through DuckDB: p50/p95 each, p95 over all;
5. one more simulated day, landed, and an incremental `gold build`: time;
6. the finance reconciliation: gold = silver (the mart) and gold = Postgres, to the cent.
Prints the figures and writes JSON to benchmarks/results/gold-<utc>.json.

    .venv/bin/python -m benchmarks.gold [--days 180 --users 5000 --products 2000]
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.harness import percentiles, write_result
from dashboards.queries import every_page
from demo.history.run import extend_history, simulate_history
from demo.history.scratch import land, scratch_database
from demo.history.world import HistoryParams
from shoplake.config import Settings, get_settings
from shoplake.duck import connect
from shoplake.lake import FINANCE_REVENUE_RECONCILIATION
from shoplake.spark import get_spark
from shoplake.sql_endpoint import cursor, drop_schemas
from spark_jobs.gold.dbt import GoldTarget
from spark_jobs.gold.pipeline import build
from spark_jobs.gold.reconcile import reconcile_revenue

SEED = 7


def _land(settings: Settings, root: str, namespace: str) -> float:
    began = time.perf_counter()
    land(get_spark(settings, app_name="shoplake-bench-gold"), settings, root, namespace)
    return time.perf_counter() - began


def _dashboard_queries(root: str, rounds: int) -> dict[str, Any]:
    con, _ = connect(root)
    last = con.execute("select max(date_day) from gold.dim_date").fetchone()[0]  # type: ignore[index]
    first = last - timedelta(days=90)
    workload = every_page(first, last)
    samples: dict[str, list[float]] = {name: [] for name in workload}
    for _ in range(rounds):
        for name, query in workload.items():
            began = time.perf_counter()
            con.execute(query.sql, list(query.params)).df()
            samples[name].append(time.perf_counter() - began)
    everything = [s for values in samples.values() for s in values]
    return {
        "overall": percentiles(everything),
        "per_query": {name: percentiles(values) for name, values in samples.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    base = get_settings()
    unique = uuid.uuid4().hex[:8]
    name = f"shoplake_bench_gold_{unique}"
    work = base.state_dir / "bench-gold" / unique
    root, namespace = str(work / "lake"), f"bench{unique}"
    target = GoldTarget(root, f"bench{unique}_")
    with scratch_database(base, name, gold_dir=work / "gold") as settings:
        try:
            _run(args, settings, root, namespace, target)
        finally:
            with cursor(base) as cur:
                drop_schemas(
                    cur, ("silver", "gold", "staging", "intermediate", "ref"), target.schema_prefix
                )
            shutil.rmtree(work, ignore_errors=True)


def _run(
    args: argparse.Namespace, settings: Settings, root: str, namespace: str, target: GoldTarget
) -> None:
    figures: dict[str, Any] = {"history": {"days": args.days, "users": args.users}}
    params = HistoryParams(
        days=args.days,
        users=args.users,
        products=args.products,
        seed=SEED,
        end=datetime.now(UTC).replace(microsecond=0) - timedelta(days=1),
    )
    history = simulate_history(settings, params, namespace=namespace, lake_root=root)
    figures["history"] |= {
        "products": args.products,
        "interactions": history.counts.interactions,
        "orders": history.counts.orders,
        "events": history.events,
        "outbox_rows": history.outbox_rows,
        "generate_seconds": round(history.simulate_seconds, 1),
        "events_per_second": round(history.events_per_second),
        "relay_seconds": round(history.relay_seconds, 1),
    }
    print(figures["history"], flush=True)
    figures["land_seconds"] = round(_land(settings, root, namespace), 1)
    print("landed in", figures["land_seconds"], flush=True)

    began = time.perf_counter()
    full = build(settings, target, full_refresh=True)
    figures["full_build"] = {
        "seconds": round(time.perf_counter() - began, 1),
        "dbt_seconds": round(full.dbt.seconds, 1),
        "nodes": len(full.dbt.results),
        "silver_gate_seconds": round(full.silver_gate.seconds, 1) if full.silver_gate else None,
        "gold_gate_seconds": round(full.gold_gate.seconds, 1) if full.gold_gate else None,
    }
    print("full build", figures["full_build"], flush=True)
    figures["dashboard_queries"] = _dashboard_queries(root, args.rounds)
    print("dashboard queries", figures["dashboard_queries"]["overall"], flush=True)

    more = extend_history(settings, SEED, days=1, namespace=namespace, lake_root=root)
    figures["one_more_day"] = {
        "events": more.events,
        "orders": more.counts.orders,
        "generate_seconds": round(more.simulate_seconds, 1),
        "land_seconds": round(_land(settings, root, namespace), 1),
    }
    began = time.perf_counter()
    incremental = build(settings, target)
    figures["incremental_build"] = {
        "seconds": round(time.perf_counter() - began, 1),
        "dbt_seconds": round(incremental.dbt.seconds, 1),
        "nodes": len(incremental.dbt.results),
    }
    print("incremental build", figures["incremental_build"], flush=True)

    from deltalake import DeltaTable

    finance = DeltaTable(FINANCE_REVENUE_RECONCILIATION.path(root)).to_pyarrow_dataset().to_table()
    revenue = reconcile_revenue(settings, lake_root=root)
    figures["reconciliation"] = {
        "days": finance.num_rows,
        "gold_vs_silver_days_off": sum(1 for d in finance["difference_cents"].to_pylist() if d),
        "gold_cents": revenue.gold_cents,
        "postgres_cents": revenue.postgres_cents,
        "exact": revenue.ok,
    }
    figures["targets"] = {
        "full_build_under_10_min": figures["full_build"]["dbt_seconds"] < 600,
        "incremental_under_2_min": figures["incremental_build"]["dbt_seconds"] < 120,
        "dashboard_p95_under_500_ms": figures["dashboard_queries"]["overall"]["p95_ms"] < 500,
        "reconciliation_exact": revenue.ok
        and figures["reconciliation"]["gold_vs_silver_days_off"] == 0,
    }
    write_result("gold", figures)


if __name__ == "__main__":
    main()
