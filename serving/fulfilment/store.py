"""SQL of fulfilment: shipments, their lines and scans, and the consumer's inbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert

from serving.fulfilment.domain import WITH_CARRIER, Scan, ShipmentStatus
from serving.fulfilment.tables import fulfilment_inbox, shipment_lines, shipment_scans, shipments
from serving.unit_of_work import SqlUnitOfWork

Row = Mapping[Any, Any]  # a row by column name
# Columns a change may set to "now" by passing True (the time of the transaction).
STAMPS = frozenset({"picked_at", "packed_at", "shipped_at", "cancelled_at"})


class ShipmentStore(Protocol):
    """Rows are mappings of the tables' columns (SQL rows here, dicts in the unit tests)."""

    def claim_event(self, event_id: str, event_type: str, order_id: str) -> bool:
        """Note the event as handled; False when it was already (a redelivery)."""
        ...

    def set_outcome(self, event_id: str, outcome: str) -> None: ...

    def insert(self, shipment: Row, lines: Sequence[Row]) -> None: ...

    def get(self, shipment_id: str, *, lock: bool = False) -> Row | None: ...

    def of_order(self, order_id: str, *, lock: bool = False) -> list[Row]:
        """The order's shipments by warehouse id; with `lock`, locked in that order."""
        ...

    def lines_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def scans_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def update(self, shipment_id: str, changes: Mapping[str, Any]) -> None:
        """Set the columns; a `*_at` stamp given as True is set to now."""
        ...

    def add_scans(self, shipment_id: str, scans: Sequence[Scan]) -> None:
        """Record the scans; one already recorded (same seq) is skipped."""
        ...

    def waiting(
        self, warehouse_id: str, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        """The warehouse's CREATED shipments, oldest first (created_at, id), after `after`."""
        ...

    def with_carrier(self, *, limit: int, after_id: str | None) -> list[Row]:
        """Shipments the carrier has and did not deliver yet, by id, after `after_id`."""
        ...


class SqlShipmentStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlShipmentStore:
        return cls(uow.connection)

    def claim_event(self, event_id: str, event_type: str, order_id: str) -> bool:
        # The primary key does the waiting: the same event handled twice at once blocks the
        # second insert until the first transaction ends, then conflicts.
        inserted = self.conn.execute(
            pg_insert(fulfilment_inbox)
            .values(event_id=event_id, event_type=event_type, order_id=order_id, outcome="")
            .on_conflict_do_nothing()
            .returning(fulfilment_inbox.c.event_id)
        ).first()
        return inserted is not None

    def set_outcome(self, event_id: str, outcome: str) -> None:
        self.conn.execute(
            fulfilment_inbox.update()
            .where(fulfilment_inbox.c.event_id == event_id)
            .values(outcome=outcome)
        )

    def insert(self, shipment: Row, lines: Sequence[Row]) -> None:
        self.conn.execute(shipments.insert().values(**shipment))
        self.conn.execute(
            shipment_lines.insert(),
            [{"shipment_id": shipment["id"], **line} for line in lines],
        )

    def get(self, shipment_id: str, *, lock: bool = False) -> Row | None:
        query = sa.select(shipments).where(shipments.c.id == shipment_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def of_order(self, order_id: str, *, lock: bool = False) -> list[Row]:
        query = (
            sa.select(shipments)
            .where(shipments.c.order_id == order_id)
            .order_by(shipments.c.warehouse_id)
        )
        if lock:
            query = query.with_for_update()
        return list(self.conn.execute(query).mappings().all())

    def _grouped(
        self, table: sa.Table, shipment_ids: Sequence[str], order: sa.ColumnElement[Any]
    ) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {shipment_id: [] for shipment_id in shipment_ids}
        if not shipment_ids:
            return grouped
        rows = self.conn.execute(
            sa.select(table)
            .where(table.c.shipment_id.in_(list(shipment_ids)))
            .order_by(table.c.shipment_id, order)
        ).mappings()
        for row in rows:
            grouped[row["shipment_id"]].append(row)
        return grouped

    def lines_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]:
        return self._grouped(shipment_lines, shipment_ids, shipment_lines.c.sku)

    def scans_of(self, shipment_ids: Sequence[str]) -> dict[str, list[Row]]:
        return self._grouped(shipment_scans, shipment_ids, shipment_scans.c.seq)

    def update(self, shipment_id: str, changes: Mapping[str, Any]) -> None:
        values = {
            name: sa.func.now() if name in STAMPS and value is True else value
            for name, value in changes.items()
        }
        self.conn.execute(
            shipments.update()
            .where(shipments.c.id == shipment_id)
            .values(**values, updated_at=sa.func.now())
        )

    def add_scans(self, shipment_id: str, scans: Sequence[Scan]) -> None:
        if not scans:
            return
        self.conn.execute(
            pg_insert(shipment_scans).on_conflict_do_nothing(),
            [
                {
                    "shipment_id": shipment_id,
                    "seq": scan.seq,
                    "status": scan.status.value,
                    "location": scan.location,
                    "at": scan.at,
                }
                for scan in scans
            ],
        )

    def waiting(
        self, warehouse_id: str, *, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [
            shipments.c.warehouse_id == warehouse_id,
            shipments.c.status == ShipmentStatus.CREATED.value,
        ]
        if after is not None:
            where.append(
                sa.tuple_(shipments.c.created_at, shipments.c.id)
                > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        return list(
            self.conn.execute(
                sa.select(shipments)
                .where(*where)
                .order_by(shipments.c.created_at, shipments.c.id)
                .limit(limit)
            )
            .mappings()
            .all()
        )

    def with_carrier(self, *, limit: int, after_id: str | None) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = [
            shipments.c.status.in_([s.value for s in WITH_CARRIER])
        ]
        if after_id is not None:
            where.append(shipments.c.id > after_id)
        return list(
            self.conn.execute(
                sa.select(shipments).where(*where).order_by(shipments.c.id).limit(limit)
            )
            .mappings()
            .all()
        )
