"""Logins per second, and what a storm of logins does to the rest of the API.

    .venv/bin/python -m benchmarks.login_storm --storm 64 --seconds 15 --workers 2

Against `shoplake serve --workers N` on the local stack:
1. the login rate: `--storm` clients log in (valid passwords, one account each) as fast as
   they can for `--seconds`; logins/s and latency; plus registration + login of fresh
   shoppers through the API (shoppers/s);
2. `GET /v1/products/{sku}` latency from 2 clients, first alone, then during the storm of
   logins: the p99 of a cheap route while password hashing runs is what the bounded hashing
   pool protects.
Prints and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from benchmarks.harness import api_server, percentiles, write_result
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.security import Role
from shoplake.config import get_settings
from shoplake.db import make_engine

PASSWORD = "storm benchmark password"


def _accounts(count: int) -> list[str]:
    """`count` shoppers made straight in the database (their hashing is not measured)."""
    engine = make_engine(get_settings(), pool_size=1)
    emails = [f"storm-{uuid.uuid4().hex[:10]}@example.com" for _ in range(count)]
    with engine.begin() as conn:
        for email in emails:
            accounts.register(conn, UserRegister(email=email, password=PASSWORD))
    engine.dispose()
    return emails


def _product(http: httpx.Client) -> str:
    email = f"storm-admin-{uuid.uuid4().hex[:8]}@example.com"
    engine = make_engine(get_settings(), pool_size=1)
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=PASSWORD), role=Role.ADMIN)
    engine.dispose()
    token = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    sku = f"STORM-{uuid.uuid4().hex[:10]}"
    body = {
        "sku": sku,
        "name": "Storm lantern",
        "brand": "Acme",
        "category_path": ["outdoor"],
        "price_cents": 1999,
    }
    http.post("/v1/admin/products", json=body, headers=headers).raise_for_status()
    return sku


def _reads(http: httpx.Client, sku: str, stop: threading.Event, clients: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def loop() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            http.get(f"/v1/products/{sku}").raise_for_status()
            with lock:
                samples.append(time.perf_counter() - began)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def _storm(
    http: httpx.Client, emails: list[str], seconds: float
) -> tuple[list[float], Counter[int]]:
    samples: list[float] = []
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(email: str) -> None:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            response = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
            with lock:
                codes[response.status_code] += 1
                if response.status_code == 200:
                    samples.append(time.perf_counter() - began)

    with ThreadPoolExecutor(len(emails)) as pool:
        list(pool.map(loop, emails))
    return samples, codes


def _register_and_login(http: httpx.Client, shoppers: int, concurrency: int) -> float:
    """Fresh shoppers through the API (register, then log in): shoppers per second."""

    def one(_: int) -> None:
        email = f"storm-new-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": PASSWORD}
        assert http.post("/v1/auth/register", json=body).status_code in (201, 202)
        login = http.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        login.raise_for_status()

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(shoppers)))
    return shoppers / (time.perf_counter() - began)


def run(storm: int, seconds: float, workers: int, readers: int) -> dict[str, object]:
    emails = _accounts(storm)
    limits = httpx.Limits(max_connections=storm + readers + 8)
    with (
        api_server(workers=workers) as base,
        httpx.Client(base_url=base, timeout=120, limits=limits) as http,
    ):
        sku = _product(http)
        stop = threading.Event()
        timer = threading.Timer(seconds / 2, stop.set)
        timer.start()
        quiet = _reads(http, sku, stop, readers)

        stop = threading.Event()
        reads: list[float] = []
        reader = threading.Thread(
            target=lambda: reads.extend(_reads(http, sku, stop, readers)), daemon=True
        )
        reader.start()
        began = time.perf_counter()
        logins, codes = _storm(http, emails, seconds)
        storm_elapsed = time.perf_counter() - began
        stop.set()
        reader.join()
        shoppers_per_s = _register_and_login(http, 32, 8)
    return {
        "workers": workers,
        "storm_clients": storm,
        "storm_seconds": round(storm_elapsed, 1),
        "logins_per_s": round(len(logins) / storm_elapsed, 1),
        "login_latency": percentiles(logins),
        "login_status_codes": {str(k): v for k, v in sorted(codes.items())},
        "register_and_login_shoppers_per_s": round(shoppers_per_s, 1),
        "product_get_alone": percentiles(quiet),
        "product_get_during_storm": percentiles(reads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--storm", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readers", type=int, default=2)
    args = parser.parse_args()
    write_result("login_storm", run(args.storm, args.seconds, args.workers, args.readers))


if __name__ == "__main__":
    main()
