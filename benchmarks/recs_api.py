"""The recommendation API's latency: `GET /v1/recommendations?context=home` for shoppers with
published lists, through `shoplake serve` (one worker), one client request after request, next
to a raw Redis GET loop and the minimal FastAPI route (`benchmarks/minimal_app.py`) measured
the same way in the same run.

A publication of its own is written with the models' own writer
(`models.recommendations.publish.write`: `--users` shoppers, 50 items each, similar and
bought-together lists, popular lists per category), so the serving path reads lists of the
published shape; the stack's previous `recs:current` is put back afterwards.

    .venv/bin/python -m benchmarks.recs_api [--users 2000 --requests 5000] [--quick]

Prints the figures and writes JSON to benchmarks/results/recs_api-<utc>.json.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import redis

from benchmarks.api_floor import minimal_server
from benchmarks.baselines import redis_get_loop
from benchmarks.harness import api_process, percentiles, write_result
from models.recommendations.publish import Lists, write
from serving.security import Role, issue_token
from shoplake.config import Settings, get_settings
from shoplake.recommendations import (
    CURRENT_KEY,
    GLOBAL_CATEGORY,
    ListedItem,
    Publication,
    Reason,
)

ITEMS = 50
CATEGORIES = ("outdoor/footwear", "outdoor/tents", "home/kitchen", "home/garden", "tech/audio")


def synthetic_lists(users: int, products: int, seed: int = 7) -> Lists:
    """Lists of the published shape for `users` shoppers over `products` SKUs."""
    rng = random.Random(seed)
    skus = [f"BENCHREC-{n:05d}" for n in range(products)]
    categories = {sku: CATEGORIES[n % len(CATEGORIES)] for n, sku in enumerate(skus)}

    def listed(reason: Reason, about: str | None = None, n: int = ITEMS) -> list[ListedItem]:
        picked = rng.sample(skus, n)
        return [
            ListedItem(sku=s, score=round(1 - k / n, 4), reason=reason, about=about)
            for k, s in enumerate(picked)
        ]

    people = {
        str(uuid.UUID(int=rng.getrandbits(128))): listed(Reason.FOR_YOU) for _ in range(users)
    }
    popular = {GLOBAL_CATEGORY: listed(Reason.POPULAR)}
    popular |= {c: listed(Reason.POPULAR_IN, c, 20) for c in CATEGORIES}
    return Lists(
        users=people,
        similar={s: listed(Reason.SIMILAR_TO, s, 20) for s in skus},
        bought_together={s: listed(Reason.BOUGHT_WITH, s, 10) for s in skus},
        popular=popular,
        categories=categories,
        names={s: f"Bench product {s[-5:]}" for s in skus},
    )


def _publish(settings: Settings, client: redis.Redis, lists: Lists) -> str:
    publication = f"bench{uuid.uuid4().hex[:8]}"
    meta = Publication(
        publication=publication,
        model_name="bench-recs-api",
        published_at=datetime.now(UTC).isoformat(),
        users=len(lists.users),
        items=len(lists.names),
        categories=len(set(lists.categories.values())),
    )
    write(client, lists, meta, ttl_s=3600)
    return publication


def _latency(
    base: str, path: str, requests: int, headers: list[dict[str, str]]
) -> tuple[dict[str, Any], Counter[str]]:
    """One client, one request after another; the answers' strategies and items counted."""
    samples: list[float] = []
    strategies: Counter[str] = Counter()
    with httpx.Client(base_url=base, timeout=10) as http:
        for n in range(min(50, requests)):  # warm the connection and the process
            http.get(path, headers=headers[n % len(headers)])
        began = time.perf_counter()
        for n in range(requests):
            sent = time.perf_counter()
            answer = http.get(path, headers=headers[n % len(headers)])
            samples.append(time.perf_counter() - sent)
            answer.raise_for_status()
            body = answer.json()
            strategies[str(body.get("strategy", "-"))] += 1
            strategies["items"] += len(body.get("items", ()))
        elapsed = time.perf_counter() - began
    return {"requests_per_s": round(requests / elapsed, 1), **percentiles(samples)}, strategies


def run(users: int, products: int, requests: int) -> dict[str, Any]:
    settings = get_settings()
    client = redis.Redis.from_url(settings.redis_endpoint)
    before = cast(bytes | None, client.get(CURRENT_KEY))
    lists = synthetic_lists(users, products)
    began = time.perf_counter()
    publication = _publish(settings, client, lists)
    publish_seconds = time.perf_counter() - began
    headers = [
        {"Authorization": f"Bearer {issue_token(settings, user, Role.CUSTOMER, 'access')[0]}"}
        for user in lists.users
    ]
    try:
        with api_process(1) as (base, _proc):
            api, strategies = _latency(base, "/v1/recommendations?context=home", requests, headers)
        with minimal_server() as floor:
            minimal, _ = _latency(floor, "/v1/products/BENCHREC-00001", requests, [{}])
        raw = redis_get_loop(settings, seconds=max(2.0, requests / 2000))
    finally:
        if before is not None:
            client.set(CURRENT_KEY, before)
        client.close()
    return {
        "users": users,
        "products": products,
        "requests": requests,
        "publication": publication,
        "publish_seconds": round(publish_seconds, 2),
        "api": api,
        "strategies": {k: v for k, v in strategies.items() if k != "items"},
        "items_per_answer": round(strategies["items"] / requests, 1),
        "minimal_fastapi": minimal,
        "redis_get": raw,
        "p99_target_ms": 20,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="200 shoppers, 500 requests")
    args = parser.parse_args()
    if args.quick:
        args.users, args.products, args.requests = 200, 300, 500
    figures = run(args.users, args.products, args.requests)
    write_result("recs_api", figures)
    api = figures["api"]
    print(
        f"recommendations p50 {api['p50_ms']} ms, p99 {api['p99_ms']} ms "
        f"(minimal FastAPI p99 {figures['minimal_fastapi']['p99_ms']} ms, "
        f"raw Redis GET p99 {figures['redis_get']['p99_ms']} ms); {figures['strategies']}"
    )


if __name__ == "__main__":
    main()
