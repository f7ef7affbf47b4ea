"""SQL of orders, payments and checkout requests. Parameterised statements only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.orders.domain import HistoryEntry, OrderStatus
from serving.orders.tables import (
    checkout_requests,
    order_lines,
    order_status_history,
    orders,
    payments,
)
from serving.pricing.tables import coupon_redemptions, promotions

# ---------------------------------------------------------------- orders


def insert_order(conn: Connection, **fields: Any) -> None:
    conn.execute(orders.insert().values(**fields))


def insert_lines(conn: Connection, order_id: str, lines: Sequence[dict[str, Any]]) -> None:
    conn.execute(order_lines.insert(), [{"order_id": order_id, **line} for line in lines])


def add_history(conn: Connection, order_id: str, entry: HistoryEntry) -> None:
    conn.execute(
        order_status_history.insert().values(
            order_id=order_id,
            from_status=entry.from_status.value if entry.from_status else None,
            to_status=entry.to_status.value,
            reason=entry.reason,
            actor_id=entry.actor_id,
        )
    )


def get_order(conn: Connection, order_id: str, *, lock: bool = False) -> RowMapping | None:
    query = sa.select(orders).where(orders.c.id == order_id)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def set_status(conn: Connection, order_id: str, status: OrderStatus) -> None:
    conn.execute(
        orders.update()
        .where(orders.c.id == order_id)
        .values(status=status.value, updated_at=sa.func.now())
    )


def set_allocations(conn: Connection, order_id: str, allocations: list[dict[str, Any]]) -> None:
    conn.execute(orders.update().where(orders.c.id == order_id).values(allocations=allocations))


def lines_of(conn: Connection, order_ids: Sequence[str]) -> dict[str, list[RowMapping]]:
    rows = (
        conn.execute(
            sa.select(order_lines)
            .where(order_lines.c.order_id.in_(list(order_ids)))
            .order_by(order_lines.c.order_id, order_lines.c.sku)
        )
        .mappings()
        .all()
    )
    grouped: dict[str, list[RowMapping]] = {order_id: [] for order_id in order_ids}
    for row in rows:
        grouped[row["order_id"]].append(row)
    return grouped


def history_of(conn: Connection, order_id: str) -> list[RowMapping]:
    return list(
        conn.execute(
            sa.select(order_status_history)
            .where(order_status_history.c.order_id == order_id)
            .order_by(order_status_history.c.id)
        )
        .mappings()
        .all()
    )


def list_orders(
    conn: Connection,
    *,
    user_id: str | None,
    status: OrderStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    """A page of orders, newest first, and how many match in all."""
    where = []
    if user_id is not None:
        where.append(orders.c.user_id == user_id)
    if status is not None:
        where.append(orders.c.status == status.value)
    page = (
        conn.execute(
            sa.select(orders)
            .where(*where)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        .mappings()
        .all()
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(orders).where(*where)).scalar_one()
    return list(page), int(total)


def stale_pending(conn: Connection, before: datetime, limit: int) -> list[str]:
    """Orders still PENDING_PAYMENT that were placed before `before`, oldest first."""
    return list(
        conn.execute(
            sa.select(orders.c.id)
            .where(
                orders.c.status == OrderStatus.PENDING_PAYMENT.value,
                orders.c.created_at < before,
            )
            .order_by(orders.c.created_at)
            .limit(limit)
        ).scalars()
    )


# ---------------------------------------------------------------- payments


def insert_payment(conn: Connection, **fields: Any) -> None:
    conn.execute(pg_insert(payments).values(**fields).on_conflict_do_nothing())


def payment_of(conn: Connection, order_id: str) -> RowMapping | None:
    return (
        conn.execute(
            sa.select(payments)
            .where(payments.c.order_id == order_id)
            .order_by(payments.c.created_at)
            .limit(1)
        )
        .mappings()
        .first()
    )


def set_payment_status(conn: Connection, payment_id: str, status: str) -> None:
    conn.execute(
        payments.update()
        .where(payments.c.id == payment_id)
        .values(status=status, updated_at=sa.func.now())
    )


# ---------------------------------------------------------------- checkout requests


def claim_request(conn: Connection, key: str, user_id: str, request_hash: str) -> bool:
    """Insert the request; False when the key exists. A concurrent insert of the same key waits
    here for the first transaction to end (the unique index), then sees its row or takes over."""
    inserted = conn.execute(
        pg_insert(checkout_requests)
        .values(idempotency_key=key, user_id=user_id, request_hash=request_hash, state="claimed")
        .on_conflict_do_nothing()
        .returning(checkout_requests.c.idempotency_key)
    ).first()
    return inserted is not None


def get_request(conn: Connection, key: str) -> RowMapping | None:
    return (
        conn.execute(sa.select(checkout_requests).where(checkout_requests.c.idempotency_key == key))
        .mappings()
        .first()
    )


def set_request(conn: Connection, key: str, *, state: str, order_id: str | None = None) -> None:
    values: dict[str, Any] = {"state": state, "updated_at": sa.func.now()}
    if order_id is not None:
        values["order_id"] = order_id
    conn.execute(
        checkout_requests.update()
        .where(checkout_requests.c.idempotency_key == key)
        .values(**values)
    )


# ---------------------------------------------------------------- coupons


def consume_coupon(conn: Connection, code: str, holder: str, order_id: str) -> bool:
    """Mark the holder's live claim of the coupon as used by the order (pricing's table: the
    pricing service has no call for it yet)."""
    promotion_ids = sa.select(promotions.c.id).where(promotions.c.coupon_code == code)
    result = conn.execute(
        coupon_redemptions.update()
        .where(
            coupon_redemptions.c.promotion_id.in_(promotion_ids.scalar_subquery()),
            coupon_redemptions.c.holder == holder,
            coupon_redemptions.c.order_id.is_(None),
        )
        .values(order_id=order_id)
    )
    return result.rowcount > 0
