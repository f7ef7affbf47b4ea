"""Search latency at N products with concurrent clients: the API next to the same query sent
straight to Elasticsearch (the API's overhead as a ratio), and freshness (a product change
committed through the API → visible in search, through outbox, Kafka and the consumer).

    .venv/bin/python -m benchmarks.search_latency [--count 100000] [--clients 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from benchmarks.harness import percentiles, write_result
from benchmarks.search_relevance import demo_index_products
from demo.catalog import generate
from shoplake.config import Settings, child_env, get_settings
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.query import SearchParams, search_body
from shoplake.stack.process import free_port
from spark_jobs.search_reindex import build

QUERIES: list[dict[str, Any]] = [
    {"q": "hiking boots"},
    {"q": "rain jacket", "brand": "Northwind"},
    {"q": "sneakers", "attr.color": "blue"},
    {"q": "hikng boot"},
    {"q": "headphones", "sort": "price_asc"},
    {"category": "outdoor", "price_max": 20000},
    {"q": "tent", "attr.capacity": "2"},
    {"q": "waterproof"},
]


def _params(query: dict[str, Any]) -> SearchParams:
    attributes: dict[str, tuple[str, ...]] = {
        k[5:]: (str(v),) for k, v in query.items() if k.startswith("attr.")
    }
    return SearchParams(
        q=query.get("q", ""),
        category=query.get("category"),
        brands=(query["brand"],) if "brand" in query else (),
        price_max=query.get("price_max"),
        attributes=attributes,
        sort=query.get("sort", "relevance"),
    )


@contextmanager
def search_api(alias: str, workers: int) -> Iterator[str]:
    """`shoplake serve` on a free port, searching `alias`."""
    port = free_port()
    argv = [sys.executable, "-m", "shoplake_cli.main", "serve", "--port", str(port)]
    argv += ["--workers", str(workers), "--no-relay"]
    # --no-relay: the outbox's rows wait, so readiness is gated on the stores only.
    env = child_env(search_alias=alias, log_level="WARNING", readiness_gates='["postgres","redis"]')
    proc = subprocess.Popen(argv, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API server did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def load(
    clients: int, seconds: float, call: Callable[[httpx.Client, int], int]
) -> tuple[list[float], int]:
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with httpx.Client(timeout=10) as http:
            i = n
            while time.monotonic() < deadline:
                began = time.perf_counter()
                status = call(http, i)
                mine.append(time.perf_counter() - began)
                bad += status != 200
                i += clients
        with lock:
            samples.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, errors


def measure_latency(
    settings: Settings, count: int, clients: int, seconds: float, workers: int
) -> dict[str, Any]:
    client = make_client(settings, timeout_s=120)
    index = ProductIndex(client, f"bench-search-{uuid.uuid4().hex[:8]}")
    try:
        began = time.monotonic()
        build(index, demo_index_products(generate(count)), source="demo", batch=2000)
        index_s = time.monotonic() - began
        bodies = [search_body(_params(q)) for q in QUERIES]
        es_url = f"{settings.elasticsearch_endpoint}/{index.alias}/_search"

        def raw(http: httpx.Client, i: int) -> int:
            return http.post(es_url, json=bodies[i % len(bodies)]).status_code

        with search_api(index.alias, workers) as base:

            def api(http: httpx.Client, i: int) -> int:
                return http.get(f"{base}/v1/search", params=QUERIES[i % len(QUERIES)]).status_code

            load(clients, 2, api)  # warm both paths
            load(clients, 2, raw)
            api_samples, api_errors = load(clients, seconds, api)
        raw_samples, raw_errors = load(clients, seconds, raw)
    finally:
        index.drop()
        client.close()
    api_p, raw_p = percentiles(api_samples), percentiles(raw_samples)
    return {
        "catalog_size": count,
        "index_build_s": round(index_s, 1),
        "clients": clients,
        "api_workers": workers,
        "api": {**api_p, "errors": api_errors, "rps": round(len(api_samples) / seconds, 1)},
        "raw_es": {**raw_p, "errors": raw_errors, "rps": round(len(raw_samples) / seconds, 1)},
        "ratio_p50": round(api_p["p50_ms"] / raw_p["p50_ms"], 2),
        "ratio_p99": round(api_p["p99_ms"] / raw_p["p99_ms"], 2),
    }


def measure_freshness(settings: Settings, samples: int) -> dict[str, Any]:
    """Admin PATCH committed → the new name found by /v1/search, with the relay in the app
    and the consumer running in a thread on a fresh alias (started at the topic's end)."""
    from fastapi.testclient import TestClient

    from serving.accounts import service as accounts
    from serving.accounts.schemas import UserRegister
    from serving.app import create_app
    from serving.security import Role
    from shoplake.db import make_engine
    from streaming.search_consumer import run

    alias = f"bench-fresh-{uuid.uuid4().hex[:8]}"
    app_settings = settings.model_copy(
        update={
            "search_alias": alias,
            "outbox_relay_in_app": True,
            "outbox_relay_idle_s": 0.05,
            "rate_limit_write_per_minute": 10**6,
            "rate_limit_cart_per_minute": 10**6,
            "rate_limit_auth_per_minute": 10**6,
        }
    )
    email, password = f"admin-{uuid.uuid4().hex[:8]}@example.com", "a long admin password"
    engine = make_engine(settings, pool_size=1)
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    engine.dispose()
    stop = threading.Event()
    consumer = threading.Thread(
        target=run,
        kwargs={
            "settings": app_settings,
            "stop": stop,
            "group_id": f"bench-fresh-{uuid.uuid4().hex[:8]}",
            "alias": alias,
            "from_beginning": False,
        },
    )
    consumer.start()
    delays: list[float] = []
    index = ProductIndex(make_client(settings, 30), alias)
    try:
        with TestClient(create_app(app_settings)) as api:
            token = api.post("/v1/auth/token", data={"username": email, "password": password})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            sku = f"FRESH-{uuid.uuid4().hex[:8].upper()}"
            body = generate(1)[0].as_create_body() | {"sku": sku}
            assert api.post("/v1/admin/products", json=body, headers=headers).status_code == 201
            time.sleep(3)  # let the consumer join its group (it starts at the end)
            for n in range(samples):
                word = f"fresh{uuid.uuid4().hex[:8]}"
                began = time.monotonic()
                changed = api.patch(
                    f"/v1/admin/products/{sku}", json={"name": f"{word} lamp"}, headers=headers
                )
                assert changed.status_code == 200, changed.text
                while time.monotonic() - began < 30:
                    if api.get("/v1/search", params={"q": word}).json()["total"] == 1:
                        delays.append(time.monotonic() - began)
                        break
                    time.sleep(0.02)
                del n
            api.delete(f"/v1/admin/products/{sku}", headers=headers)
    finally:
        stop.set()
        consumer.join(30)
        index.drop()
        index.client.close()
    return {"samples": len(delays), **percentiles(delays)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--freshness-samples", type=int, default=20)
    args = parser.parse_args()
    settings = get_settings()
    figures = measure_latency(settings, args.count, args.clients, args.seconds, args.workers)
    figures["freshness_s"] = measure_freshness(settings, args.freshness_samples)
    write_result("search_latency", figures)


if __name__ == "__main__":
    main()
