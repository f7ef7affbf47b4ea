"""Where a simulated history lands: the API's own Postgres tables and outbox, and Kafka.

Commerce facts go where serving writes them: the entity tables (users, categories, products,
promotions, coupon claims, stock levels, reservations and movements, orders with their lines,
history, payments and checkout requests, wishlists) and one outbox row per event, all in one
transaction, in bulk (COPY into temporary tables, then one INSERT ... ON CONFLICT per table, so
that extending a history updates the orders it moved on). Behaviour events go straight to
Kafka as the API's behaviour route sends them. Once the transaction commits, the outbox relay
publishes the rows, and bronze and silver take them by the normal path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from confluent_kafka import KafkaError, Producer
from psycopg import Connection
from psycopg.types.json import Jsonb

from demo.history.simulate import Simulation
from serving.security import hash_password
from shoplake.config import Settings
from shoplake.events import CloudEvent

# Every simulated shopper signs in with this password (the history's accounts are test data).
HISTORY_PASSWORD = "simulated-shopper-password"

APPEND_ONLY = {
    "outbox": ("event_id", "event_type", "topic", "key", "payload", "created_at"),
    "stock_movements": (
        "sku",
        "warehouse_id",
        "reason",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "order_id",
        "reference",
        "note",
        "actor_id",
        "created_at",
    ),
    "order_status_history": ("order_id", "from_status", "to_status", "reason", "actor_id", "at"),
}


# How often (in events sent) the producer is polled for delivery failures and its queue drained.
POLL_EVERY = 2_000


def bulk_producer(
    bootstrap_servers: str, on_failure: Callable[[KafkaError | None, Any], None]
) -> Producer:
    """The history's producer (also what `benchmarks.producer` times).

    librdkafka (confluent-kafka) rather than kafka-python: a history sends ~2/3 of its events
    straight to Kafka, and kafka-python's per-record Python work was the largest part of the
    run. The same guarantees as the API's producer: acks from every replica, idempotent, and
    murmur2 on the key, kafka-python's and the JVM's partitioner, so a session's events land on
    the partition the live path would choose. `on_failure` hears of failed deliveries only: a
    callback per record would cost more than the send."""
    return Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "acks": "all",
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 20,
            "batch.size": 1024 * 1024,
            "message.max.bytes": 4 * 1024 * 1024,
            "queue.buffering.max.messages": 500_000,
            "delivery.report.only.error": True,
            "on_delivery": on_failure,
        }
    )


def produce_waiting(producer: Producer, topic: str, key: str | bytes | None, value: bytes) -> None:
    """Queue one record, waiting for the broker while librdkafka's local queue is full."""
    while True:
        try:
            producer.produce(topic, value=value, key=key)
            return
        except BufferError:
            producer.poll(0.05)


class PostgresKafkaSink:
    """Streams a simulation's facts: behaviour events to Kafka as they happen, the rest into
    temporary tables of one open transaction, day by day."""

    def __init__(self, conn: Connection[Any], settings: Settings, topics: dict[str, str]) -> None:
        self.conn = conn
        self.settings = settings
        self.topics = topics
        self.outbox_rows = 0
        self.behaviour_events = 0
        self._buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in APPEND_ONLY}
        self._failures: list[KafkaError] = []
        self._producer = bulk_producer(settings.kafka_bootstrap_servers, self._delivered)
        with conn.cursor() as cur:
            for name, columns in APPEND_ONLY.items():
                # Same column types as the real table, no constraint yet: the entities they
                # refer to are written at the end.
                cur.execute(
                    f"create temp table history_{name} on commit drop as "  # noqa: S608
                    f"select {', '.join(columns)} from {name} limit 0"
                )
                cur.execute(f"alter table history_{name} add column seq bigserial")

    # -- the Sink protocol -----------------------------------------------------------
    def event(self, event: CloudEvent, *, outbox: bool) -> None:
        topic = self.topics[event.domain]
        if not outbox:
            self._send(topic, event.subject, event.to_json())
            self.behaviour_events += 1
            return
        # The payload goes into COPY as the event's JSON text (COPY's text format hands it to
        # the jsonb column to parse): one serialisation in Rust, no dict built in between.
        self._buffers["outbox"].append(
            (event.id, event.type, topic, event.subject, event.to_json().decode(), event.time)
        )
        self.outbox_rows += 1

    def _send(self, topic: str, key: str, value: bytes) -> None:
        produce_waiting(self._producer, topic, key, value)
        if self.behaviour_events % POLL_EVERY == 0:
            self._producer.poll(0)

    def _delivered(self, error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            self._failures.append(error)

    def movement(self, row: dict[str, Any]) -> None:
        self._buffers["stock_movements"].append(
            tuple(row[c] for c in APPEND_ONLY["stock_movements"])
        )

    def status_change(self, row: dict[str, Any]) -> None:
        self._buffers["order_status_history"].append(
            tuple(row[c] for c in APPEND_ONLY["order_status_history"])
        )

    def day_done(self, day: date, days_total: int) -> None:
        with self.conn.cursor() as cur:
            for name, rows in self._buffers.items():
                if not rows:
                    continue
                columns = ", ".join(APPEND_ONLY[name])
                with cur.copy(f"copy history_{name} ({columns}) from stdin") as copy:
                    for row in rows:
                        copy.write_row(row)
                rows.clear()

    # -- the end -----------------------------------------------------------------------
    def flush_kafka(self) -> None:
        """Wait until the broker acknowledged every behaviour event."""
        undelivered = self._producer.flush(300)
        if undelivered:
            raise RuntimeError(f"{undelivered} behaviour events were not acknowledged in 300 s")
        if self._failures:
            raise RuntimeError(
                f"{len(self._failures)} behaviour events were not sent: {self._failures[0]!r}"
            )

    def write_entities(self, sim: Simulation, since: datetime | None) -> dict[str, int]:
        """The entities as they stand at the end (those that changed in the window when
        extending), then the buffered append-only rows, in the order foreign keys need."""
        touched = _touched(since)
        world = sim.world
        password_hash = hash_password(self.settings, HISTORY_PASSWORD)
        users = [
            (
                s.user_id,
                s.email,
                password_hash,
                s.email.split("@")[0],
                "customer",
                s.country,
                s.registered_at,
                s.registered_at,
            )
            for s in sim.registered
            if touched(s.registered_at)
        ]
        paths = {p.category[: n + 1] for p in world.products for n in range(len(p.category))}
        categories = [
            (
                "/".join(path),
                path[-1].replace("-", " ").capitalize(),
                "/".join(path[:-1]) or None,
                len(path) - 1,
            )
            for path in sorted(paths)
        ]
        products = [
            (
                p.sku,
                p.name,
                p.description,
                p.brand,
                list(p.category),
                p.price_cents,
                "EUR",
                Jsonb(p.attributes),
                [f"https://img.shoplake.dev/{p.sku}.jpg"],
                "active",
                p.version,
                sim.product_created_at.get(p.sku, sim.params.start),
                sim.product_changed_at.get(p.sku, sim.params.start),
            )
            for p in world.products
            if touched(sim.product_changed_at.get(p.sku, sim.params.start))
        ]
        promotions = [
            (
                p.promotion_id,
                p.name,
                p.kind,
                p.value,
                "EUR" if p.kind == "fixed" else None,
                p.scope,
                list(p.scope_values),
                p.starts_at,
                p.ends_at,
                p.coupon_code,
                None,
                True,
                0,
                True,
                p.created_at,
                p.created_at,
            )
            for p in world.promotions
            if touched(p.created_at) and p.created_at < sim.end
        ]
        levels = [
            (level.sku, level.warehouse_id, level.on_hand, level.reserved, sim.end)
            for level in sim.levels.values()
        ]
        orders = [state for state in sim.orders.values() if touched(state.updated_at)]
        tables: list[tuple[str, Sequence[str], Sequence[str], list[tuple[Any, ...]]]] = [
            (
                "users",
                (
                    "id",
                    "email",
                    "password_hash",
                    "display_name",
                    "role",
                    "country",
                    "created_at",
                    "updated_at",
                ),
                ("id",),
                users,
            ),
            ("categories", ("path", "name", "parent_path", "depth"), ("path",), categories),
            (
                "products",
                (
                    "sku",
                    "name",
                    "description",
                    "brand",
                    "category_path",
                    "price_cents",
                    "currency",
                    "attributes",
                    "image_urls",
                    "status",
                    "version",
                    "created_at",
                    "updated_at",
                ),
                ("sku",),
                products,
            ),
            (
                "promotions",
                (
                    "id",
                    "name",
                    "kind",
                    "value",
                    "currency",
                    "scope",
                    "scope_values",
                    "starts_at",
                    "ends_at",
                    "coupon_code",
                    "usage_limit",
                    "stackable",
                    "priority",
                    "active",
                    "created_at",
                    "updated_at",
                ),
                ("id",),
                promotions,
            ),
            (
                "coupon_redemptions",
                ("promotion_id", "holder", "claimed_at", "expires_at", "order_id"),
                ("promotion_id", "holder"),
                [
                    tuple(c.values())
                    for c in sim.coupon_claims
                    if touched(c["claimed_at"]) and c["claimed_at"] < sim.end
                ],
            ),
            (
                "stock_levels",
                ("sku", "warehouse_id", "on_hand", "reserved", "updated_at"),
                ("sku", "warehouse_id"),
                levels,
            ),
            (
                "orders",
                (
                    "id",
                    "user_id",
                    "status",
                    "currency",
                    "subtotal_cents",
                    "discount_cents",
                    "shipping_cents",
                    "total_cents",
                    "coupon_code",
                    "shipping_address",
                    "idempotency_key",
                    "allocations",
                    "created_at",
                    "updated_at",
                ),
                ("id",),
                [
                    (
                        s.aggregate.id,
                        s.aggregate.user_id,
                        s.aggregate.status.value,
                        "EUR",
                        s.subtotal_cents,
                        s.discount_cents,
                        0,
                        s.aggregate.total_cents,
                        s.coupon_code,
                        Jsonb(s.shipping_address),
                        s.aggregate.idempotency_key,
                        Jsonb(s.allocations),
                        s.created_at,
                        s.updated_at,
                    )
                    for s in orders
                ],
            ),
            (
                "order_lines",
                (
                    "order_id",
                    "sku",
                    "name",
                    "quantity",
                    "unit_price_cents",
                    "discount_cents",
                    "total_cents",
                ),
                ("order_id", "sku"),
                [(s.aggregate.id, *line.values()) for s in orders for line in s.lines],
            ),
            (
                "payments",
                (
                    "id",
                    "order_id",
                    "idempotency_key",
                    "gateway",
                    "reference",
                    "status",
                    "amount_cents",
                    "currency",
                    "created_at",
                    "updated_at",
                ),
                ("id",),
                [
                    (
                        p.payment_id,
                        s.aggregate.id,
                        p.idempotency_key,
                        "sandbox",
                        p.reference,
                        p.status,
                        p.amount_cents,
                        "EUR",
                        p.created_at,
                        p.updated_at,
                    )
                    for s in orders
                    if (p := s.payment) is not None
                ],
            ),
            (
                "checkout_requests",
                (
                    "idempotency_key",
                    "user_id",
                    "request_hash",
                    "order_id",
                    "state",
                    "created_at",
                    "updated_at",
                ),
                ("idempotency_key",),
                [
                    (
                        s.aggregate.idempotency_key,
                        s.aggregate.user_id,
                        hashlib.sha256(s.aggregate.id.encode()).hexdigest(),
                        s.aggregate.id,
                        s.checkout_state,
                        s.created_at,
                        s.updated_at,
                    )
                    for s in orders
                ],
            ),
            (
                "stock_reservations",
                (
                    "order_id",
                    "sku",
                    "warehouse_id",
                    "quantity",
                    "status",
                    "expires_at",
                    "created_at",
                    "settled_at",
                    "release_reason",
                ),
                ("order_id", "sku", "warehouse_id"),
                [tuple(r.values()) for s in orders for r in s.reservations],
            ),
            (
                "wishlist_items",
                ("user_id", "sku", "added_at"),
                ("user_id", "sku"),
                [
                    (user_id, sku, at)
                    for (user_id, sku), at in sim.wishlists.items()
                    if touched(at) and at < sim.end
                ],
            ),
        ]
        written: dict[str, int] = {}
        with self.conn.cursor() as cur:
            for name, columns, keys, rows in tables:
                written[name] = self._upsert(cur, name, columns, keys, rows)
            for name, columns in APPEND_ONLY.items():
                listed = ", ".join(columns)
                order = "created_at, seq" if "created_at" in columns else "at, seq"
                cur.execute(
                    f"insert into {name} ({listed}) "  # noqa: S608 - names are ours
                    f"select {listed} from history_{name} order by {order}"
                )
                written[name] = cur.rowcount
        return written

    def _upsert(
        self,
        cur: Any,
        name: str,
        columns: Sequence[str],
        keys: Sequence[str],
        rows: list[tuple[Any, ...]],
    ) -> int:
        if not rows:
            return 0
        listed = ", ".join(columns)
        cur.execute(
            f"create temp table history_{name} on commit drop as "  # noqa: S608
            f"select {listed} from {name} limit 0"
        )
        with cur.copy(f"copy history_{name} ({listed}) from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        updates = [c for c in columns if c not in keys and c != "created_at"]
        action = (
            "do update set " + ", ".join(f"{c} = excluded.{c}" for c in updates)
            if updates
            else "do nothing"
        )
        cur.execute(
            f"insert into {name} ({listed}) select {listed} from history_{name} "  # noqa: S608
            f"on conflict ({', '.join(keys)}) {action}"
        )
        return len(rows)


def _touched(since: datetime | None) -> Any:
    def touched(moment: datetime) -> bool:
        return since is None or moment >= since

    return touched


def ground_truth_json(truth: dict[str, Any]) -> str:
    return json.dumps(truth, indent=1, sort_keys=True, default=str)
