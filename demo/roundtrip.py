"""The stack round trip: Postgres, Redis, Kafka → Spark → Delta → delta-rs/DuckDB, and ES."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import redis
from deltalake import DeltaTable
from elasticsearch import Elasticsearch
from pyspark.sql import functions as F
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from demo.kafka_to_delta import stream_to_delta
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events import CloudEvent, topic_for
from shoplake.kafka import ensure_topics, produce_events
from shoplake.spark import get_spark

ROUNDTRIP_TOPIC = topic_for("system")
ROUNDTRIP_TYPE = "shop.system.StackRoundTrip.v1"
ROUNDTRIP_INDEX = "shoplake-roundtrip"


@dataclass
class RoundTrip:
    """Timed steps of one round trip; each step checks what it read back."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    steps: list[tuple[str, float, str]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        began = time.perf_counter()
        detail: list[str] = []
        yield detail
        self.steps.append((name, time.perf_counter() - began, "; ".join(detail)))


class RoundTripError(AssertionError):
    """A component answered, but not with what was written."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RoundTripError(message)


def roundtrip_paths(settings: Settings) -> tuple[Path, Path]:
    lake = Path(settings.lake_path)
    return lake / "system" / "stack_roundtrip", lake / "_checkpoints" / "system_stack_roundtrip"


def run_round_trip(settings: Settings, console: Console | None = None) -> RoundTrip:
    """Run every step, print a table of what each did and how long it took; raise on a mismatch."""
    trip = RoundTrip()
    table_path, checkpoint = roundtrip_paths(settings)
    steps: list[tuple[str, Callable[[list[str]], Any]]] = [
        ("postgres write+read", lambda d: _postgres(settings, trip.run_id, d)),
        ("redis write+read", lambda d: _redis(settings, trip.run_id, d)),
        ("kafka produce", lambda d: _kafka(settings, trip.run_id, d)),
        ("spark session", lambda d: d.append(f"Spark {get_spark(settings).version}")),
        (
            "spark stream kafka→delta",
            lambda d: _stream(settings, table_path, checkpoint, trip.run_id, d),
        ),
        ("delta-rs read", lambda d: _delta_rs(table_path, trip.run_id, d)),
        ("duckdb read", lambda d: _duckdb(table_path, trip.run_id, d)),
        ("elasticsearch index+search", lambda d: _elasticsearch(settings, trip.run_id, d)),
    ]
    for name, action in steps:
        if console is not None:
            console.print(f"… {name}", highlight=False)
        with trip.step(name) as detail:
            action(detail)
    if console is not None:
        console.print(render(trip))
    return trip


def render(trip: RoundTrip) -> Table:
    table = Table(title=f"shoplake round trip {trip.run_id}")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("what it saw")
    for name, seconds, detail in trip.steps:
        table.add_row(name, f"{seconds:.2f}", detail)
    table.add_row("[bold]total[/]", f"[bold]{sum(s for _, s, _ in trip.steps):.2f}[/]", "")
    return table


def _postgres(settings: Settings, run_id: str, detail: list[str]) -> None:
    engine = make_engine(settings, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text("create temporary table roundtrip (run_id text primary key, n int)"))
            conn.execute(
                text("insert into roundtrip values (:run_id, :n)"), {"run_id": run_id, "n": 42}
            )
            row = conn.execute(
                text("select n from roundtrip where run_id = :run_id"), {"run_id": run_id}
            ).one()
            version = conn.execute(text("show server_version")).scalar_one()
    finally:
        engine.dispose()
    _expect(row.n == 42, f"postgres returned {row.n}, wrote 42")
    detail.append(f"PostgreSQL {version}: wrote and read 1 row")


def _redis(settings: Settings, run_id: str, detail: list[str]) -> None:
    key = f"roundtrip:{run_id}"
    with redis.Redis.from_url(settings.redis_endpoint) as client:
        client.set(key, run_id, ex=300)
        value = client.get(key)
        version = client.info("server")["redis_version"]
    _expect(value == run_id.encode(), f"redis returned {value!r}")
    detail.append(f"Redis {version}: SET/GET with TTL")


def _kafka(settings: Settings, run_id: str, detail: list[str]) -> None:
    ensure_topics(settings, [ROUNDTRIP_TOPIC])
    event = CloudEvent(
        source="/shoplake/demo",
        type=ROUNDTRIP_TYPE,
        subject=run_id,
        data={"run_id": run_id, "message": "hello, lake"},
    )
    produce_events(settings, [event])
    detail.append(f"1 CloudEvent to {ROUNDTRIP_TOPIC} (acks=all)")


def _stream(
    settings: Settings, table_path: Path, checkpoint: Path, run_id: str, detail: list[str]
) -> None:
    spark = get_spark(settings)
    stream_to_delta(
        spark, settings, topics=[ROUNDTRIP_TOPIC], table_path=table_path, checkpoint=checkpoint
    )
    seen = (
        spark.read.format("delta").load(str(table_path)).where(F.col("subject") == run_id).count()
    )
    _expect(seen == 1, f"spark read {seen} rows for this run from {table_path}, expected 1")
    detail.append(f"availableNow trigger → {table_path.name}; Spark reads 1 row back")


def _delta_rs(table_path: Path, run_id: str, detail: list[str]) -> None:
    table = DeltaTable(str(table_path))
    rows = table.to_pyarrow_table(filters=[("subject", "=", run_id)]).to_pylist()
    _expect(len(rows) == 1, f"delta-rs read {len(rows)} rows for this run")
    _expect('"hello, lake"' in rows[0]["data"], f"delta-rs read data {rows[0]['data']!r}")
    detail.append(f"table version {table.version()}, event {rows[0]['id'][:8]}… found")


def _duckdb(table_path: Path, run_id: str, detail: list[str]) -> None:
    # DuckDB scans the Arrow dataset that delta-rs resolves from the Delta log.
    dataset = DeltaTable(str(table_path)).to_pyarrow_dataset()
    with duckdb.connect() as conn:
        conn.register("events", dataset)
        total, mine = conn.execute(
            "select count(*), count(*) filter (where subject = ?) from events", [run_id]
        ).fetchone() or (0, 0)
    _expect(mine == 1, f"duckdb counted {mine} rows for this run")
    detail.append(f"{total} events in table, 1 from this run")


def _elasticsearch(settings: Settings, run_id: str, detail: list[str]) -> None:
    es = Elasticsearch(settings.elasticsearch_endpoint, request_timeout=30)
    try:
        if not es.indices.exists(index=ROUNDTRIP_INDEX):
            es.indices.create(
                index=ROUNDTRIP_INDEX,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
                mappings={"properties": {"run_id": {"type": "keyword"}, "title": {"type": "text"}}},
            )
        es.index(
            index=ROUNDTRIP_INDEX,
            id=run_id,
            document={"run_id": run_id, "title": f"round trip through the lake {run_id}"},
            refresh="wait_for",
        )
        hits = es.search(
            index=ROUNDTRIP_INDEX,
            query={
                "bool": {
                    "must": {"match": {"title": "lake"}},
                    "filter": {"term": {"run_id": run_id}},
                }
            },
        )["hits"]["hits"]
    finally:
        es.close()
    _expect(len(hits) == 1, f"elasticsearch found {len(hits)} documents")
    detail.append(f"indexed and found by full-text match (score {hits[0]['_score']:.2f})")
