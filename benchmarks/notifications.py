"""Notification throughput: events from Kafka to e-mails in Mailpit, through the consumer.

    .venv/bin/python -m benchmarks.notifications --users 100 --orders 20

`users` shoppers (e-mail and the in-app feed on, the defaults) get `orders` OrderConfirmed each
on a topic of the benchmark's own; one consumer (the intake and the sender in one loop, as
`shoplake stream notifications` runs) takes them from Kafka to the ledger and sends. Figures:
events/s into the ledger, e-mails/s (first delivery row written → last e-mail accepted by
SMTP, from the ledger's own timestamps), every delivery checked as sent and counted in
Mailpit, and the SMTP channel alone (one connection, the same messages) as the ceiling.
Writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from kafka import KafkaProducer

from benchmarks.harness import write_result
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from shoplake.config import get_settings
from shoplake.db import make_engine
from shoplake.events.order import OrderConfirmed
from shoplake.notifications.contract import Channel, Kind
from shoplake.notifications.tables import notification_deliveries as deliveries
from streaming.notifications.channels import SmtpChannel
from streaming.notifications.consumer import run as run_consumer
from streaming.notifications.ledger import Claimed
from streaming.notifications.render import render


def smtp_ceiling(count: int) -> dict[str, Any]:
    """The SMTP channel alone: `count` rendered messages over one connection."""
    settings = get_settings()
    channel = SmtpChannel.from_settings(settings)
    message = render(
        Kind.ORDER_CONFIRMED,
        {
            "user_name": "Bench",
            "order_id": "o-1",
            "total": "1.00 EUR",
            "order_link": "https://shop.example.com/orders/o-1",
        },
    )
    run_id = uuid.uuid4().hex[:8]
    began = time.perf_counter()
    for n in range(count):
        channel.send(
            Claimed(
                n + 1,
                f"ceiling-{run_id}-{n}",
                "bench",
                "order_confirmed",
                Channel.EMAIL,
                f"{run_id}-{n}",
                f"ceiling-{run_id}@bench.example.com",
                message,
                0,
                "t",
            )
        )
    seconds = time.perf_counter() - began
    channel.close()
    return {"messages": count, "seconds": round(seconds, 2), "emails_per_s": round(count / seconds)}


def run(users: int, orders: int) -> dict[str, Any]:
    settings = get_settings()
    engine = make_engine(settings, pool_size=4)
    run_id = uuid.uuid4().hex[:8]
    user_ids: list[str] = []
    began = time.perf_counter()
    with engine.begin() as conn:
        for n in range(users):
            body = UserRegister(
                email=f"{run_id}-{n}@bench.example.com", password=f"bench password {run_id}"
            )
            user_ids.append(accounts.register(conn, body).id)
    setup_s = time.perf_counter() - began

    topic = f"bench.notify.{run_id}"
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=5
    )
    events = 0
    now = datetime.now(UTC)
    for user_id in user_ids:
        for _ in range(orders):
            data = OrderConfirmed(
                order_id=str(uuid.uuid4()), user_id=user_id, total_cents=2599, currency="EUR"
            )
            event = data.to_event("/benchmarks", time=now)
            producer.send(topic, key=event.subject.encode(), value=event.to_json())
            events += 1
    producer.flush()
    producer.close()

    consumed = time.perf_counter()
    stats = run_consumer(
        settings,
        topics=(topic,),
        group_id=f"bench-{run_id}",
        deadletter_topic=f"bench.deadletter.{run_id}",
        stop_after_idle_s=3.0,
    )
    consumer_s = time.perf_counter() - consumed

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                deliveries.c.channel,
                sa.func.count(),
                sa.func.count().filter(deliveries.c.status == "sent"),
                sa.func.min(deliveries.c.created_at),
                sa.func.max(deliveries.c.created_at),
                sa.func.max(deliveries.c.sent_at),
            )
            .where(deliveries.c.user_id.in_(user_ids))
            .group_by(deliveries.c.channel)
        ).all()
    engine.dispose()
    by_channel = {row[0]: row for row in rows}
    email = by_channel["email"]
    first_row, last_sent = email[3], email[5]
    intake_s = (max(r[4] for r in rows) - min(r[3] for r in rows)).total_seconds()
    email_s = (last_sent - first_row).total_seconds()
    with httpx.Client(base_url=f"{settings.mailpit_endpoint}/api/v1", timeout=30) as mailpit:
        in_mailpit = sum(
            mailpit.get(
                "/search", params={"query": f"to:{run_id}-{n}@bench.example.com", "limit": 1}
            ).json()["messages_count"]
            for n in range(users)
        )
    return {
        "users": users,
        "events": events,
        "setup_s": round(setup_s, 1),
        "consumer_run_s": round(consumer_s, 1),
        "deliveries": {ch: {"rows": int(r[1]), "sent": int(r[2])} for ch, r in by_channel.items()},
        "emails_in_mailpit": in_mailpit,
        "events_per_s_into_ledger": round(events / max(intake_s, 1e-3)),
        "emails_per_s": round(int(email[2]) / max(email_s, 1e-3)),
        "deliveries_per_s": round(sum(int(r[2]) for r in rows) / max(email_s, 1e-3)),
        "dead_letters": stats.dead_letters,
        "smtp_ceiling": smtp_ceiling(min(events, 2_000)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    write_result("notifications", run(args.users, args.orders))


if __name__ == "__main__":
    main()
