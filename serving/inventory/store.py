"""SQL of the stock ledger: levels, movements and reservations (the Redis gate is gate.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from serving.catalog import service as catalog
from serving.inventory.domain import (
    Movement,
    Reservation,
    ReservationStatus,
    StockLedger,
    StockLevel,
)
from serving.inventory.tables import stock_levels, stock_movements, stock_reservations
from serving.unit_of_work import SqlUnitOfWork


class InventoryStore(StockLedger, Protocol):
    """The ledger's store: levels, movements and reservations (SQL here, dicts in tests)."""

    def levels_of(self, sku: str) -> list[StockLevel]: ...

    def lock_or_create_level(self, sku: str, warehouse_id: str) -> StockLevel: ...

    def write_level(self, level: StockLevel) -> None: ...

    def shift_level(
        self, sku: str, warehouse_id: str, *, on_hand: int, reserved: int
    ) -> StockLevel: ...

    def add_movement(self, movement: Movement, actor_id: str | None = None) -> int: ...

    def movements(
        self, sku: str, *, limit: int, before_id: int | None
    ) -> Sequence[Mapping[str, Any]]: ...

    def has_reservations(self, order_id: str) -> bool: ...

    def insert_reservations(self, reservations: Sequence[Reservation]) -> None: ...

    def reservations_of(
        self, order_id: str, *, status: ReservationStatus | None = None, lock: bool = False
    ) -> list[Reservation]: ...

    def settle_reservations(
        self, order_id: str, status: ReservationStatus, reason: str | None
    ) -> None: ...

    def expired_orders(self, now: datetime, limit: int) -> list[str]: ...

    def available_totals(self, skus: Sequence[str] | None = None) -> dict[str, int]: ...


class CatalogView(Protocol):
    """What inventory reads of the catalog: whether a SKU exists, and its status."""

    def status_of(self, sku: str) -> str | None: ...


class SqlCatalogView:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    def status_of(self, sku: str) -> str | None:
        uow = self.uow
        product = catalog.get_products(uow.connection, uow.redis, uow.settings, [sku]).get(sku)
        return None if product is None else str(product.status)


_LEVEL_COLUMNS = (
    stock_levels.c.sku,
    stock_levels.c.warehouse_id,
    stock_levels.c.on_hand,
    stock_levels.c.reserved,
)


def _level(row: Any) -> StockLevel:
    return StockLevel(row.sku, row.warehouse_id, row.on_hand, row.reserved)


def _reservation(row: Any) -> Reservation:
    return Reservation(
        order_id=row.order_id,
        sku=row.sku,
        warehouse_id=row.warehouse_id,
        quantity=row.quantity,
        expires_at=row.expires_at,
        status=ReservationStatus(row.status),
    )


class SqlInventoryStore:
    """The stock ledger over the unit of work's connection (the domain's StockLedger too)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlInventoryStore:
        return cls(uow.connection)

    def warehouses_of(self, sku: str) -> list[StockLevel]:
        return self.levels_of(sku)

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

    def levels_of(self, sku: str) -> list[StockLevel]:
        rows = self.conn.execute(
            sa.select(*_LEVEL_COLUMNS)
            .where(stock_levels.c.sku == sku)
            .order_by(stock_levels.c.warehouse_id)
        ).all()
        return [_level(row) for row in rows]

    def lock_or_create_level(self, sku: str, warehouse_id: str) -> StockLevel:
        """The level locked for this transaction; created empty when the SKU is new there."""
        self.conn.execute(
            insert(stock_levels)
            .values(sku=sku, warehouse_id=warehouse_id)
            .on_conflict_do_nothing(
                index_elements=[stock_levels.c.sku, stock_levels.c.warehouse_id]
            )
        )
        return self.lock_level(sku, warehouse_id)

    def write_level(self, level: StockLevel) -> None:
        """Store a level computed under its lock (lock_or_create_level)."""
        self.conn.execute(
            stock_levels.update()
            .where(
                stock_levels.c.sku == level.sku, stock_levels.c.warehouse_id == level.warehouse_id
            )
            .values(on_hand=level.on_hand, reserved=level.reserved, updated_at=sa.func.now())
        )

    def shift_level(
        self, sku: str, warehouse_id: str, *, on_hand: int, reserved: int
    ) -> StockLevel:
        """Add signed deltas in one statement; the check constraints refuse an impossible result."""
        row = self.conn.execute(
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

    def add_movement(self, movement: Movement, actor_id: str | None = None) -> int:
        after = movement.after
        movement_id: Any = self.conn.execute(
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

    def movements(
        self, sku: str, *, limit: int, before_id: int | None
    ) -> Sequence[Mapping[str, Any]]:
        """Newest first, keyset-paginated by id."""
        query = sa.select(stock_movements).where(stock_movements.c.sku == sku)
        if before_id is not None:
            query = query.where(stock_movements.c.id < before_id)
        rows = self.conn.execute(query.order_by(stock_movements.c.id.desc()).limit(limit))
        return [dict(row) for row in rows.mappings()]

    def has_reservations(self, order_id: str) -> bool:
        found = self.conn.execute(
            sa.select(sa.literal(1)).where(stock_reservations.c.order_id == order_id).limit(1)
        ).first()
        return found is not None

    def insert_reservations(self, reservations: Sequence[Reservation]) -> None:
        self.conn.execute(
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

    def reservations_of(
        self, order_id: str, *, status: ReservationStatus | None = None, lock: bool = False
    ) -> list[Reservation]:
        """An order's reservations in (sku, warehouse) order: the order stock rows are locked in."""
        query = sa.select(stock_reservations).where(stock_reservations.c.order_id == order_id)
        if status is not None:
            query = query.where(stock_reservations.c.status == status.value)
        query = query.order_by(stock_reservations.c.sku, stock_reservations.c.warehouse_id)
        if lock:
            query = query.with_for_update()
        return [_reservation(row) for row in self.conn.execute(query)]

    def settle_reservations(
        self, order_id: str, status: ReservationStatus, reason: str | None
    ) -> None:
        """Mark the order's held reservations released or sold."""
        self.conn.execute(
            stock_reservations.update()
            .where(
                stock_reservations.c.order_id == order_id,
                stock_reservations.c.status == ReservationStatus.HELD.value,
            )
            .values(status=status.value, settled_at=sa.func.now(), release_reason=reason)
        )

    def expired_orders(self, now: datetime, limit: int) -> list[str]:
        """Orders holding a reservation past its expiry, oldest first (read without locks: each
        order is then released under its own locks, in its own transaction)."""
        rows = self.conn.execute(
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

    def available_totals(self, skus: Sequence[str] | None = None) -> dict[str, int]:
        """Available units over all warehouses for each tracked SKU (all of them when skus is None);
        a SKU without levels is absent."""
        query = sa.select(
            stock_levels.c.sku, sa.func.sum(stock_levels.c.on_hand - stock_levels.c.reserved)
        ).group_by(stock_levels.c.sku)
        if skus is not None:
            if not skus:
                return {}
            query = query.where(stock_levels.c.sku.in_(list(skus)))
        return {row[0]: int(row[1]) for row in self.conn.execute(query)}
