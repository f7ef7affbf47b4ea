"""SQL of the stock ledger: levels, movements and reservations (the Redis gate is gate.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert

from serving.inventory.domain import Movement, Reservation, ReservationStatus, StockLevel
from serving.inventory.tables import stock_levels, stock_movements, stock_reservations

_LEVEL_COLUMNS = (
    stock_levels.c.sku,
    stock_levels.c.warehouse_id,
    stock_levels.c.on_hand,
    stock_levels.c.reserved,
)


def _level(row: Any) -> StockLevel:
    return StockLevel(row.sku, row.warehouse_id, row.on_hand, row.reserved)


class SqlStockLedger:
    """The domain's StockLedger over the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def warehouses_of(self, sku: str) -> list[StockLevel]:
        return levels_of(self.conn, sku)

    def reserve_if_available(self, sku: str, warehouse_id: str, quantity: int) -> StockLevel | None:
        # The conditional update is the whole no-oversell guarantee: the row lock serialises
        # concurrent reservations, and each re-checks `available >= quantity` on the latest row.
        row = self.conn.execute(
            stock_levels.update()
            .where(
                stock_levels.c.sku == sku,
                stock_levels.c.warehouse_id == warehouse_id,
                stock_levels.c.on_hand - stock_levels.c.reserved >= quantity,
            )
            .values(reserved=stock_levels.c.reserved + quantity, updated_at=sa.func.now())
            .returning(*_LEVEL_COLUMNS)
        ).first()
        return None if row is None else _level(row)

    def lock_level(self, sku: str, warehouse_id: str) -> StockLevel:
        row = self.conn.execute(
            sa.select(*_LEVEL_COLUMNS)
            .where(stock_levels.c.sku == sku, stock_levels.c.warehouse_id == warehouse_id)
            .with_for_update()
        ).one()
        return _level(row)


def levels_of(conn: Connection, sku: str) -> list[StockLevel]:
    rows = conn.execute(
        sa.select(*_LEVEL_COLUMNS)
        .where(stock_levels.c.sku == sku)
        .order_by(stock_levels.c.warehouse_id)
    ).all()
    return [_level(row) for row in rows]


def lock_or_create_level(conn: Connection, sku: str, warehouse_id: str) -> StockLevel:
    """The level locked for this transaction; created empty when the SKU is new there."""
    conn.execute(
        insert(stock_levels)
        .values(sku=sku, warehouse_id=warehouse_id)
        .on_conflict_do_nothing(index_elements=[stock_levels.c.sku, stock_levels.c.warehouse_id])
    )
    return SqlStockLedger(conn).lock_level(sku, warehouse_id)


def write_level(conn: Connection, level: StockLevel) -> None:
    """Store a level computed under its lock (lock_or_create_level)."""
    conn.execute(
        stock_levels.update()
        .where(stock_levels.c.sku == level.sku, stock_levels.c.warehouse_id == level.warehouse_id)
        .values(on_hand=level.on_hand, reserved=level.reserved, updated_at=sa.func.now())
    )


def shift_level(
    conn: Connection, sku: str, warehouse_id: str, *, on_hand: int, reserved: int
) -> StockLevel:
    """Add signed deltas in one statement; the check constraints refuse an impossible result."""
    row = conn.execute(
        stock_levels.update()
        .where(stock_levels.c.sku == sku, stock_levels.c.warehouse_id == warehouse_id)
        .values(
            on_hand=stock_levels.c.on_hand + on_hand,
            reserved=stock_levels.c.reserved + reserved,
            updated_at=sa.func.now(),
        )
        .returning(*_LEVEL_COLUMNS)
    ).one()
    return _level(row)


def add_movement(conn: Connection, movement: Movement, actor_id: str | None = None) -> int:
    after = movement.after
    movement_id: Any = conn.execute(
        stock_movements.insert()
        .values(
            sku=after.sku,
            warehouse_id=after.warehouse_id,
            reason=movement.reason.value,
            on_hand_delta=movement.on_hand_delta,
            reserved_delta=movement.reserved_delta,
            on_hand_after=after.on_hand,
            reserved_after=after.reserved,
            order_id=movement.order_id,
            reference=movement.reference,
            note=movement.note,
            actor_id=actor_id,
        )
        .returning(stock_movements.c.id)
    ).scalar_one()
    return int(movement_id)


def movements(conn: Connection, sku: str, *, limit: int, before_id: int | None) -> list[RowMapping]:
    """Newest first, keyset-paginated by id."""
    query = sa.select(stock_movements).where(stock_movements.c.sku == sku)
    if before_id is not None:
        query = query.where(stock_movements.c.id < before_id)
    return list(conn.execute(query.order_by(stock_movements.c.id.desc()).limit(limit)).mappings())


def has_reservations(conn: Connection, order_id: str) -> bool:
    found = conn.execute(
        sa.select(sa.literal(1)).where(stock_reservations.c.order_id == order_id).limit(1)
    ).first()
    return found is not None


def insert_reservations(conn: Connection, reservations: Sequence[Reservation]) -> None:
    conn.execute(
        stock_reservations.insert(),
        [
            {
                "order_id": r.order_id,
                "sku": r.sku,
                "warehouse_id": r.warehouse_id,
                "quantity": r.quantity,
                "status": r.status.value,
                "expires_at": r.expires_at,
            }
            for r in reservations
        ],
    )


def _reservation(row: Any) -> Reservation:
    return Reservation(
        order_id=row.order_id,
        sku=row.sku,
        warehouse_id=row.warehouse_id,
        quantity=row.quantity,
        expires_at=row.expires_at,
        status=ReservationStatus(row.status),
    )


def reservations_of(
    conn: Connection, order_id: str, *, status: ReservationStatus | None = None, lock: bool = False
) -> list[Reservation]:
    """An order's reservations in (sku, warehouse) order: the order stock rows are locked in."""
    query = sa.select(stock_reservations).where(stock_reservations.c.order_id == order_id)
    if status is not None:
        query = query.where(stock_reservations.c.status == status.value)
    query = query.order_by(stock_reservations.c.sku, stock_reservations.c.warehouse_id)
    if lock:
        query = query.with_for_update()
    return [_reservation(row) for row in conn.execute(query)]


def settle_reservations(
    conn: Connection, order_id: str, status: ReservationStatus, reason: str | None
) -> None:
    """Mark the order's held reservations released or sold."""
    conn.execute(
        stock_reservations.update()
        .where(
            stock_reservations.c.order_id == order_id,
            stock_reservations.c.status == ReservationStatus.HELD.value,
        )
        .values(status=status.value, settled_at=sa.func.now(), release_reason=reason)
    )


def expired_orders(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Orders holding a reservation past its expiry, oldest first (read without locks: each
    order is then released under its own locks, in its own transaction)."""
    rows = conn.execute(
        sa.select(stock_reservations.c.order_id)
        .where(
            stock_reservations.c.status == ReservationStatus.HELD.value,
            stock_reservations.c.expires_at <= now,
        )
        .group_by(stock_reservations.c.order_id)
        .order_by(sa.func.min(stock_reservations.c.expires_at))
        .limit(limit)
    ).all()
    return [row.order_id for row in rows]


def available_totals(conn: Connection, skus: Sequence[str] | None = None) -> dict[str, int]:
    """Available units over all warehouses for each tracked SKU (all of them when skus is None);
    a SKU without levels is absent."""
    query = sa.select(
        stock_levels.c.sku, sa.func.sum(stock_levels.c.on_hand - stock_levels.c.reserved)
    ).group_by(stock_levels.c.sku)
    if skus is not None:
        if not skus:
            return {}
        query = query.where(stock_levels.c.sku.in_(list(skus)))
    return {row[0]: int(row[1]) for row in conn.execute(query)}
