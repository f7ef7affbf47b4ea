"""SQL of notifications, over the kernel's tables (shared with the consumer)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert

from shoplake.notifications.tables import notification_feed as feed
from shoplake.notifications.tables import notification_preferences as preferences


def get_preferences(conn: Connection, user_id: str, *, lock: bool = False) -> RowMapping | None:
    query = sa.select(preferences).where(preferences.c.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def put_preferences(
    conn: Connection, user_id: str, channels: dict[str, dict[str, bool]], sms_number: str | None
) -> RowMapping:
    statement = (
        insert(preferences)
        .values(user_id=user_id, channels=channels, sms_number=sms_number)
        .on_conflict_do_update(
            index_elements=[preferences.c.user_id],
            set_={"channels": channels, "sms_number": sms_number, "updated_at": sa.func.now()},
        )
        .returning(*preferences.c)
    )
    return conn.execute(statement).mappings().one()


def feed_page(
    conn: Connection, user_id: str, *, unread_only: bool, limit: int, before_id: int | None
) -> list[RowMapping]:
    """Newest first, keyset on the id."""
    query = sa.select(feed).where(feed.c.user_id == user_id)
    if unread_only:
        query = query.where(feed.c.read_at.is_(None))
    if before_id is not None:
        query = query.where(feed.c.id < before_id)
    return list(conn.execute(query.order_by(feed.c.id.desc()).limit(limit)).mappings())


def unread_count(conn: Connection, user_id: str) -> int:
    count = conn.execute(
        sa.select(sa.func.count())
        .select_from(feed)
        .where(feed.c.user_id == user_id, feed.c.read_at.is_(None))
    ).scalar()
    return int(count or 0)


def mark_read(conn: Connection, user_id: str, item_id: int) -> RowMapping | None:
    """The item after marking it read (read once: a second call keeps the first time)."""
    row = (
        conn.execute(
            feed.update()
            .where(feed.c.id == item_id, feed.c.user_id == user_id)
            .values(read_at=sa.func.coalesce(feed.c.read_at, sa.func.now()))
            .returning(*feed.c)
        )
        .mappings()
        .first()
    )
    return row


def mark_all_read(conn: Connection, user_id: str) -> int:
    result = conn.execute(
        feed.update()
        .where(feed.c.user_id == user_id, feed.c.read_at.is_(None))
        .values(read_at=sa.func.now())
    )
    return int(result.rowcount or 0)
