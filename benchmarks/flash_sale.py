"""A flash sale through the real HTTP API and the payment gateway of the settings (the sandbox).

    .venv/bin/python -m benchmarks.flash_sale --shoppers 2000 --units 100 --concurrency 32

One product with `units` in stock; `shoppers` distinct shoppers each put one in their cart, then
all check out at once, each with their own Idempotency-Key. Prints and writes JSON: checkouts/s,
latency p50/p95/p99, confirmed orders, oversold units (must be 0), double charges (must be 0:
a key the gateway authorized without exactly one confirmed order, or an order with more than one
payment), and the status codes the losers got (all must be 409).
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from benchmarks.harness import api_server, percentiles, write_result
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.inventory.tables import stock_levels
from serving.orders.tables import orders
from serving.payments.factory import make_gateway
from serving.payments.gateway import PaymentStatus
from serving.payments.tables import payments
from serving.security import Role, issue_token
from shoplake.config import get_settings
from shoplake.db import make_engine

ADDRESS = {
    "full_name": "Flash Shopper",
    "line1": "1 Queue Street",
    "city": "Lyon",
    "postal_code": "69001",
    "country": "FR",
}


def run(shoppers: int, units: int, concurrency: int) -> dict[str, object]:
    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    email, password = f"flash-admin-{uuid.uuid4().hex[:8]}@example.com", "benchmark password"
    with engine.begin() as conn:
        accounts.register(conn, UserRegister(email=email, password=password), role=Role.ADMIN)
    sku = f"FLASH-{uuid.uuid4().hex[:10]}"
    with api_server() as base, httpx.Client(base_url=base, timeout=60) as http:
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
        # Shoppers need no registration: the API trusts a signed token.
        headers = [
            {
                "Authorization": "Bearer "
                + issue_token(settings, str(uuid.uuid4()), Role.CUSTOMER, "access")[0]
            }
            for _ in range(shoppers)
        ]
        with ThreadPoolExecutor(concurrency) as pool:
            list(
                pool.map(
                    lambda h: http.post(
                        "/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=h
                    ).raise_for_status(),
                    headers,
                )
            )
        keys = [f"flash-{uuid.uuid4().hex}" for _ in range(shoppers)]
        samples: list[float] = []
        lock = threading.Lock()

        def buy(i: int) -> int:
            began = time.perf_counter()
            response = http.post(
                "/v1/checkout",
                json={"payment_token": "tok_ok", "shipping_address": ADDRESS},
                headers={**headers[i], "Idempotency-Key": keys[i]},
            )
            with lock:
                samples.append(time.perf_counter() - began)
            return response.status_code

        began = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            codes = Counter(pool.map(buy, range(shoppers)))
        elapsed = time.perf_counter() - began

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
    sold = units - int(on_hand)
    return {
        "shoppers": shoppers,
        "units": units,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 2),
        "checkouts_per_s": round(shoppers / elapsed, 1),
        "latency": percentiles(samples),
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "confirmed": len(confirmed_keys),
        "units_sold": sold,
        "stock_on_hand": int(on_hand),
        "stock_reserved": int(reserved),
        "oversold": max(0, len(confirmed_keys) - units) + max(0, -int(on_hand)),
        "double_charges": len(authorized ^ confirmed_keys) + int(multi_paid),
        "losers_all_409": codes.get(409, 0) == shoppers - len(confirmed_keys),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=2000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    write_result("flash_sale", run(args.shoppers, args.units, args.concurrency))


if __name__ == "__main__":
    main()
