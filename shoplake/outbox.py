"""The transactional outbox: the table every layer shares, and how an event gets into it.

A service calls `record(conn, event_data, source)` inside the transaction that changes state, so
the event exists if and only if the change committed. The relay (`serving.outbox`) publishes
pending rows to Kafka; reconciliation (`spark_jobs.reconcile`) counts what was sent. The table
lives here, in the kernel, because those layers may not import each other.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shoplake.db import metadata
from shoplake.events import CloudEvent, EventData

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_outbox_pending", "id", postgresql_where=sa.text("sent_at is null")),
)

# Rows the broker refused for good (too large, invalid), set aside by the relay so the rows
# behind them go on; `shoplake outbox dead` lists them, `shoplake outbox retry ID` moves one
# back into the outbox once the cause is fixed. The id is the outbox row's.
outbox_dead_letters = sa.Table(
    "outbox_dead_letters",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("dead_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def record(conn: Connection, data: EventData, source: str) -> CloudEvent:
    """Add the event to the outbox in the caller's transaction; returns the envelope."""
    event = data.to_event(source)
    conn.execute(
        outbox.insert().values(
            event_id=event.id,
            event_type=event.type,
            topic=data.topic(),
            key=event.subject,
            payload=json.loads(event.to_json()),
        )
    )
    return event


def record_many(conn: Connection, events: Sequence[EventData], source: str) -> None:
    """`record` for several events in one statement (same transaction semantics)."""
    if not events:
        return
    rows = []
    for data in events:
        event = data.to_event(source)
        rows.append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic": data.topic(),
                "key": event.subject,
                "payload": json.loads(event.to_json()),
            }
        )
    conn.execute(outbox.insert().values(rows))


def sent_counts(conn: Connection, topic_pattern: str) -> Counter[str]:
    """Rows marked sent, per event type, among the topics matching the (POSIX) regex."""
    rows = conn.execute(
        sa.select(outbox.c.event_type, sa.func.count())
        .where(outbox.c.sent_at.is_not(None), outbox.c.topic.regexp_match(topic_pattern))
        .group_by(outbox.c.event_type)
    ).all()
    return Counter({str(event_type): int(n) for event_type, n in rows})


def oldest_pending_age_s(conn: Connection) -> float:
    """Seconds since the oldest unsent row was written (0 when none waits): the relay's lag."""
    age = conn.execute(
        sa.select(sa.func.extract("epoch", sa.func.now() - sa.func.min(outbox.c.created_at))).where(
            outbox.c.sent_at.is_(None)
        )
    ).scalar()
    return max(0.0, float(age or 0.0))


def pending_count(conn: Connection) -> int:
    """Rows not sent yet."""
    count = conn.execute(
        sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
    ).scalar()
    return int(count or 0)
