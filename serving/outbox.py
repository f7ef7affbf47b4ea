"""The outbox relay: pending rows of the outbox (`shoplake.outbox`) are published to Kafka.

- **One leader per deployment.** A relay becomes the leader by taking a Postgres advisory lock
  on a connection it keeps; every other relay (another API worker, another replica, a
  `shoplake outbox relay` beside them) stands by and tries again every
  `outbox_relay_standby_s`. If the leader dies, Postgres drops its lock with its connection
  and a standby takes over. So any number of API workers may run with `--relay`.
- **In order, per key.** The leader publishes pending rows in id order with an idempotent
  producer and marks the acknowledged ones sent. While Kafka is away (any transient error) it
  marks nothing it could not send and backs off; the oldest row goes first on the next try,
  and a re-sent row is harmless since consumers deduplicate on the event id.
- **A poison row is set aside.** A row the broker refuses for good (larger than the record
  limit, an invalid topic or record) would otherwise block every row behind it forever: it is
  moved to `outbox_dead_letters` with the reason, announced on the dead-letter topic, counted
  (`shoplake_outbox_dead_letters_total`) and logged at error level, and the relay goes on.
  `shoplake outbox dead` lists such rows, `shoplake outbox retry ID` puts one back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from kafka import KafkaProducer
from kafka.errors import (
    CorruptRecordError,
    InvalidRecordError,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from prometheus_client import Counter, Gauge
from sqlalchemy import Connection, Engine

from shoplake.config import Settings
from shoplake.events import DEADLETTER_TOPIC
from shoplake.outbox import outbox, outbox_dead_letters, pending_count

log = logging.getLogger(__name__)

# Any constant shared by all relays; only the holder of this lock publishes.
RELAY_LOCK_ID = 0x5A0B0C

# What the broker refuses for this record whatever we do: retrying would block the rest.
_PERMANENT: dict[type[KafkaError], str] = {
    MessageSizeTooLargeError: "too_large",
    RecordListTooLargeError: "too_large",
    InvalidTopicError: "invalid_topic",
    InvalidRecordError: "invalid_record",
    CorruptRecordError: "invalid_record",
}

SENT = Counter("shoplake_outbox_sent_total", "outbox rows published to Kafka")
DEAD_LETTERS = Counter(
    "shoplake_outbox_dead_letters_total", "outbox rows the broker refused for good", ["reason"]
)
LEADER = Gauge("shoplake_outbox_relay_leader", "1 while this process's relay is the leader")


def permanent_reason(exc: BaseException) -> str | None:
    for cls, reason in _PERMANENT.items():
        if isinstance(exc, cls):
            return reason
    return None


@dataclass
class RelayStats:
    sent: int = 0
    failures: int = 0
    dead_letters: int = 0
    last_error: str | None = None


ProducerFactory = Callable[[Settings], KafkaProducer]


def make_producer(settings: Settings) -> KafkaProducer:
    """Idempotent, ordered per partition, acknowledged by all in-sync replicas; records over
    `outbox_max_event_bytes` are refused before they are sent."""
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
        max_request_size=settings.outbox_max_event_bytes,
        # Back within a second or two of the broker's return (the default waits up to 30 s).
        reconnect_backoff_max_ms=1000,
        client_id="shoplake-outbox-relay",
    )


class OutboxRelay:
    """Publishes pending outbox rows; safe to run in any number of processes (one leads)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        producer_factory: ProducerFactory = make_producer,
        deadletter_topic: str = DEADLETTER_TOPIC,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.producer_factory = producer_factory
        self.deadletter_topic = deadletter_topic
        self.stats = RelayStats()
        self.role = "stopped"  # leader | standby | stopped
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

    # ------------------------------------------------------------------ one batch

    def run_once(self) -> int:
        """Publish one batch if no other relay leads; the number of rows marked sent (or set
        aside). Raises KafkaError when Kafka fails."""
        with self.engine.connect() as conn:
            if not self._lock(conn):
                return 0
            try:
                return self._publish_batch(conn)
            finally:
                self._unlock(conn)

    @staticmethod
    def _lock(conn: Connection) -> bool:
        locked = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(RELAY_LOCK_ID))).scalar())
        conn.commit()
        return locked

    @staticmethod
    def _unlock(conn: Connection) -> None:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.execute(sa.select(sa.func.pg_advisory_unlock(RELAY_LOCK_ID)))
            conn.commit()

    def _publish_batch(self, conn: Connection) -> int:
        rows = conn.execute(
            sa.select(
                outbox.c.id,
                outbox.c.event_id,
                outbox.c.event_type,
                outbox.c.topic,
                outbox.c.key,
                outbox.c.payload,
                outbox.c.created_at,
            )
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self.settings.outbox_relay_batch)
        ).all()
        conn.commit()
        if not rows:
            return 0
        producer = self._get_producer()
        futures: list[tuple[Any, Any]] = []
        refused: list[tuple[Any, str, BaseException]] = []
        transient: BaseException | None = None
        try:
            for row in rows:
                try:
                    futures.append(
                        (
                            row,
                            producer.send(
                                row.topic,
                                key=row.key.encode(),
                                value=json.dumps(row.payload, separators=(",", ":")).encode(),
                            ),
                        )
                    )
                except KafkaError as exc:
                    reason = permanent_reason(exc)
                    if reason is None:
                        raise
                    refused.append((row, reason, exc))
            producer.flush(timeout=15)
        except KafkaError as exc:
            transient = exc
        sent = []
        for row, future in futures:
            try:
                future.get(timeout=15)
            except KafkaError as exc:
                reason = permanent_reason(exc)
                if reason is not None:
                    refused.append((row, reason, exc))
                else:
                    transient = transient or exc
                continue
            sent.append(row.id)
        if sent:
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(sent))
                .values(sent_at=sa.func.now(), attempts=outbox.c.attempts + 1, last_error=None)
            )
            conn.commit()
            self.stats.sent += len(sent)
            SENT.inc(len(sent))
        for row, reason, error in sorted(refused, key=lambda item: item[0].id):
            self._set_aside(conn, row, reason, error)
        if transient is not None:
            # Nothing it could not send is marked sent; the idempotent producer and consumers'
            # dedup on event id make the re-send of any row that did reach Kafka harmless.
            self._drop_producer()
            failed = [row.id for row, _ in futures if row.id not in set(sent)]
            if failed:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(failed))
                    .values(attempts=outbox.c.attempts + 1, last_error=str(transient)[:500])
                )
                conn.commit()
            raise transient
        return len(sent) + len(refused)

    def _set_aside(self, conn: Connection, row: Any, reason: str, exc: BaseException) -> None:
        """Announce the refused row on the dead-letter topic, then move it out of the way."""
        size = len(json.dumps(row.payload, separators=(",", ":")).encode())
        notice = {
            "reason": f"outbox_{reason}",
            "detail": str(exc)[:500],
            "consumer": "outbox-relay",
            "topic": row.topic,
            "key": row.key,
            "outbox_id": row.id,
            "event_id": str(row.event_id),
            "event_type": row.event_type,
            "size_bytes": size,
        }
        producer = self._get_producer()
        producer.send(
            self.deadletter_topic, key=row.key.encode(), value=json.dumps(notice).encode()
        ).get(timeout=15)
        conn.execute(
            outbox_dead_letters.insert().values(
                id=row.id,
                event_id=row.event_id,
                event_type=row.event_type,
                topic=row.topic,
                key=row.key,
                payload=row.payload,
                created_at=row.created_at,
                reason=reason,
                error=str(exc)[:2000],
            )
        )
        conn.execute(outbox.delete().where(outbox.c.id == row.id))
        conn.commit()
        self.stats.dead_letters += 1
        DEAD_LETTERS.labels(reason).inc()
        log.error(
            json.dumps(
                {
                    "event": "outbox_row_set_aside",
                    "outbox_id": row.id,
                    "event_id": str(row.event_id),
                    "event_type": row.event_type,
                    "topic": row.topic,
                    "reason": reason,
                    "size_bytes": size,
                    "error": str(exc)[:300],
                }
            )
        )

    # ------------------------------------------------------------------ the leader loop

    def run_forever(self, stop: threading.Event, max_backoff_s: float = 5.0) -> None:
        """Relay until `stop` is set: stand by until this relay holds the lock, then publish
        (idle polling when empty, exponential backoff on failure)."""
        backoff = 0.5
        while not stop.is_set():
            try:
                with self.engine.connect() as conn:
                    if not self._lock(conn):
                        self._set_role("standby")
                        stop.wait(self.settings.outbox_relay_standby_s)
                        continue
                    self._set_role("leader")
                    try:
                        self._lead(conn, stop)
                        backoff = 0.5
                    finally:
                        self._unlock(conn)
            except (KafkaError, sa.exc.SQLAlchemyError) as exc:
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                self._set_role("standby")
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff_s)
        self._set_role("stopped")
        self._drop_producer()

    def _lead(self, conn: Connection, stop: threading.Event) -> None:
        while not stop.is_set():
            done = self._publish_batch(conn)
            if done < self.settings.outbox_relay_batch:
                stop.wait(self.settings.outbox_relay_idle_s)

    def _set_role(self, role: str) -> None:
        self.role = role
        LEADER.set(1 if role == "leader" else 0)

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


# ------------------------------------------------------------------ set-aside rows


@dataclass(frozen=True)
class DeadLetter:
    id: int
    event_type: str
    topic: str
    key: str
    reason: str
    size_bytes: int
    dead_at: str


def dead_letters(engine: Engine, limit: int = 100) -> list[DeadLetter]:
    """The rows the relay set aside, newest first."""
    size = sa.func.octet_length(sa.cast(outbox_dead_letters.c.payload, sa.Text))
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                outbox_dead_letters.c.id,
                outbox_dead_letters.c.event_type,
                outbox_dead_letters.c.topic,
                outbox_dead_letters.c.key,
                outbox_dead_letters.c.reason,
                size.label("size_bytes"),
                outbox_dead_letters.c.dead_at,
            )
            .order_by(outbox_dead_letters.c.dead_at.desc(), outbox_dead_letters.c.id.desc())
            .limit(limit)
        ).all()
    return [
        DeadLetter(
            int(r.id), r.event_type, r.topic, r.key, r.reason, int(r.size_bytes), str(r.dead_at)
        )
        for r in rows
    ]


def retry_dead_letter(engine: Engine, dead_id: int) -> bool:
    """Put a set-aside row back into the outbox, same event id, as its newest row: it is sent
    after what was published meanwhile (consumers order by the event's own version or time),
    and its lag counts from now. False when no such row was set aside."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(outbox_dead_letters)
            .where(outbox_dead_letters.c.id == dead_id)
            .with_for_update()
        ).first()
        if row is None:
            return False
        conn.execute(
            outbox.insert().values(
                event_id=row.event_id,
                event_type=row.event_type,
                topic=row.topic,
                key=row.key,
                payload=row.payload,
            )
        )
        conn.execute(outbox_dead_letters.delete().where(outbox_dead_letters.c.id == dead_id))
    return True
