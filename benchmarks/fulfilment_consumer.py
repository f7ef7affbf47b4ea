"""Shipments per second of the fulfilment consumer: Kafka OrderConfirmed → Postgres shipments.

    .venv/bin/python -m benchmarks.fulfilment_consumer --orders 2000

`orders` confirmed orders, each split over two warehouses, are written straight into Postgres
(the API is not what is measured), their OrderConfirmed events put on a topic of the
benchmark's own, and the real consumer (`streaming.fulfilment_consumer.run` with serving's
`ShipmentIntake`) turns them into shipments: one transaction per event (the inbox row, the
order locked, two shipments with their lines and events, the order FULFILLING). Then every
event is delivered again to a fresh consumer group, which must create nothing. Prints and
writes JSON: shipments/s and events/s of the first pass, events/s of the redelivery, and the
shipments counted in Postgres (must be 2 per order). The benchmark's orders are deleted after.
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

import sqlalchemy as sa
from kafka import KafkaProducer

from benchmarks.harness import write_result
from serving.fulfilment.intake import ShipmentIntake
from serving.fulfilment.tables import fulfilment_inbox, shipments
from serving.orders.tables import order_lines, orders
from shoplake.config import get_settings
from shoplake.db import make_engine
from shoplake.events.order import OrderConfirmed
from shoplake.kafka import ensure_topics
from streaming.fulfilment_consumer import FulfilmentStats, run

ADDRESS = {"full_name": "Bench", "line1": "1 Dock", "city": "Rotterdam", "country": "NL"}


def _orders(count: int, tag: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, lines = [], []
    for n in range(count):
        order_id = str(uuid.uuid4())
        rows.append(
            {
                "id": order_id,
                "user_id": str(uuid.uuid4()),
                "status": "CONFIRMED",
                "currency": "EUR",
                "subtotal_cents": 4_000,
                "discount_cents": 0,
                "shipping_cents": 495,
                "total_cents": 4_495,
                "shipping_address": ADDRESS,
                "idempotency_key": f"bench-{tag}-{n}",
                "allocations": [
                    {"sku": f"B-{tag}-1", "warehouse_id": "BENCH-A", "quantity": 2},
                    {"sku": f"B-{tag}-1", "warehouse_id": "BENCH-B", "quantity": 1},
                    {"sku": f"B-{tag}-2", "warehouse_id": "BENCH-B", "quantity": 1},
                ],
            }
        )
        for sku, quantity in ((f"B-{tag}-1", 3), (f"B-{tag}-2", 1)):
            lines.append(
                {
                    "order_id": order_id,
                    "sku": sku,
                    "name": "Bench item",
                    "quantity": quantity,
                    "unit_price_cents": 1_000,
                    "discount_cents": 0,
                    "total_cents": 1_000 * quantity,
                }
            )
    return rows, lines


def _timed_run(settings: Any, intake: ShipmentIntake, topic: str, group: str) -> tuple[Any, float]:
    first: list[float] = []
    last: list[float] = []

    def seen(_stats: FulfilmentStats) -> None:
        now = time.perf_counter()
        if not first:
            first.append(now)
        last[:] = [now]

    began = time.perf_counter()
    stats = run(
        settings, intake, stop_after_idle_s=3.0, group_id=group, topics=(topic,), on_batch=seen
    )
    # From the first poll to the end of the last batch: the idle wait at the end is not work.
    return stats, (last[0] if last else time.perf_counter()) - began


def main(count: int) -> dict[str, Any]:
    settings = get_settings()
    engine = make_engine(settings, pool_size=4)
    tag = uuid.uuid4().hex[:8]
    topic = f"bench.fulfilment.{tag}"
    rows, lines = _orders(count, tag)
    with engine.begin() as conn:
        conn.execute(orders.insert(), rows)
        conn.execute(order_lines.insert(), lines)
    ensure_topics(settings, [topic], partitions=3)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5
    )
    for row in rows:
        event = OrderConfirmed(
            order_id=row["id"],
            user_id=row["user_id"],
            total_cents=row["total_cents"],
            currency="EUR",
        ).to_event("/benchmarks")
        producer.send(topic, key=row["id"].encode(), value=event.to_json())
    producer.flush(timeout=60)
    producer.close()
    intake = ShipmentIntake(engine, settings)
    try:
        stats, seconds = _timed_run(settings, intake, topic, f"bench-{tag}")
        again, again_seconds = _timed_run(settings, intake, topic, f"bench-{tag}-again")
        ids = [row["id"] for row in rows]
        with engine.connect() as conn:
            made = conn.execute(
                sa.select(sa.func.count()).where(shipments.c.order_id.in_(ids))
            ).scalar_one()
    finally:
        with engine.begin() as conn:
            conn.execute(orders.delete().where(orders.c.idempotency_key.like(f"bench-{tag}-%")))
            conn.execute(
                fulfilment_inbox.delete().where(
                    fulfilment_inbox.c.order_id.in_([row["id"] for row in rows])
                )
            )
        engine.dispose()
    return {
        "orders": count,
        "shipments_created": stats.shipments_created,
        "shipments_in_postgres": made,
        "seconds": round(seconds, 2),
        "shipments_per_s": round(stats.shipments_created / seconds, 1),
        "events_per_s": round(stats.confirmed / seconds, 1),
        "redelivery": {
            "events": again.confirmed,
            "shipments_created": again.shipments_created,
            "seconds": round(again_seconds, 2),
            "events_per_s": round(again.confirmed / again_seconds, 1),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=2_000)
    args = parser.parse_args()
    figures = main(args.orders)
    write_result("fulfilment_consumer", figures)
    assert figures["shipments_in_postgres"] == 2 * args.orders, figures
    assert figures["redelivery"]["shipments_created"] == 0, figures
