"""A flash sale through the real HTTP API and the payment gateway of the settings (the sandbox).

    .venv/bin/python -m benchmarks.flash_sale --shoppers 2000 --units 100 --concurrency 64

`shoplake serve --workers 2`; one product with `units` in stock. Shoppers register and log in
through the API like real ones (the login phase is reported on its own: argon2id is its cost),
each put one unit in their cart, then all check out at once, each with their own
Idempotency-Key. Prints and writes JSON: checkout attempts/s, latency p50/p95/p99, sold-out
answers/s (the Redis gate's refusals once the units are gone), confirmed orders, oversold units
(must be 0), double charges (must be 0: a key the gateway authorized without exactly one
confirmed order, or an order with more than one payment), and the status codes the losers got
(all must be 409).

Limits stay at their production defaults but for one setting: the benchmark plays a trusted
proxy (`SHOPLAKE_TRUSTED_PROXIES=["127.0.0.1"]`) and gives each shopper an address of their own
in `X-Forwarded-For` for registration and login, whose limits count addresses. Cart and
checkout come from the one address, as from a campus or a carrier's NAT: their limits count
users (ARCHITECTURE.md, "The API's edge").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.harness import api_process, cpu_seconds, percentiles, profiled, write_result
from benchmarks.loadgen import Request, Response, run
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.inventory.tables import stock_levels
from serving.orders.tables import orders
from serving.payments.factory import make_gateway
from serving.payments.gateway import PaymentStatus
from serving.payments.tables import payments
from serving.security import Role
from shoplake.config import get_settings
from shoplake.db import make_engine

ADDRESS = {
    "full_name": "Flash Shopper",
    "line1": "1 Queue Street",
    "city": "Lyon",
    "postal_code": "69001",
    "country": "FR",
}
PASSWORD = "flash sale benchmark password"


def shopper_address(i: int) -> str:
    """A distinct private address per shopper (10.0.0.0/8 holds 16 million)."""
    n = i + 1
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _phase(
    responses: list[Response], elapsed: float, server_cpu_s: float | None = None
) -> dict[str, Any]:
    codes = Counter(r.status for r in responses)
    cost = {}
    if server_cpu_s is not None and responses:
        # The API workers' CPU per answer: what a shared machine's load does not blur.
        cost = {"server_cpu_ms_per_request": round(server_cpu_s * 1000 / len(responses), 3)}
    return {
        "requests": len(responses),
        "elapsed_s": round(elapsed, 2),
        "per_s": round(len(responses) / elapsed, 1) if elapsed else 0.0,
        **cost,
        "latency": percentiles([r.seconds for r in responses]),
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
    }


def _sold_out_phase(
    responses: list[Response], elapsed: float, server_cpu_s: float
) -> dict[str, Any]:
    """The losers try again with a new key once nothing is left: every answer is the gate's
    sold-out 409."""
    phase = _phase(responses, elapsed, server_cpu_s)
    return {**phase, "all_409": all(r.status == 409 for r in responses)}


def run_sale(
    shoppers: int, units: int, concurrency: int, workers: int, profile: Path | None = None
) -> dict[str, Any]:
    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    email, password = f"flash-admin-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    with engine.begin() as conn:  # an admin cannot register through the API, by design
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    sku = f"FLASH-{uuid.uuid4().hex[:10]}"
    run_id = uuid.uuid4().hex[:8]
    emails = [f"flash-{run_id}-{i}@example.com" for i in range(shoppers)]
    keys = [f"flash-{uuid.uuid4().hex}" for _ in range(shoppers)]
    with (
        api_process(workers, generous_limits=False, trusted_proxies='["127.0.0.1"]') as (
            base,
            proc,
        ),
        httpx.Client(base_url=base, timeout=60) as http,
    ):
        token = http.post("/v1/auth/token", data={"username": email, "password": password})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        product = {
            "sku": sku,
            "name": "Flash sale console",
            "brand": "Acme",
            "category_path": ["electronics"],
            "price_cents": 29900,
        }
        http.post("/v1/admin/products", json=product, headers=admin).raise_for_status()
        http.post(
            f"/v1/admin/inventory/{sku}/WH-1/receipts",
            json={"quantity": units, "reference": "FLASH"},
            headers=admin,
        ).raise_for_status()
        # A new SKU's first receipt leaves the Redis gate unaware of it until the next rebuild
        # (the API's maintenance, every minute): a sale's runbook arms it, as here.
        subprocess.run(
            [sys.executable, "-m", "shoplake_cli.main", "inventory", "rebuild-gate"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

        # Login phase: each shopper registers, then logs in, from their own address.
        registrations, register_s = run(
            base,
            [
                Request.json(
                    "POST",
                    "/v1/auth/register",
                    {"email": e, "password": PASSWORD},
                    [("X-Forwarded-For", shopper_address(i))],
                )
                for i, e in enumerate(emails)
            ],
            concurrency,
        )
        logins, login_s = run(
            base,
            [
                Request.form(
                    "/v1/auth/token",
                    {"username": e, "password": PASSWORD},
                    [("X-Forwarded-For", shopper_address(i))],
                )
                for i, e in enumerate(emails)
            ],
            concurrency,
        )
        tokens: list[str] = []
        for response in logins:
            payload = response.json()
            assert response.status == 200 and isinstance(payload, dict), response.body[:300]
            tokens.append(str(payload["access_token"]))
        bearer = [("Authorization", f"Bearer {t}") for t in tokens]

        carts, cart_s = run(
            base,
            [
                Request.json("POST", "/v1/cart/items", {"sku": sku, "quantity": 1}, [h])
                for h in bearer
            ],
            concurrency,
        )
        bad_carts = [r for r in carts if r.status != 200]
        assert not bad_carts, (bad_carts[0].status, bad_carts[0].body[:300])

        def check_out(
            attempts: list[tuple[int, str]], out: Path | None
        ) -> tuple[list[Response], float, float]:
            """Each (shopper, key) checks out at once; the answers, seconds and server CPU."""
            requests = [
                Request.json(
                    "POST",
                    "/v1/checkout",
                    {"payment_token": "tok_ok", "shipping_address": ADDRESS},
                    [bearer[i], ("Idempotency-Key", key)],
                )
                for i, key in attempts
            ]
            cpu_before = cpu_seconds(proc.pid)
            with profiled(proc.pid, out):
                answers, seconds = run(base, requests, concurrency)
            return answers, seconds, cpu_seconds(proc.pid) - cpu_before

        attempts, checkout_s, checkout_cpu_s = check_out(list(enumerate(keys)), profile)
        # Sold out: each loser tries again with a fresh key (a refresh-click).
        losers = [i for i, r in enumerate(attempts) if r.status != 201]
        retries, retry_s, retries_cpu_s = check_out(
            [(i, f"{keys[i]}-again") for i in losers], sold_out_profile(profile)
        )

    gateway = make_gateway(settings)
    authorized = {
        key
        for key in keys
        if (p := gateway.get(key)) is not None
        and p.status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED)
    }
    with engine.connect() as conn:
        on_hand, reserved = conn.execute(
            sa.select(
                sa.func.sum(stock_levels.c.on_hand), sa.func.sum(stock_levels.c.reserved)
            ).where(stock_levels.c.sku == sku)
        ).one()
        confirmed_keys = set(
            conn.execute(
                sa.select(orders.c.idempotency_key).where(
                    orders.c.idempotency_key.in_(keys), orders.c.status == "CONFIRMED"
                )
            ).scalars()
        )
        multi_paid = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(payments.c.order_id)
                .join(orders, orders.c.id == payments.c.order_id)
                .where(orders.c.idempotency_key.in_(keys))
                .group_by(payments.c.order_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    engine.dispose()
    codes = Counter(r.status for r in attempts)
    checkout = _phase(attempts, checkout_s, checkout_cpu_s)
    return {
        "shoppers": shoppers,
        "units": units,
        "concurrency": concurrency,
        "api_workers": workers,
        "login_phase": {
            "register": _phase(registrations, register_s),
            "login": _phase(logins, login_s),
        },
        "cart_phase": _phase(carts, cart_s),
        "elapsed_s": checkout["elapsed_s"],
        "checkouts_per_s": checkout["per_s"],
        "latency": checkout["latency"],
        "server_cpu_ms_per_attempt": checkout.get("server_cpu_ms_per_request"),
        "sold_out": _sold_out_phase(retries, retry_s, retries_cpu_s),
        "status_codes": checkout["status_codes"],
        "confirmed": len(confirmed_keys),
        "units_sold": units - int(on_hand),
        "stock_on_hand": int(on_hand),
        "stock_reserved": int(reserved),
        "oversold": max(0, len(confirmed_keys) - units) + max(0, -int(on_hand)),
        "double_charges": len(authorized ^ confirmed_keys) + int(multi_paid),
        "losers_all_409": codes.get(409, 0) == shoppers - len(confirmed_keys),
        "load_average": _load_average(),
    }


def sold_out_profile(profile: Path | None) -> Path | None:
    """Where the sold-out phase's stacks go: beside the checkout phase's."""
    return (
        None if profile is None else profile.with_name(f"{profile.stem}.sold-out{profile.suffix}")
    )


def _load_average() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy's collapsed stacks of the checkout phase here, the sold-out phase's beside it",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    figures = run_sale(args.shoppers, args.units, args.concurrency, args.workers, args.profile)
    figures["benchmark_s"] = round(time.perf_counter() - began, 1)
    write_result("flash_sale", figures)


if __name__ == "__main__":
    main()
