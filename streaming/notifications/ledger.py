"""The delivery ledger: one row per event, channel and user (`notification_deliveries`).

`add` inserts new deliveries and silently keeps the ones that exist: the unique key (event id x
channel x user) makes a redelivered event, a restarted consumer or a second consumer add
nothing. Senders `claim` due rows with `FOR UPDATE SKIP LOCKED` and a lease, so two senders
never hold the same row; a sender that dies leaves its rows to be taken over once the lease
ends. Marking rows sent (in batches) or failed writes NotificationSent / NotificationFailed to
the outbox in the same transaction, guarded by the claim's token: a row is reported once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import insert

from shoplake import outbox
from shoplake.events.notification import NotificationFailed, NotificationSent
from shoplake.notifications.contract import Channel, Kind
from shoplake.notifications.tables import notification_deliveries as deliveries
from shoplake.notifications.tables import notification_feed
from streaming.notifications.render import Message

SOURCE = "/streaming/notifications"


@dataclass(frozen=True)
class Delivery:
    """A message to add: what it is about, to whom, where, and the rendered text."""

    event_id: str
    event_type: str
    kind: Kind
    channel: Channel
    user_id: str
    address: str
    message: Message
    dedupe_key: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A delivery a sender holds; `attempts` were made before this one."""

    id: int
    event_id: str
    event_type: str
    kind: str
    channel: Channel
    user_id: str
    address: str
    message: Message
    attempts: int
    token: str


class Ledger(Protocol):
    def add(self, new: Sequence[Delivery]) -> int:
        """Insert the deliveries that do not exist yet; how many were new."""
        ...

    def claim(self, channel: Channel, limit: int) -> list[Claimed]:
        """Take up to `limit` due deliveries of the channel, oldest first."""
        ...

    def mark_sent(self, claimed: Sequence[Claimed]) -> int:
        """Settle sent deliveries (those still held); how many."""
        ...

    def reschedule(
        self, claimed: Claimed, delay_s: float, error: str, *, count_attempt: bool
    ) -> None: ...

    def mark_failed(self, claimed: Claimed, reason: str) -> bool: ...

    def waiting(self) -> int:
        """Deliveries not sent or failed yet."""
        ...


class SqlLedger:
    def __init__(self, engine: Engine, *, lease_s: float) -> None:
        self.engine = engine
        self.lease_s = lease_s

    def add(self, new: Sequence[Delivery]) -> int:
        if not new:
            return 0
        rows = [
            {
                "event_id": d.event_id,
                "event_type": d.event_type,
                "kind": d.kind.value,
                "channel": d.channel.value,
                "user_id": d.user_id,
                "address": d.address,
                "dedupe_key": d.dedupe_key,
                "message": d.message.as_json(),
            }
            for d in new
        ]
        # No conflict target: both unique keys (event x channel x user, and the alert key)
        # turn a repeat into nothing.
        statement = (
            insert(deliveries).values(rows).on_conflict_do_nothing().returning(deliveries.c.id)
        )
        with self.engine.begin() as conn:
            return len(conn.execute(statement).all())

    def claim(self, channel: Channel, limit: int) -> list[Claimed]:
        token = uuid.uuid4().hex
        due = (
            sa.select(deliveries.c.id)
            .where(
                deliveries.c.channel == channel.value,
                sa.or_(
                    sa.and_(
                        deliveries.c.status == "pending",
                        deliveries.c.next_attempt_at <= sa.func.now(),
                    ),
                    sa.and_(
                        deliveries.c.status == "sending",
                        deliveries.c.lease_until < sa.func.now(),
                    ),
                ),
            )
            .order_by(deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            deliveries.update()
            .where(deliveries.c.id.in_(due))
            .values(
                status="sending",
                claim_token=token,
                lease_until=sa.func.now() + timedelta(seconds=self.lease_s),
            )
            .returning(*deliveries.c)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).mappings().all()
        claimed = [
            Claimed(
                id=int(row["id"]),
                event_id=row["event_id"],
                event_type=row["event_type"],
                kind=row["kind"],
                channel=Channel(row["channel"]),
                user_id=str(row["user_id"]),
                address=row["address"],
                message=Message.from_json(row["message"]),
                attempts=int(row["attempts"]),
                token=token,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda c: c.id)

    @staticmethod
    def _held(claimed: Claimed) -> sa.ColumnElement[bool]:
        return sa.and_(
            deliveries.c.id == claimed.id,
            deliveries.c.status == "sending",
            deliveries.c.claim_token == claimed.token,
        )

    def _report(self, conn: Connection, claimed: Claimed, reason: str | None) -> None:
        outbox.record(conn, _fact(claimed, reason), SOURCE)

    def mark_sent(self, claimed: Sequence[Claimed]) -> int:
        """Settle sent deliveries in one transaction (each reported once); the in-app feed's
        rows are written here, so an in-app message exists exactly when its delivery is sent."""
        if not claimed:
            return 0
        by_id = {delivery.id: delivery for delivery in claimed}
        with self.engine.begin() as conn:
            settled = conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.id.in_(list(by_id)),
                    deliveries.c.status == "sending",
                    # A row whose lease ran out and that another sender took is not ours.
                    deliveries.c.claim_token.in_(sorted({d.token for d in claimed})),
                )
                .values(
                    status="sent",
                    sent_at=sa.func.now(),
                    attempts=deliveries.c.attempts + 1,
                    lease_until=None,
                    claim_token=None,
                    last_error=None,
                )
                .returning(deliveries.c.id)
            ).scalars()
            held = [by_id[row_id] for row_id in settled]
            outbox.record_many(conn, [_fact(delivery, None) for delivery in held], SOURCE)
            feed = [_feed_row(d) for d in held if d.channel is Channel.IN_APP]
            if feed:
                conn.execute(
                    insert(notification_feed)
                    .values(feed)
                    .on_conflict_do_nothing(index_elements=[notification_feed.c.delivery_id])
                )
        return len(held)

    def reschedule(
        self, claimed: Claimed, delay_s: float, error: str, *, count_attempt: bool
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(self._held(claimed))
                .values(
                    status="pending",
                    next_attempt_at=sa.func.now() + timedelta(seconds=delay_s),
                    attempts=deliveries.c.attempts + (1 if count_attempt else 0),
                    lease_until=None,
                    claim_token=None,
                    last_error=error[:500],
                )
            )

    def mark_failed(self, claimed: Claimed, reason: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                deliveries.update()
                .where(self._held(claimed))
                .values(
                    status="failed",
                    attempts=deliveries.c.attempts + 1,
                    lease_until=None,
                    claim_token=None,
                    last_error=reason[:500],
                )
            ).rowcount
            if done:
                self._report(conn, claimed, reason)
        return bool(done)

    def waiting(self) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.status.in_(("pending", "sending")))
            ).scalar()
        return int(count or 0)


def _fact(claimed: Claimed, reason: str | None) -> NotificationSent | NotificationFailed:
    fields = {
        "user_id": claimed.user_id,
        "kind": claimed.kind,
        "delivery_id": claimed.id,
        "channel": claimed.channel.value,
        "source_event_id": claimed.event_id,
        "source_event_type": claimed.event_type,
        "attempts": claimed.attempts + 1,
    }
    if reason is None:
        return NotificationSent.model_validate(fields)
    return NotificationFailed.model_validate({**fields, "reason": reason[:500]})


def _feed_row(delivery: Claimed) -> dict[str, object]:
    return {
        "user_id": delivery.user_id,
        "delivery_id": delivery.id,
        "kind": delivery.kind,
        "title": delivery.message.subject,
        "body": delivery.message.short,
        "link": delivery.message.link,
    }
