"""Every benchmark in one command, with in-run baselines, one table and one summary.

    .venv/bin/python -m benchmarks            # full size (about an hour on 2 cores)
    .venv/bin/python -m benchmarks --quick    # a smoke run of every benchmark (minutes)
    .venv/bin/python -m benchmarks --quick --only api_floor --only flash_sale
    .venv/bin/python -m benchmarks --list

Each benchmark runs as its own command (`python -m benchmarks.<name> ...`, the CLI a person
would use) with its output in `benchmarks/results/logs/<name>.log`; a progress line says which
one runs. The baselines run first (`benchmarks.baselines`: a raw Redis GET loop, a raw Postgres
transaction of a reservation's shape, a raw Elasticsearch query; the minimal FastAPI route is
served by `api_floor` beside the API). Then one table — figure, in-run baseline, ratio, goal,
verdict — and `benchmarks/results/summary.json`, from which `python -m benchmarks.readme_table`
rewrites the README's "Measured so far". `outages` kills the stack's services: it runs only when
named with `--only`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.report import Goal, Row, Run, kept_runs, summary, table

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
Json = Mapping[str, Any]
Extract = Callable[[Json, Json, bool], list[Row]]


def dig(data: Json, *path: str | int) -> float | None:
    """The number at `path`, or None when the result does not hold it."""
    node: Any = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


@dataclass(frozen=True)
class Benchmark:
    name: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    extract: Extract
    by_default: bool = True


def _baselines(r: Json, _b: Json, _quick: bool) -> list[Row]:
    n = "baselines"
    return [
        Row(n, "Redis GET, one client", dig(r, "redis_get", "ops_per_s"), "/s"),
        Row(
            n,
            "Postgres reservation-shaped tx, hot row",
            dig(r, "postgres_reservation", "transactions_per_s"),
            "/s",
        ),
        Row(n, "Elasticsearch match query", dig(r, "elasticsearch_query", "queries_per_s"), "/s"),
    ]


def _api_floor(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row(
            "api_floor",
            "cached GET /v1/products/{sku}, 1 worker",
            dig(r, "api", "requests_per_s"),
            "req/s",
            baseline=dig(r, "minimal_fastapi", "requests_per_s"),
            baseline_name="minimal FastAPI",
            goal=Goal(">=", 0.5, on="ratio"),
        ),
        Row(
            "api_floor",
            "minimal FastAPI + one Redis GET",
            dig(r, "minimal_fastapi_with_redis_get", "requests_per_s"),
            "req/s",
            baseline=dig(r, "minimal_fastapi", "requests_per_s"),
            baseline_name="minimal FastAPI",
        ),
        Row("api_floor", "cached product GET p99", dig(r, "api", "p99_ms"), "ms"),
    ]


def _api_latency(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row(
            "api_latency",
            "cached product GET, httpx threads",
            dig(r, "get_product_cached", "requests_per_s"),
            "req/s",
        ),
        Row(
            "api_latency",
            "POST /v1/cart/items",
            dig(r, "post_cart_item", "requests_per_s"),
            "req/s",
        ),
    ]


def _flash_sale(r: Json, b: Json, _quick: bool) -> list[Row]:
    n = "flash_sale"
    units = dig(r, "units")
    return [
        Row(
            n,
            "checkout attempts/s, 2 workers",
            dig(r, "checkouts_per_s"),
            "/s",
            baseline=dig(b, "postgres_reservation", "transactions_per_s"),
            baseline_name="raw Postgres reservation tx",
            goal=Goal(">=", 1000),
        ),
        Row(n, "checkout p99", dig(r, "latency", "p99_ms"), "ms", goal=Goal("<", 250)),
        Row(
            n,
            "sold-out answers/s (the gate)",
            dig(r, "sold_out", "per_s"),
            "/s",
            baseline=dig(b, "redis_get", "ops_per_s"),
            baseline_name="raw Redis GET",
            goal=Goal(">=", 3000),
        ),
        Row(
            n,
            "API CPU per sold-out answer (2 workers together)",
            dig(r, "sold_out", "server_cpu_ms_per_request"),
            "ms",
        ),
        Row(n, "API CPU per checkout attempt", dig(r, "server_cpu_ms_per_attempt"), "ms"),
        Row(
            n,
            "confirmed orders",
            dig(r, "confirmed"),
            "",
            goal=Goal("==", units) if units is not None else None,
        ),
        Row(n, "oversold units", dig(r, "oversold"), "", goal=Goal("==", 0)),
        Row(n, "double charges", dig(r, "double_charges"), "", goal=Goal("==", 0)),
        Row(n, "logins/s (argon2id)", dig(r, "login_phase", "login", "per_s"), "/s"),
        Row(n, "registrations/s", dig(r, "login_phase", "register", "per_s"), "/s"),
    ]


def _login_storm(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row("login_storm", "logins/s, 2 workers", dig(r, "logins_per_s"), "/s"),
        Row(
            "login_storm",
            "product GET p99 during the storm",
            dig(r, "product_get_during_storm", "p99_ms"),
            "ms",
            baseline=dig(r, "product_get_alone", "p99_ms"),
            baseline_name="same GET, no storm",
        ),
    ]


def _search_latency(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row(
            "search_latency",
            "GET /v1/search p99",
            dig(r, "api", "p99_ms"),
            "ms",
            baseline=dig(r, "raw_es", "p99_ms"),
            baseline_name="raw ES query",
            goal=Goal("<=", 1.5, on="ratio"),
        ),
        Row("search_latency", "search freshness p95", dig(r, "freshness_s", "p95_ms"), "ms"),
    ]


def _ingest(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row(
            "ingest",
            "Kafka → bronze, sustained (a backlog, after the first batch)",
            dig(r, "runs", 0, "sustained_events_per_s"),
            "events/s",
            goal=Goal(">=", 20_000),
        ),
        Row(
            "ingest",
            "Kafka → bronze, from the stream's start",
            dig(r, "runs", 0, "bronze_events_per_s"),
            "events/s",
        ),
        Row(
            "ingest",
            "bronze freshness p95 at a steady rate",
            dig(r, "steady", "freshness_p95_s"),
            "s",
            goal=Goal("<", 10),
        ),
    ]


def _producer(r: Json, _b: Json, _quick: bool) -> list[Row]:
    return [
        Row(
            "producer",
            "Kafka producer, C CRC-32C",
            dig(r, "c_crc", "events_per_s"),
            "events/s",
            baseline=dig(r, "python_crc", "events_per_s"),
            baseline_name="same producer, pure-Python CRC",
        ),
        Row(
            "producer",
            "Kafka producer, librdkafka (the history's)",
            dig(r, "librdkafka", "events_per_s"),
            "events/s",
            baseline=dig(r, "c_crc", "events_per_s"),
            baseline_name="kafka-python, C CRC-32C",
        ),
    ]


def _simulator(r: Json, _b: Json, _quick: bool) -> list[Row]:
    # Generation and serialisation without I/O: Kafka and Postgres come on top in a real run.
    return [
        Row(
            "simulator",
            "history generated, no I/O",
            dig(r, "events_per_s"),
            "events/s",
            goal=Goal(">=", 20_000),
        )
    ]


def _gold(r: Json, _b: Json, _quick: bool) -> list[Row]:
    n = "gold"
    gold_cents, postgres_cents = (
        dig(r, "reconciliation", "gold_cents"),
        dig(r, "reconciliation", "postgres_cents"),
    )
    off = None if gold_cents is None or postgres_cents is None else gold_cents - postgres_cents
    return [
        Row(
            n,
            "history generated",
            dig(r, "history", "events_per_second"),
            "events/s",
            goal=Goal(">=", 20_000),
        ),
        Row(n, "full dbt build", dig(r, "full_build", "dbt_seconds"), "s", goal=Goal("<", 600)),
        Row(
            n,
            "incremental dbt build, one more day",
            dig(r, "incremental_build", "dbt_seconds"),
            "s",
            goal=Goal("<", 120),
        ),
        Row(
            n,
            "dashboard queries p95 (DuckDB)",
            dig(r, "dashboard_queries", "overall", "p95_ms"),
            "ms",
            goal=Goal("<", 500),
        ),
        Row(n, "net revenue, gold minus Postgres", off, "cents", goal=Goal("==", 0)),
        Row(
            n,
            "days gold ≠ silver",
            dig(r, "reconciliation", "gold_vs_silver_days_off"),
            "",
            goal=Goal("==", 0),
        ),
    ]


def _one(name: str, figure: str, *path: str | int, unit: str = "") -> Extract:
    def extract(r: Json, _b: Json, _quick: bool) -> list[Row]:
        return [Row(name, figure, dig(r, *path), unit)]

    return extract


def _imports(r: Json, _b: Json, _quick: bool) -> list[Row]:
    results = r.get("results", {})
    first = next((k for k in results if k.startswith("products_csv_")), None)
    value = dig(results, first, "rows_per_s") if first else None
    return [Row("imports", f"products CSV ({first or '?'})", value, "rows/s")]


def _models(r: Json, _b: Json, _quick: bool) -> list[Row]:
    n, recs, fc = "models", ("recommendations",), ("forecasts",)
    side = r.get("side_by_side", {})
    rows = [
        Row(n, "history interactions", dig(r, "history", "interactions"), ""),
        *(
            Row(
                n,
                f"recs champion {label}",
                dig(r, *recs, "champion", metric),
                "",
                baseline=dig(r, *recs, "metrics", "popularity", metric),
                baseline_name="popularity",
                goal=Goal(">=", 2, on="ratio"),
            )
            for label, metric in (("NDCG@10", "ndcg_at_10"), ("Recall@20", "recall_at_20"))
        ),
        # What the champion's Recall@20 can reach at best on this history (no goal: a yardstick).
        Row(
            n,
            "recs Recall@20 ceiling (the simulator's own taste + recent interest)",
            dig(r, *recs, "ceiling", "best_recall_at_20"),
            "",
            baseline=dig(r, *recs, "metrics", "popularity", "recall_at_20"),
            baseline_name="popularity",
        ),
        Row(
            n,
            "recs catalog coverage",
            dig(r, *recs, "champion", "coverage"),
            "",
            goal=Goal(">=", 0.3),
        ),
        Row(
            n,
            "recs training end to end",
            dig(r, *recs, "end_to_end_seconds"),
            "s",
            goal=Goal("<", 300),
        ),
    ]
    if side:
        rows.append(
            Row(
                n,
                "implicit ALS fit + evaluate",
                dig(side, "implicit_als", "seconds"),
                "s",
                baseline=dig(side, "spark_als", "seconds"),
                baseline_name="Spark ALS",
            )
        )
        rows.append(
            Row(
                n,
                "implicit ALS NDCG@10",
                dig(side, "implicit_als", "ndcg_at_10"),
                "",
                baseline=dig(side, "spark_als", "ndcg_at_10"),
                baseline_name="Spark ALS",
            )
        )
    if "forecasts" in r:
        naive_mase = dig(r, *fc, "seasonal_naive_mase")
        rows.append(
            Row(
                n,
                "forecast champion MASE, held-out 4 weeks",
                dig(r, *fc, "champion_mase"),
                "",
                baseline=naive_mase,
                baseline_name="seasonal naive",
                goal=Goal("<=", 0.8, on="ratio"),
            )
        )
        rows.append(
            Row(
                n,
                "forecast champion WRMSSE, held-out 4 weeks",
                dig(r, *fc, "champion_wrmsse"),
                "",
                baseline=dig(r, *fc, "seasonal_naive_wrmsse"),
                baseline_name="seasonal naive",
            )
        )
        # References to read the MASE by: on series that mostly sell nothing, forecasting
        # nothing scores better than seasonal naive, and knowing each held-out day's total in
        # hindsight scores worse (the reason WRMSSE picks the champion).
        rows += [
            Row(
                n,
                figure,
                dig(r, *fc, "references", reference, "mase"),
                "",
                baseline=naive_mase,
                baseline_name="seasonal naive",
            )
            for figure, reference in (
                ("forecast MASE of the all-zero forecast (reference)", "zero"),
                (
                    "forecast MASE of a hindsight oracle (knows each held-out day's total)",
                    "hindsight",
                ),
            )
        ]
    return rows


def _recs_api(r: Json, _b: Json, _quick: bool) -> list[Row]:
    n = "recs_api"
    return [
        Row(
            n,
            "GET /v1/recommendations?context=home p99",
            dig(r, "api", "p99_ms"),
            "ms",
            baseline=dig(r, "minimal_fastapi", "p99_ms"),
            baseline_name="minimal FastAPI",
            goal=Goal("<", 20),
        ),
        Row(
            n,
            "recommendations p50",
            dig(r, "api", "p50_ms"),
            "ms",
            baseline=dig(r, "redis_get", "p50_ms"),
            baseline_name="raw Redis GET",
        ),
    ]


def _elapsed(name: str) -> Extract:
    def extract(r: Json, _b: Json, _quick: bool) -> list[Row]:
        return []

    return extract


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("baselines", ("--seconds", "2", "--clients", "8"), ("--seconds", "5"), _baselines),
    Benchmark(
        "api_floor",
        ("--seconds", "3", "--rounds", "1"),
        ("--seconds", "10", "--rounds", "2"),
        _api_floor,
    ),
    Benchmark(
        "api_latency",
        ("--requests", "800", "--concurrency", "8", "--products", "20"),
        (),
        _api_latency,
    ),
    Benchmark("flash_sale", ("--shoppers", "200", "--units", "20"), (), _flash_sale),
    Benchmark("login_storm", ("--storm", "8", "--seconds", "3"), (), _login_storm),
    Benchmark(
        "search_latency",
        ("--count", "2000", "--seconds", "3", "--clients", "4", "--freshness-samples", "3"),
        (),
        _search_latency,
    ),
    Benchmark(
        "search_relevance",
        ("--count", "500"),
        (),
        _one("search_relevance", "NDCG@10", "ndcg_at_10"),
    ),
    Benchmark("producer", ("--events", "10000"), (), _producer),
    Benchmark("simulator", ("--quick",), (), _simulator),
    Benchmark(
        "ingest",
        ("--events", "20000", "--no-scale", "--seconds", "15"),
        # Three of bronze's 500k batches: "sustained" is the rate after the first one.
        ("--no-scale", "--events", "1500000"),
        _ingest,
    ),
    Benchmark(
        "fulfilment_consumer",
        ("--orders", "200"),
        (),
        _one("fulfilment_consumer", "shipments/s", "shipments_per_s", unit="/s"),
    ),
    Benchmark(
        "notifications",
        ("--users", "20", "--orders", "5"),
        (),
        _one("notifications", "e-mails/s", "emails_per_s", unit="/s"),
    ),
    Benchmark(
        "order_archive",
        ("--orders", "1000", "--batch-size", "500"),
        (),
        _one("order_archive", "archived rows/s", "rows_per_s", unit="/s"),
    ),
    Benchmark("imports", ("--rows", "10000"), (), _imports),
    Benchmark(
        "gold",
        ("--days", "14", "--users", "300", "--products", "120", "--rounds", "5"),
        (),
        _gold,
    ),
    Benchmark("models", ("--quick", "--no-spark"), (), _models),
    Benchmark("recs_api", ("--quick",), (), _recs_api),
    Benchmark("outages", ("--shoppers", "60"), (), _elapsed("outages"), by_default=False),
)


def newest_result(name: str, since: float) -> Path | None:
    """The result file `name` wrote during this run (each writes `<name>-<stamp>.json`)."""
    found = [
        p
        for p in RESULTS.glob(f"{name}-*.json")
        if p.stat().st_mtime >= since and p.name[len(name) + 1 : len(name) + 2].isdigit()
    ]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def run_one(bench: Benchmark, quick: bool, baselines: Json) -> tuple[Run, Json]:
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{bench.name}.log"
    argv = [
        sys.executable,
        "-m",
        f"benchmarks.{bench.name}",
        *(bench.quick if quick else bench.full),
    ]
    began_wall, began = time.time() - 1, time.perf_counter()
    with log_path.open("w") as log:
        log.write(" ".join(argv) + "\n")
        log.flush()
        code = subprocess.run(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - began
    path = newest_result(bench.name, began_wall)
    result: Json = json.loads(path.read_text()) if path else {}
    if code != 0 or path is None:
        tail = log_path.read_text().splitlines()[-15:]
        error = f"exit {code}" + ("" if path else ", no result file") + f"; see {log_path}"
        print("\n".join(f"    | {line}" for line in tail), file=sys.stderr)
        return Run(bench.name, False, seconds, [], error, str(path or "")), result
    try:
        rows = bench.extract(result, baselines, quick)
    except Exception as exc:  # a result of another shape must not lose the others' rows
        return Run(
            bench.name, False, seconds, [], f"figures unreadable: {exc!r}", str(path)
        ), result
    return Run(bench.name, True, seconds, rows, "", str(path.relative_to(ROOT))), result


def select(only: list[str], skip: list[str]) -> list[Benchmark]:
    known = {b.name for b in BENCHMARKS}
    unknown = sorted((set(only) | set(skip)) - known)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; see --list")
    chosen = [b for b in BENCHMARKS if (b.name in only if only else b.by_default)]
    return [b for b in chosen if b.name not in skip]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="smoke sizes (minutes, not an hour)")
    parser.add_argument("--only", action="append", default=[], help="repeatable")
    parser.add_argument("--skip", action="append", default=[], help="repeatable")
    parser.add_argument("--list", action="store_true", help="the benchmarks and their sizes")
    parser.add_argument("--summary", type=Path, default=RESULTS / "summary.json")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the summary's rows of the benchmarks not run now (refresh a few)",
    )
    args = parser.parse_args(argv)
    if args.list:
        for b in BENCHMARKS:
            extra = "" if b.by_default else "  (only with --only)"
            full = " ".join(b.full) or "(defaults)"
            print(f"{b.name:20} quick: {' '.join(b.quick) or '-'}  full: {full}{extra}")
        return 0
    chosen = select(args.only, args.skip)
    size = "quick" if args.quick else "full"
    baselines: Json = {}
    runs: list[Run] = []
    for i, bench in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {bench.name} ({size}) …", file=sys.stderr, flush=True)
        run, result = run_one(bench, args.quick, baselines)
        if bench.name == "baselines" and run.ok:
            baselines = result
        state = "done" if run.ok else f"FAILED ({run.error})"
        print(f"[{i}/{len(chosen)}] {bench.name} {state} in {run.seconds:.0f} s", file=sys.stderr)
        runs.append(run)
    rows = [row for run in runs for row in run.rows]
    print(table(rows))
    load = [round(x, 2) for x in os.getloadavg()]
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average": load}
    at = datetime.now(UTC).isoformat(timespec="seconds")
    if args.merge and args.summary.exists():
        previous = json.loads(args.summary.read_text())
        refreshed = ", ".join(run.benchmark for run in runs)
        machine["merged"] = f"{refreshed} at {at}; the others from {previous.get('at', '?')}"
        runs = kept_runs(previous, runs) + runs
    report = summary(runs, size=size, machine=machine, at=at)
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(report, indent=2))
    print(f"load average {load}; summary written to {args.summary}")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
