"""Kafka producer throughput: the project's producer settings with the C CRC-32C, against the
same producer checksumming in pure Python (what kafka-python does when `crc32c` is missing),
and against librdkafka (`confluent-kafka`): the history simulator's own producer, `bulk_producer`.

Every record batch kafka-python builds (and every batch a consumer fetches, `check_crcs`) gets
a CRC-32C; its pure-Python fallback runs at about 2 MiB/s, which caps a producer at a few
thousand events/s on any machine. Each run sends the same N CloudEvent-sized records to a
test-only topic, waiting for every acknowledgement, in one process one after the other.

    .venv/bin/python -m benchmarks.producer [--events 50000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import kafka.record.default_records as default_records
from kafka import KafkaProducer
from kafka.record._crc32c import crc as crc32c_python

from benchmarks.harness import write_result
from demo.history.writer import bulk_producer
from shoplake.config import get_settings
from shoplake.kafka import ensure_topics


@contextmanager
def pure_python_crc() -> Iterator[None]:
    """kafka-python as it runs without the `crc32c` package (the record batches' checksum)."""
    native: Callable[..., int] = default_records.calc_crc32c
    default_records.calc_crc32c = lambda view: crc32c_python(view)
    try:
        yield
    finally:
        default_records.calc_crc32c = native


def _record(n: int) -> bytes:
    """About the size of a behaviour event's CloudEvent (≈ 450 bytes)."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=n)),
            "source": "/benchmarks/producer",
            "type": "shop.behaviour.ProductViewed.v1",
            "time": "2026-12-01T12:00:00Z",
            "subject": f"SKU-{n % 2000:05d}",
            "data": {
                "session_id": f"session-{n % 977}",
                "user_id": str(uuid.UUID(int=n % 5000)),
                "sku": f"SKU-{n % 2000:05d}",
                "source": "search",
                "position": n % 20,
                "query": "trail running shoes",
                "padding": "x" * 120,
            },
        }
    ).encode()


def _produce(bootstrap: str, topic: str, records: list[bytes]) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        began = time.perf_counter()
        futures = [producer.send(topic, value=r) for r in records]
        producer.flush(timeout=300)
        for future in futures:
            future.get(timeout=60)
        return time.perf_counter() - began
    finally:
        producer.close(timeout=10)


def _produce_librdkafka(bootstrap: str, topic: str, records: list[bytes]) -> float:
    failures: list[object] = []
    producer = bulk_producer(bootstrap, lambda error, _message: failures.append(error))
    began = time.perf_counter()
    for record in records:
        producer.produce(topic, value=record)
    left = producer.flush(300)
    seconds = time.perf_counter() - began
    if left or failures:
        raise RuntimeError(f"librdkafka: {left} records unacknowledged, {len(failures)} failed")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    settings = get_settings()
    topic = f"bench.producer.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic])
    records = [_record(n) for n in range(args.events)]
    megabytes = sum(len(r) for r in records) / 2**20
    figures: dict[str, Any] = {"events": args.events, "megabytes": round(megabytes, 1)}
    runs = {}
    with pure_python_crc():
        runs["python_crc"] = _produce(settings.kafka_bootstrap_servers, topic, records)
    runs["c_crc"] = _produce(settings.kafka_bootstrap_servers, topic, records)
    runs["librdkafka"] = _produce_librdkafka(settings.kafka_bootstrap_servers, topic, records)
    for name, seconds in runs.items():
        figures[name] = {
            "seconds": round(seconds, 2),
            "events_per_s": round(args.events / seconds),
            "mib_per_s": round(megabytes / seconds, 1),
        }
    figures["speed_up"] = round(runs["python_crc"] / runs["c_crc"], 1)
    figures["librdkafka_vs_c_crc"] = round(runs["c_crc"] / runs["librdkafka"], 1)
    figures["load_average"] = os.getloadavg()[0]
    write_result("producer", figures)


if __name__ == "__main__":
    main()
