"""The outbox relay: pending rows of the outbox (`shoplake.outbox`) are published to Kafka.

`OutboxRelay` publishes pending rows in id order with an idempotent producer, marks them sent,
and backs off while Kafka is unavailable. One relay at a time holds a Postgres advisory lock,
which keeps per-key order across replicas.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from kafka import KafkaProducer
from kafka.errors import KafkaError
from sqlalchemy import Connection, Engine

from shoplake.config import Settings
from shoplake.outbox import outbox, pending_count

log = logging.getLogger(__name__)

# Any constant shared by all relays; only the holder of this lock publishes.
RELAY_LOCK_ID = 0x5A0B0C


@dataclass
class RelayStats:
    sent: int = 0
    failures: int = 0
    last_error: str | None = None


ProducerFactory = Callable[[Settings], KafkaProducer]


def make_producer(settings: Settings) -> KafkaProducer:
    """Idempotent, ordered per partition, acknowledged by all in-sync replicas."""
    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        linger_ms=5,
        retries=5,
        request_timeout_ms=5_000,
        max_block_ms=5_000,
        delivery_timeout_ms=15_000,
        client_id="shoplake-outbox-relay",
    )


class OutboxRelay:
    """Publishes pending outbox rows; safe to run in several processes (one publishes)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        producer_factory: ProducerFactory = make_producer,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.producer_factory = producer_factory
        self.stats = RelayStats()
        self._producer: KafkaProducer | None = None

    def _get_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self.producer_factory(self.settings)
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=1)
            self._producer = None

    def run_once(self) -> int:
        """Publish one batch; the number of rows marked sent. Raises KafkaError when Kafka fails."""
        with self.engine.connect() as conn:
            locked = conn.execute(sa.select(sa.func.pg_try_advisory_lock(RELAY_LOCK_ID))).scalar()
            if not locked:
                return 0
            try:
                return self._publish_batch(conn)
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(RELAY_LOCK_ID)))
                conn.commit()

    def _publish_batch(self, conn: Connection) -> int:
        rows = conn.execute(
            sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.settings.outbox_relay_batch)
        ).all()
        conn.commit()
        if not rows:
            return 0
        try:
            producer = self._get_producer()
            futures = [
                producer.send(
                    row.topic,
                    key=row.key.encode(),
                    value=json.dumps(row.payload, separators=(",", ":")).encode(),
                )
                for row in rows
            ]
            producer.flush(timeout=15)
            for future in futures:
                future.get(timeout=15)
        except KafkaError as exc:
            # Nothing is marked sent; the idempotent producer and consumers' dedup on event id
            # make the re-send of any row that did reach Kafka harmless.
            self._drop_producer()
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:500])
            )
            conn.commit()
            raise
        conn.execute(
            outbox.update()
            .where(outbox.c.id.in_([row.id for row in rows]))
            .values(sent_at=sa.func.now(), attempts=outbox.c.attempts + 1, last_error=None)
        )
        conn.commit()
        self.stats.sent += len(rows)
        return len(rows)

    def run_forever(self, stop: threading.Event, max_backoff_s: float = 10.0) -> None:
        """Relay until `stop` is set: idle polling when empty, exponential backoff on failure."""
        backoff = 0.5
        while not stop.is_set():
            try:
                sent = self.run_once()
                backoff = 0.5
                if sent < self.settings.outbox_relay_batch:
                    stop.wait(self.settings.outbox_relay_idle_s)
            except (KafkaError, sa.exc.OperationalError) as exc:
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff_s)
        self._drop_producer()

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return pending_count(conn)


class RelayThread:
    """The relay in a background thread of the API process (when configured)."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay = relay
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=relay.run_forever, args=(self._stop,), name="outbox-relay", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def drain(relay: OutboxRelay, timeout_s: float = 30.0) -> int:
    """Publish until nothing is pending (tests, demo); the number sent."""
    deadline = time.monotonic() + timeout_s
    total = 0
    while time.monotonic() < deadline:
        sent = relay.run_once()
        total += sent
        if sent == 0 and relay.pending() == 0:
            return total
    raise TimeoutError(f"outbox not drained within {timeout_s}s ({relay.pending()} pending)")
