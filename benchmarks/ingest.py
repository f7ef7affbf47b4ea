"""Ingest benchmark: Kafka → bronze throughput and freshness, then the silver merge time.

Two questions, each on its own test-only topics and a scratch lake under the state dir, with the
realistic mix of `demo.loadgen`:
- how fast bronze drains (`runs`): N events (default 200,000, and again Nxscale) are in Kafka
  before the stream starts, sent by librdkafka (`bulk_producer`) so the producer is not what is
  measured; throughput = N / (last row visible - stream started), the JVM's start included, and
  sustained = the rows after the first batch / the time after it; then every silver job runs
  once: the merge time;
- how fresh bronze is at a steady rate (`steady`): events sent at `--rate` per second (default
  2,000) for `--seconds` with their time = now into a running, warmed-up stream; a reader polls
  the Delta table with delta-rs and notes when each event becomes visible: freshness = visible -
  event time (p50, p95, max).
Prints the figures and writes JSON to benchmarks/results/ingest-<utc>.json.

    .venv/bin/python -m benchmarks.ingest --events 200000 --scale 10 --rate 2000 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from deltalake import DeltaTable
from pyspark.sql.streaming.query import StreamingQuery

from demo.history.writer import bulk_producer, produce_waiting
from demo.loadgen import ShopStory, domain_topics, event_records
from shoplake.config import Settings, get_settings
from shoplake.kafka import ensure_topics
from shoplake.lake import domain_topic_pattern
from shoplake.spark import get_spark
from spark_jobs.silver.jobs import run_silver
from streaming.bronze import BronzeJob, start, stop_between_batches

RESULTS = Path(__file__).parent / "results"


class Poller(threading.Thread):
    """Reads the new files of the bronze table as they appear; records each event's freshness."""

    def __init__(self, path: str, interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.path, self.interval_s = path, interval_s
        self.seen_files: set[str] = set()
        self.freshness_s: list[float] = []
        self.last_visible = 0.0
        self.first_visible = 0.0
        self.first_rows = 0  # rows of the first files seen
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
            if files and not self.first_visible:
                self.first_visible, self.first_rows = now, len(self.freshness_s)
            self.seen_files |= files
            time.sleep(self.interval_s)

    def wait_for(self, rows: int, query: StreamingQuery, timeout_s: float = 3600) -> None:
        """Until `rows` rows are visible; fails at once if the stream failed."""
        deadline = time.time() + timeout_s
        while len(self.freshness_s) < rows and time.time() < deadline:
            if query.exception() is not None:
                raise RuntimeError(f"bronze failed: {query.exception()}")
            time.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if values else 0.0


def send(
    settings: Settings,
    records: Iterable[tuple[str, bytes | None, bytes]],
    rate: float | None = None,
) -> float:
    """Send the records (at `rate` per second, or as fast as librdkafka goes); seconds taken."""
    failures: list[Any] = []
    producer = bulk_producer(settings.kafka_bootstrap_servers, lambda e, _m: failures.append(e))
    began = time.time()
    for sent, (topic, key, value) in enumerate(records):
        if rate is not None and (ahead := began + sent / rate - time.time()) > 0:
            time.sleep(ahead)
        produce_waiting(producer, topic, key, value)
        if sent % 1000 == 0:
            producer.poll(0)
    if producer.flush(120) or failures:
        raise RuntimeError(f"records not delivered: {failures[:1]!r}")
    return time.time() - began


class Scratch:
    """Fresh topics and a bronze job writing into a scratch lake, removed afterwards."""

    def __init__(self, settings: Settings, scratch: Path) -> None:
        self.namespace = f"bench{uuid.uuid4().hex[:8]}"
        self.topics = domain_topics(self.namespace)
        ensure_topics(settings, self.topics.values(), partitions=3)
        self.root = scratch / self.namespace
        self.job = BronzeJob.from_settings(
            settings,
            lake_root=str(self.root),
            topic_pattern=domain_topic_pattern(self.namespace),
            deadletter_topic=f"shop.{self.namespace}.deadletter.v1",
        )

    def records(self, events: int, seed: int) -> Iterator[tuple[str, bytes | None, bytes]]:
        return event_records(ShopStory(seed=seed).events(events), self.topics)


def _wait_visible(poller: Poller, events: int, query: StreamingQuery) -> dict[str, float]:
    """Until every event is visible; then the stream stops. Its batches' durations (seconds)."""
    poller.wait_for(events, query)
    poller.stop.set()
    poller.join()
    batches = [
        p["durationMs"]["triggerExecution"] / 1000
        for p in query.recentProgress
        if p["numInputRows"] > 0
    ]
    stop_between_batches(query)
    return {
        "batches": len(batches),
        "batch_p50_s": round(percentile(batches, 50), 2),
        "batch_max_s": round(max(batches, default=0.0), 2),
    }


def drain(settings: Settings, events: int, scratch: Path) -> dict[str, Any]:
    """A backlog of `events` in Kafka, then bronze started: how fast it catches up."""
    where = Scratch(settings, scratch)
    produce_s = send(settings, where.records(events, seed=events))
    spark = get_spark(settings, app_name="shoplake-bench")
    began = time.time()
    query = start(spark, where.job, once=False)
    poller = Poller(where.job.events_path)
    poller.start()
    batches = _wait_visible(poller, events, query)
    bronze_s = poller.last_visible - began
    # Once the first batch is visible (the JVM warmed up): the rate a running stream keeps.
    after_first = poller.last_visible - poller.first_visible
    silver_began = time.perf_counter()
    runs = run_silver(settings, lake_root=str(where.root))
    silver_s = time.perf_counter() - silver_began
    files = len(DeltaTable(where.job.events_path).file_uris())
    shutil.rmtree(where.root, ignore_errors=True)
    return {
        "events": events,
        "visible_in_bronze": len(poller.freshness_s),
        "produce_events_per_s": round(events / produce_s),
        "bronze_events_per_s": round(events / bronze_s),
        "bronze_seconds": round(bronze_s, 1),
        "sustained_events_per_s": round((events - poller.first_rows) / after_first)
        if after_first > 0
        else None,
        "bronze_files": files,
        **batches,
        "silver_merge_seconds": round(silver_s, 1),
        "silver_jobs": {r.name: round(r.seconds, 1) for r in runs},
    }


def steady(settings: Settings, rate: float, seconds: float, scratch: Path) -> dict[str, Any]:
    """Events at a steady `rate` with time = now into a running stream: their freshness.

    The stream is warmed up first (a second's worth of events, until they are visible): its
    first batches pay the JVM's and the new table's one-off costs, which a running stream has
    long paid."""
    where = Scratch(settings, scratch)
    events = int(rate * seconds)
    warm_up = max(1, int(rate))
    query = start(get_spark(settings, app_name="shoplake-bench"), where.job, once=False)
    poller = Poller(where.job.events_path)
    poller.start()
    records = where.records(warm_up + events, seed=events + 1)
    send(settings, islice(records, warm_up), rate=rate)
    poller.wait_for(warm_up, query, timeout_s=600)
    measured_from = len(poller.freshness_s)
    sent_s = send(settings, records, rate=rate)
    batches = _wait_visible(poller, warm_up + events, query)
    shutil.rmtree(where.root, ignore_errors=True)
    fresh = poller.freshness_s[measured_from:]
    return {
        "events": events,
        "warm_up_events": warm_up,
        "rate_per_s": round(events / sent_s),
        "visible_in_bronze": len(fresh),
        "freshness_p50_s": round(percentile(fresh, 50), 2),
        "freshness_p95_s": round(percentile(fresh, 95), 2),
        "freshness_max_s": round(max(fresh, default=0.0), 2),
        **batches,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--scale", type=int, default=10, help="second run with eventsxscale")
    parser.add_argument("--no-scale", action="store_true", help="skip the second run")
    parser.add_argument("--rate", type=float, default=2000, help="events/s of the steady phase")
    parser.add_argument("--seconds", type=float, default=60, help="length of the steady phase")
    args = parser.parse_args()
    settings = get_settings()
    scratch = settings.state_dir / "bench"
    sizes = [args.events] if args.no_scale else [args.events, args.events * args.scale]
    runs = []
    for size in sizes:
        print(f"… {size} events", flush=True)
        result = drain(settings, size, scratch)
        print(json.dumps(result, indent=2), flush=True)
        runs.append(result)
    print(f"… {args.rate:g} events/s for {args.seconds:g} s", flush=True)
    steady_run = steady(settings, args.rate, args.seconds, scratch)
    print(json.dumps(steady_run, indent=2), flush=True)
    report: dict[str, Any] = {
        "benchmark": "ingest",
        "at": datetime.now(UTC).isoformat(),
        "spark_master": settings.spark_master,
        "bronze_trigger_seconds": settings.bronze_trigger_seconds,
        "bronze_max_offsets_per_trigger": settings.bronze_max_offsets_per_trigger,
        "runs": runs,
        "steady": steady_run,
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
