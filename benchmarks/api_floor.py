"""The API's floor: the cached `GET /v1/products/{sku}` next to a minimal FastAPI route
(`benchmarks/minimal_app.py`), and that route plus one Redis GET (the one round trip a cache
hit cannot avoid), all served the same way (uvicorn, one worker, the options of
`shoplake serve`), loaded by the same client at the same concurrency, in the same run.

    .venv/bin/python -m benchmarks.api_floor [--seconds 10] [--connections 16] [--rounds 2]

The client is bombardier (Go, `make bombardier`: it costs the shared cores far less than any
Python client), else the asyncio client of `benchmarks/loadgen.py`. Rounds alternate the two
servers so that a neighbour's burst on the shared machine does not land on one side only;
the figure of each side is its best round. The ratio is API requests/s ÷ floor requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import api_process, percentiles, write_result
from benchmarks.loadgen import Request, run_for
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.security import Role
from shoplake.catalog import product_cache_key
from shoplake.config import get_settings
from shoplake.db import make_engine
from shoplake.stack.process import free_port

BOMBARDIER = Path(__file__).resolve().parent.parent / ".shoplake" / "bin" / "bombardier"


@contextmanager
def minimal_server() -> Iterator[str]:
    """The minimal app under uvicorn with `shoplake serve`'s options."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "benchmarks.minimal_app:app", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-server-header", "--no-proxy-headers"]
    argv += ["--no-access-log"]  # as `shoplake serve` by default (SHOPLAKE_API_ACCESS_LOG)
    proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/v1/products/X", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the minimal server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(15)


def load_generator() -> str:
    found = shutil.which("bombardier")
    if BOMBARDIER.exists():
        return str(BOMBARDIER)
    return found or "loadgen"


def measure(url: str, seconds: float, connections: int, tool: str) -> dict[str, Any]:
    """Requests/s and latency of GET `url` at `connections` for `seconds`."""
    if tool == "loadgen":
        base, _, path = url.partition("/v1/")
        responses, elapsed = run_for(
            base, lambda _i: Request("GET", f"/v1/{path}"), connections, seconds
        )
        return {
            "requests_per_s": round(len(responses) / elapsed, 1),
            **percentiles([r.seconds for r in responses]),
            "errors": sum(r.status != 200 for r in responses),
        }
    argv = [tool, "-c", str(connections), "-d", f"{seconds}s", "-l", "-p", "r", "-o", "j", url]
    out = json.loads(subprocess.run(argv, capture_output=True, check=True, text=True).stdout)
    result = out["result"]
    latency = result["latency"]
    pct = latency.get("percentiles", {})
    return {
        "requests_per_s": round(float(result["rps"]["mean"]), 1),
        "p50_ms": round(float(pct.get("50", 0)) / 1000, 2),
        "p99_ms": round(float(pct.get("99", 0)) / 1000, 2),
        "mean_ms": round(float(latency["mean"]) / 1000, 2),
        "errors": int(result.get("req4xx", 0))
        + int(result.get("req5xx", 0))
        + int(result.get("others", 0)),
    }


def _product(base: str) -> str:
    email, password = f"floor-admin-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    engine = make_engine(get_settings(), pool_size=1)
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    engine.dispose()
    token = httpx.post(f"{base}/v1/auth/token", data={"username": email, "password": password})
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    sku = f"FLOOR-{uuid.uuid4().hex[:8].upper()}"
    body = {
        "sku": sku,
        "name": "Trail runner 2",
        "description": "A light trail running shoe with a grippy sole and a breathable upper.",
        "brand": "Northwind",
        "category_path": ["outdoor", "footwear"],
        "price_cents": 12900,
        "currency": "EUR",
        "attributes": {"color": "blue", "size": "42", "material": "mesh"},
        "image_urls": ["https://img.example.com/p/trail-runner-2.jpg"],
        "status": "active",
    }
    httpx.post(f"{base}/v1/admin/products", json=body, headers=admin).raise_for_status()
    httpx.get(f"{base}/v1/products/{sku}").raise_for_status()  # warm the cache
    return sku


def run(seconds: float, connections: int, rounds: int) -> dict[str, Any]:
    tool = load_generator()
    api_rounds: list[dict[str, Any]] = []
    floor_rounds: list[dict[str, Any]] = []
    redis_rounds: list[dict[str, Any]] = []
    with api_process(1) as (base, _proc), minimal_server() as floor:
        sku = _product(base)
        api_url, floor_url = f"{base}/v1/products/{sku}", f"{floor}/v1/products/{sku}"
        redis_url = f"{floor}/redis/{product_cache_key(sku)}"
        for url in (api_url, floor_url, redis_url):  # warm all three
            measure(url, 1, connections, tool)
        for _ in range(rounds):
            floor_rounds.append(measure(floor_url, seconds, connections, tool))
            api_rounds.append(measure(api_url, seconds, connections, tool))
            redis_rounds.append(measure(redis_url, seconds, connections, tool))
    api = max(api_rounds, key=lambda r: float(r["requests_per_s"]))
    floor_best = max(floor_rounds, key=lambda r: float(r["requests_per_s"]))
    redis_best = max(redis_rounds, key=lambda r: float(r["requests_per_s"]))
    return {
        "client": Path(tool).name,
        "connections": connections,
        "seconds": seconds,
        "rounds": rounds,
        "api": api,
        "minimal_fastapi": floor_best,
        # Where the gap is: the floor plus the one Redis GET a cache hit cannot avoid.
        "minimal_fastapi_with_redis_get": redis_best,
        "all_rounds": {
            "api": api_rounds,
            "minimal_fastapi": floor_rounds,
            "minimal_fastapi_with_redis_get": redis_rounds,
        },
        "ratio": round(float(api["requests_per_s"]) / float(floor_best["requests_per_s"]), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    write_result("api_floor", run(args.seconds, args.connections, args.rounds))


if __name__ == "__main__":
    main()
