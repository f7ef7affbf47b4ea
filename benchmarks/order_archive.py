"""Rows per second of the order archive job: Postgres → Delta `archive.*`, verified, deleted.

    .venv/bin/python -m benchmarks.order_archive --orders 20000 --batch-size 5000

`orders` final orders a year and a half old (each with 2 lines, 3 status changes and a
payment: 7 rows) are written straight into Postgres, then `archive_orders` moves them into a
lake of the benchmark's own (a temporary directory), batch by batch: plan, copy with delta-rs,
verify against Postgres under lock, delete. Prints and writes JSON: rows/s and orders/s
overall and per batch, and the time of an archived order's lookup as the API does it (cold,
then cached). Postgres must hold none of them afterwards and the archive each once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.compute as pc
from deltalake import DeltaTable

from benchmarks.harness import percentiles, write_result
from serving.archive.reader import DeltaArchive
from serving.orders.tables import order_lines, order_status_history, orders
from serving.payments.tables import payments
from shoplake.config import get_settings
from shoplake.db import make_engine
from shoplake.lake import ARCHIVE_TABLES
from spark_jobs.order_archive import archive_orders

AGE = timedelta(days=540)
ADDRESS = {"full_name": "Bench", "line1": "1 Dock", "city": "Rotterdam", "country": "NL"}


def _rows(count: int, tag: str) -> dict[str, list[dict[str, Any]]]:
    start = datetime.now(UTC) - AGE
    tables: dict[str, list[dict[str, Any]]] = {"orders": [], "lines": [], "history": [], "pay": []}
    for n in range(count):
        order_id = str(uuid.uuid4())
        at = start - timedelta(minutes=n)  # spread over a few weeks of months
        tables["orders"].append(
            {
                "id": order_id,
                "user_id": str(uuid.uuid4()),
                "status": "CANCELLED" if n % 3 else "REFUNDED",
                "currency": "EUR",
                "subtotal_cents": 3_000,
                "discount_cents": 0,
                "shipping_cents": 495,
                "total_cents": 3_495,
                "shipping_address": ADDRESS,
                "idempotency_key": f"bench-archive-{tag}-{n}",
                "created_at": at,
                "updated_at": at,
            }
        )
        for sku in ("A", "B"):
            tables["lines"].append(
                {
                    "order_id": order_id,
                    "sku": f"{sku}-{tag}",
                    "name": "Bench item",
                    "quantity": 1,
                    "unit_price_cents": 1_500,
                    "discount_cents": 0,
                    "total_cents": 1_500,
                }
            )
        for before, after in (
            (None, "PENDING_PAYMENT"),
            ("PENDING_PAYMENT", "CONFIRMED"),
            ("CONFIRMED", "CANCELLED"),
        ):
            tables["history"].append(
                {"order_id": order_id, "from_status": before, "to_status": after, "at": at}
            )
        tables["pay"].append(
            {
                "id": str(uuid.uuid4()),
                "order_id": order_id,
                "idempotency_key": f"bench-archive-{tag}-{n}",
                "gateway": "sandbox",
                "reference": f"pay_bench{n}",
                "status": "voided",
                "amount_cents": 3_495,
                "currency": "EUR",
                "created_at": at,
                "updated_at": at,
            }
        )
    return tables


def main(count: int, batch_size: int) -> dict[str, Any]:
    settings = get_settings()
    engine = make_engine(settings, pool_size=2)
    tag = uuid.uuid4().hex[:8]
    data = _rows(count, tag)
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(orders.insert(), data["orders"])
        conn.execute(order_lines.insert(), data["lines"])
        conn.execute(order_status_history.insert(), data["history"])
        conn.execute(payments.insert(), data["pay"])
    seeded = time.perf_counter() - began
    ids = [row["id"] for row in data["orders"]]
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as lake:
        run = archive_orders(
            settings, older_than_days=365, batch_size=batch_size, lake_root=lake, compact=False
        )
        with engine.connect() as conn:
            left = conn.execute(
                orders.select().with_only_columns(orders.c.id).where(orders.c.id.in_(ids))
            ).all()
        archived = DeltaTable(ARCHIVE_TABLES["orders"].path(lake)).to_pyarrow_dataset()
        found = archived.to_table(columns=["id"], filter=pc.field("id").isin(ids))
        reader = DeltaArchive(lake, refresh_s=60)
        cold, warm = [], []
        for order_id in ids[:: max(1, count // 50)]:
            t0 = time.perf_counter()
            assert reader.order(order_id) is not None
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reader.order(order_id)
            warm.append(time.perf_counter() - t0)
    engine.dispose()
    done = [b for b in run.batches if b.state == "done"]
    return {
        "orders": count,
        "seed_seconds": round(seeded, 2),
        "batch_size": batch_size,
        "batches": len(done),
        "rows_archived": run.rows,
        "orders_archived": run.orders,
        "seconds": round(run.seconds, 2),
        "rows_per_s": round(run.rows / run.seconds, 1),
        "orders_per_s": round(run.orders / run.seconds, 1),
        "per_batch": [
            {"orders": b.orders, "rows": b.row_count, "seconds": round(b.seconds, 2)} for b in done
        ],
        "left_in_postgres": len(left),
        "in_archive": found.num_rows,
        "archived_order_lookup_cold": percentiles(cold),
        "archived_order_lookup_cached": percentiles(warm),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()
    figures = main(args.orders, args.batch_size)
    write_result("order_archive", figures)
    assert figures["left_in_postgres"] == 0 and figures["in_archive"] == args.orders, figures
