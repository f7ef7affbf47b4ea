"""In-run baselines: what the stores themselves do on this machine, now, with no API between.

    .venv/bin/python -m benchmarks.baselines [--seconds 5] [--clients 16]

- Redis: a raw GET loop (one client, one key, redis-py, round trip by round trip): the ceiling
  of anything that asks Redis once per request, e.g. the stock gate's sold-out answer.
- Postgres: a raw transaction of a reservation's shape, from `--clients` threads on one hot
  row — `UPDATE level SET reserved = reserved + 1 WHERE on_hand - reserved >= 1`, a movement
  row, a hold row, COMMIT — on scratch tables of a schema of its own (dropped afterwards), with
  psycopg and no pool or ORM: the ceiling of a hot SKU's checkouts.
- Elasticsearch: a raw match query from `--clients` threads on a small scratch index.
(The minimal FastAPI route is served by `benchmarks.api_floor` next to the API it measures.)
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
import redis

from benchmarks.harness import percentiles, write_result
from shoplake.config import Settings, get_settings


def redis_get_loop(settings: Settings, seconds: float) -> dict[str, Any]:
    client = redis.Redis.from_url(settings.redis_endpoint)
    key = f"bench:baseline:{uuid.uuid4().hex}"
    client.set(key, "42", ex=int(seconds) + 60)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    while (now := time.perf_counter()) < deadline:
        client.get(key)
        samples.append(time.perf_counter() - now)
    elapsed = time.perf_counter() - began
    client.delete(key)
    client.close()
    return {"ops_per_s": round(len(samples) / elapsed, 1), **percentiles(samples)}


_SCHEMA = """
CREATE SCHEMA {s};
CREATE TABLE {s}.levels (sku text, warehouse_id text, on_hand int NOT NULL,
  reserved int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sku, warehouse_id), CHECK (reserved <= on_hand));
CREATE TABLE {s}.movements (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku text NOT NULL, warehouse_id text NOT NULL, reason text NOT NULL,
  reserved_delta int NOT NULL, reserved_after int NOT NULL, order_id text,
  at timestamptz NOT NULL DEFAULT now());
CREATE TABLE {s}.holds (order_id text, sku text, warehouse_id text, quantity int NOT NULL,
  expires_at timestamptz NOT NULL, PRIMARY KEY (order_id, sku, warehouse_id));
INSERT INTO {s}.levels (sku, warehouse_id, on_hand, reserved) VALUES ('HOT', 'WH-1', 1000000000, 0);
"""


def postgres_reservations(settings: Settings, seconds: float, clients: int) -> dict[str, Any]:
    dsn = settings.database_endpoint.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(_SCHEMA.format(s=schema).encode())
    samples: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        with psycopg.connect(dsn) as conn:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                order_id = uuid.uuid4().hex
                with conn.transaction():
                    row = conn.execute(
                        f"UPDATE {schema}.levels SET reserved = reserved + 1, updated_at = now()"
                        " WHERE sku = %s AND warehouse_id = %s AND on_hand - reserved >= 1"
                        " RETURNING reserved",
                        ("HOT", "WH-1"),
                    ).fetchone()
                    assert row is not None
                    conn.execute(
                        f"INSERT INTO {schema}.movements (sku, warehouse_id, reason,"
                        " reserved_delta, reserved_after, order_id)"
                        " VALUES (%s, %s, 'reservation', 1, %s, %s)",
                        ("HOT", "WH-1", row[0], order_id),
                    )
                    conn.execute(
                        f"INSERT INTO {schema}.holds VALUES (%s, %s, %s, 1,"
                        " now() + interval '15 minutes')",
                        (order_id, "HOT", "WH-1"),
                    )
                mine.append(time.perf_counter() - began)
        with lock:
            samples.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA {schema} CASCADE".encode())
    return {
        "clients": clients,
        "transactions_per_s": round(len(samples) / elapsed, 1),
        **percentiles(samples),
    }


def elasticsearch_query(settings: Settings, seconds: float, clients: int) -> dict[str, Any]:
    base = settings.elasticsearch_endpoint
    index = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=base, timeout=30) as http:
        lines = []
        for i in range(500):
            lines.append('{"index": {}}')
            lines.append(f'{{"name": "trail runner {i}", "brand": "Northwind", "price": {i}}}')
        http.post(
            f"/{index}/_bulk?refresh=true",
            content="\n".join(lines) + "\n",
            headers={"Content-Type": "application/x-ndjson"},
        ).raise_for_status()
    samples: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    query = {"query": {"match": {"name": "trail runner"}}, "size": 20}

    def worker() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, timeout=10) as http:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                http.post(f"/{index}/_search", json=query).raise_for_status()
                mine.append(time.perf_counter() - began)
        with lock:
            samples.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    httpx.delete(f"{base}/{index}", timeout=30)
    return {
        "clients": clients,
        "queries_per_s": round(len(samples) / elapsed, 1),
        **percentiles(samples),
    }


def run(seconds: float, clients: int) -> dict[str, Any]:
    settings = get_settings()
    return {
        "seconds": seconds,
        "redis_get": redis_get_loop(settings, seconds),
        "postgres_reservation": postgres_reservations(settings, seconds, clients),
        "elasticsearch_query": elasticsearch_query(settings, seconds, min(clients, 8)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    write_result("baselines", run(args.seconds, args.clients))


if __name__ == "__main__":
    main()
