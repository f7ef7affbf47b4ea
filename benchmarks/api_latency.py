"""Latency of two hot routes under concurrent clients, through a real `shoplake serve` process.

    .venv/bin/python -m benchmarks.api_latency --requests 4000 --concurrency 16

GET /v1/products/{sku} is measured once the cache is warm; POST /v1/cart/items writes the Redis
cart and an outbox row per request. Client-side latency (httpx over loopback), so it includes
the client's own overhead: compare runs with each other, not with other tools' figures.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from benchmarks.harness import api_server, percentiles, write_result
from demo.catalog import generate
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.security import Role
from shoplake.config import get_settings
from shoplake.db import make_engine

Call = Callable[[httpx.Client, int], httpx.Response]


def _admin_headers(base: str) -> dict[str, str]:
    email, password = f"bench-admin-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    engine = make_engine(get_settings(), pool_size=1)
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    engine.dispose()
    token = httpx.post(f"{base}/v1/auth/token", data={"username": email, "password": password})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _customer_headers(base: str, n: int) -> list[dict[str, str]]:
    headers = []
    for _ in range(n):
        email, password = f"bench-{uuid.uuid4().hex[:10]}@example.com", "benchmark password"
        httpx.post(f"{base}/v1/auth/register", json={"email": email, "password": password})
        token = httpx.post(
            f"{base}/v1/auth/token", data={"username": email, "password": password}
        ).json()["access_token"]
        headers.append({"Authorization": f"Bearer {token}"})
    return headers


def _run(base: str, call: Call, requests: int, concurrency: int) -> dict[str, float]:
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_worker = requests // concurrency

    def worker(index: int) -> None:
        nonlocal errors
        local: list[float] = []
        failed = 0
        with httpx.Client(base_url=base, timeout=10) as client:
            for i in range(per_worker):
                began = time.perf_counter()
                response = call(client, index * per_worker + i)
                local.append(time.perf_counter() - began)
                failed += response.status_code >= 400
        with lock:
            samples.extend(local)
            errors += failed

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        **percentiles(samples),
        "errors": errors,
        "requests_per_s": round(len(samples) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:6].upper()
    with api_server(workers=args.workers) as base:
        admin = _admin_headers(base)
        skus = []
        for product in generate(args.products, seed=7):
            body = product.as_create_body() | {"sku": f"B{run_id}-{product.sku}"}
            response = httpx.post(f"{base}/v1/admin/products", json=body, headers=admin)
            response.raise_for_status()
            skus.append(body["sku"])
        for sku in skus:  # warm the cache
            httpx.get(f"{base}/v1/products/{sku}").raise_for_status()
        customers = _customer_headers(base, args.concurrency)
        rng = random.Random(1)

        def get_product(client: httpx.Client, i: int) -> httpx.Response:
            return client.get(f"/v1/products/{skus[i % len(skus)]}")

        def add_to_cart(client: httpx.Client, i: int) -> httpx.Response:
            return client.post(
                "/v1/cart/items",
                json={"sku": rng.choice(skus[:20]), "quantity": 1},
                headers=customers[i % len(customers)],
            )

        figures = {
            "config": vars(args),
            "get_product_cached": _run(base, get_product, args.requests, args.concurrency),
            "post_cart_item": _run(base, add_to_cart, args.requests // 2, args.concurrency),
        }
    write_result("api_latency", figures)


if __name__ == "__main__":
    main()
