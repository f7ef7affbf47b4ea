"""Ingest benchmark: Kafka → bronze throughput and freshness, then the silver merge time.

For N events (default 200,000, the realistic mix of `demo.loadgen`) and again for
Nxscale, on test-only topics and a scratch lake under the state dir:
- the bronze stream runs continuously while the events are produced with their time = now;
- a reader polls the Delta table with delta-rs and notes when each event becomes visible:
  freshness = visible - event time (p50, p95, max); throughput = N / (last visible - first sent);
- then every silver job runs once: the merge time.
Prints the figures and writes JSON to benchmarks/results/ingest-<utc>.json.

    .venv/bin/python benchmarks/ingest.py --events 200000 --scale 10
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from deltalake import DeltaTable

from demo.loadgen import (
    ShopStory,
    domain_topics,
    event_records,
    produce,
)
from shoplake.config import Settings, get_settings
from shoplake.kafka import ensure_topics
from shoplake.lake import domain_topic_pattern
from shoplake.spark import get_spark
from spark_jobs.silver.jobs import run_silver
from streaming.bronze import BronzeJob, start

RESULTS = Path(__file__).parent / "results"


class Poller(threading.Thread):
    """Reads the new files of the bronze table as they appear; records each event's freshness."""

    def __init__(self, path: str, interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.path, self.interval_s = path, interval_s
        self.seen_files: set[str] = set()
        self.freshness_s: list[float] = []
        self.last_visible = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                files = set(DeltaTable(self.path).file_uris())
            except Exception:  # the table is not created yet
                files = set()
            now = time.time()
            for uri in sorted(files - self.seen_files):
                times = pq.ParquetFile(uri.removeprefix("file://")).read(columns=["event_time"])
                for t in times.column("event_time").to_pylist():
                    self.freshness_s.append(now - t.replace(tzinfo=UTC).timestamp())
                self.last_visible = now
            self.seen_files |= files
            time.sleep(self.interval_s)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if values else 0.0


def run_once(settings: Settings, events: int, scratch: Path) -> dict[str, Any]:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    topics = domain_topics(namespace)
    ensure_topics(settings, topics.values(), partitions=3)
    root = scratch / namespace
    job = BronzeJob.from_settings(
        settings,
        lake_root=str(root),
        topic_pattern=domain_topic_pattern(namespace),
        deadletter_topic=f"shop.{namespace}.deadletter.v1",
    )
    spark = get_spark(settings, app_name="shoplake-bench")
    query = start(spark, job, once=False)
    poller = Poller(job.events_path)
    poller.start()
    time.sleep(2 * settings.bronze_trigger_seconds)  # the stream is up and polling
    began = time.time()
    produce(settings, event_records(ShopStory(seed=events).events(events), topics))
    produced_s = time.time() - began
    deadline = time.time() + 3600
    while len(poller.freshness_s) < events and time.time() < deadline:
        if query.exception() is not None:
            raise RuntimeError(f"bronze failed: {query.exception()}")
        time.sleep(0.5)
    poller.stop.set()
    poller.join()
    query.stop()
    bronze_s = poller.last_visible - began
    silver_began = time.perf_counter()
    runs = run_silver(settings, lake_root=str(root))
    silver_s = time.perf_counter() - silver_began
    files = len(DeltaTable(job.events_path).file_uris())
    shutil.rmtree(root, ignore_errors=True)
    fresh = poller.freshness_s
    return {
        "events": events,
        "visible_in_bronze": len(fresh),
        "produce_events_per_s": round(events / produced_s),
        "bronze_events_per_s": round(events / bronze_s),
        "bronze_seconds": round(bronze_s, 1),
        "freshness_p50_s": round(percentile(fresh, 50), 2),
        "freshness_p95_s": round(percentile(fresh, 95), 2),
        "freshness_max_s": round(max(fresh, default=0.0), 2),
        "bronze_files": files,
        "silver_merge_seconds": round(silver_s, 1),
        "silver_jobs": {r.name: round(r.seconds, 1) for r in runs},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--scale", type=int, default=10, help="second run with eventsxscale")
    parser.add_argument("--no-scale", action="store_true", help="skip the second run")
    args = parser.parse_args()
    settings = get_settings()
    scratch = settings.state_dir / "bench"
    sizes = [args.events] if args.no_scale else [args.events, args.events * args.scale]
    runs = []
    for size in sizes:
        print(f"… {size} events", flush=True)
        result = run_once(settings, size, scratch)
        print(json.dumps(result, indent=2), flush=True)
        runs.append(result)
    report: dict[str, Any] = {
        "benchmark": "ingest",
        "at": datetime.now(UTC).isoformat(),
        "spark_master": settings.spark_master,
        "bronze_trigger_seconds": settings.bronze_trigger_seconds,
        "bronze_max_offsets_per_trigger": settings.bronze_max_offsets_per_trigger,
        "runs": runs,
    }
    if len(runs) == 2:
        small, large = runs
        report["growth"] = {
            "events": large["events"] / small["events"],
            "bronze_seconds": round(large["bronze_seconds"] / small["bronze_seconds"], 2),
            "silver_merge_seconds": round(
                large["silver_merge_seconds"] / small["silver_merge_seconds"], 2
            ),
        }
        print(json.dumps(report["growth"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
