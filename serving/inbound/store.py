"""SQL of inbound: suppliers and their users, purchase orders, receipts and ship notices."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert

from serving.inbound.domain import OPEN, PoLine, PoStatus, PurchaseOrder
from serving.inbound.tables import (
    purchase_order_lines,
    purchase_order_receipts,
    purchase_orders,
    ship_notices,
    supplier_users,
    suppliers,
)
from serving.unit_of_work import SqlUnitOfWork

Row = Mapping[str, Any]


class InboundStore(Protocol):
    """Suppliers and purchase orders (SQL here, dicts in the unit tests)."""

    def insert_supplier(self, fields: Mapping[str, Any]) -> Row | None:
        """The new supplier, or None when its code is taken."""
        ...

    def get_supplier(self, supplier_id: str) -> Row | None: ...

    def supplier_by_code(self, code: str) -> Row | None: ...

    def list_suppliers(self, *, limit: int, after_code: str | None) -> Sequence[Row]: ...

    def update_supplier(self, supplier_id: str, changes: Mapping[str, Any]) -> Row | None: ...

    def supplier_of(self, user_id: str) -> str | None:
        """The supplier a user acts for."""
        ...

    def insert_order(self, po: PurchaseOrder) -> PurchaseOrder:
        """The order as stored (with its number and creation time)."""
        ...

    def get_order(self, po_id: str, *, lock: bool = False) -> PurchaseOrder | None: ...

    def list_orders(
        self,
        *,
        supplier_id: str | None,
        statuses: frozenset[PoStatus] | None,
        limit: int,
        before_number: int | None,
    ) -> list[PurchaseOrder]:
        """Newest first (by number)."""
        ...

    def save_order(self, po: PurchaseOrder) -> None:
        """Status, dates and received units of an existing order."""
        ...

    def units_on_order(self) -> Sequence[Row]:
        """{sku, warehouse_id, units}: units ordered and not yet received on the open orders
        (`domain.OPEN`), per SKU x warehouse, only where some remain."""
        ...

    def receipts_of(self, po_id: str) -> Sequence[Row]: ...

    def get_receipt(self, po_id: str, reference: str) -> Row | None: ...

    def insert_receipt(self, fields: Mapping[str, Any]) -> Row: ...

    def ship_notices_of(self, po_id: str) -> Sequence[Row]: ...

    def get_ship_notice(self, po_id: str, reference: str) -> Row | None: ...

    def insert_ship_notice(self, fields: Mapping[str, Any]) -> Row: ...


def _dict(row: RowMapping | None) -> dict[str, Any] | None:
    return None if row is None else dict(row)


def _dicts(rows: Iterable[RowMapping]) -> list[dict[str, Any]]:
    return [dict(row) for row in rows]


def _one(row: RowMapping) -> dict[str, Any]:
    return dict(row)


def _order(row: RowMapping, lines: Sequence[RowMapping]) -> PurchaseOrder:
    return PurchaseOrder(
        id=str(row["id"]),
        number=int(row["number"]),
        supplier_id=str(row["supplier_id"]),
        warehouse_id=row["warehouse_id"],
        currency=row["currency"],
        status=PoStatus(row["status"]),
        lines=tuple(
            PoLine(
                sku=line["sku"],
                quantity_ordered=int(line["quantity_ordered"]),
                unit_cost_cents=int(line["unit_cost_cents"]),
                quantity_received=int(line["quantity_received"]),
            )
            for line in sorted(lines, key=lambda line: line["sku"])
        ),
        expected_arrival=row["expected_arrival"],
        notes=row["notes"],
        created_by=None if row["created_by"] is None else str(row["created_by"]),
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        acknowledged_at=row["acknowledged_at"],
        closed_at=row["closed_at"],
    )


class SqlInboundStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlInboundStore:
        return cls(uow.connection)

    # ---------------------------------------------------------------- suppliers

    def insert_supplier(self, fields: Mapping[str, Any]) -> Row | None:
        statement = (
            insert(suppliers)
            .values(id=str(uuid.uuid4()), **fields)
            .on_conflict_do_nothing(index_elements=[suppliers.c.code])
            .returning(*suppliers.c)
        )
        return _dict(self.conn.execute(statement).mappings().first())

    def get_supplier(self, supplier_id: str) -> Row | None:
        return _dict(
            self.conn.execute(sa.select(suppliers).where(suppliers.c.id == supplier_id))
            .mappings()
            .first()
        )

    def supplier_by_code(self, code: str) -> Row | None:
        return _dict(
            self.conn.execute(sa.select(suppliers).where(suppliers.c.code == code))
            .mappings()
            .first()
        )

    def list_suppliers(self, *, limit: int, after_code: str | None) -> Sequence[Row]:
        query = sa.select(suppliers).order_by(suppliers.c.code).limit(limit)
        if after_code is not None:
            query = query.where(suppliers.c.code > after_code)
        return [dict(row) for row in self.conn.execute(query).mappings()]

    def update_supplier(self, supplier_id: str, changes: Mapping[str, Any]) -> Row | None:
        return _dict(
            self.conn.execute(
                suppliers.update()
                .where(suppliers.c.id == supplier_id)
                .values(**changes, updated_at=sa.func.now())
                .returning(*suppliers.c)
            )
            .mappings()
            .first()
        )

    def add_member(self, supplier_id: str, user_id: str) -> None:
        self.conn.execute(supplier_users.insert().values(supplier_id=supplier_id, user_id=user_id))

    def members(self, supplier_id: str) -> list[str]:
        rows = self.conn.execute(
            sa.select(supplier_users.c.user_id)
            .where(supplier_users.c.supplier_id == supplier_id)
            .order_by(supplier_users.c.created_at, supplier_users.c.user_id)
        ).scalars()
        return [str(user_id) for user_id in rows]

    def supplier_of(self, user_id: str) -> str | None:
        found = self.conn.execute(
            sa.select(supplier_users.c.supplier_id).where(supplier_users.c.user_id == user_id)
        ).scalar()
        return None if found is None else str(found)

    # ---------------------------------------------------------------- purchase orders

    def _lines_of(self, po_ids: Sequence[str]) -> dict[str, list[RowMapping]]:
        found: dict[str, list[RowMapping]] = {po_id: [] for po_id in po_ids}
        if not po_ids:
            return found
        for line in self.conn.execute(
            sa.select(purchase_order_lines).where(
                purchase_order_lines.c.purchase_order_id.in_(list(po_ids))
            )
        ).mappings():
            found[str(line["purchase_order_id"])].append(line)
        return found

    def insert_order(self, po: PurchaseOrder) -> PurchaseOrder:
        row = (
            self.conn.execute(
                purchase_orders.insert()
                .values(
                    id=po.id,
                    supplier_id=po.supplier_id,
                    warehouse_id=po.warehouse_id,
                    currency=po.currency,
                    status=po.status.value,
                    expected_arrival=po.expected_arrival,
                    notes=po.notes,
                    created_by=po.created_by,
                )
                .returning(*purchase_orders.c)
            )
            .mappings()
            .one()
        )
        self.conn.execute(
            purchase_order_lines.insert(),
            [
                {
                    "purchase_order_id": po.id,
                    "sku": line.sku,
                    "quantity_ordered": line.quantity_ordered,
                    "unit_cost_cents": line.unit_cost_cents,
                }
                for line in po.lines
            ],
        )
        return _order(row, self._lines_of([po.id])[po.id])

    def get_order(self, po_id: str, *, lock: bool = False) -> PurchaseOrder | None:
        query = sa.select(purchase_orders).where(purchase_orders.c.id == po_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).mappings().first()
        if row is None:
            return None
        return _order(row, self._lines_of([po_id])[po_id])

    def list_orders(
        self,
        *,
        supplier_id: str | None,
        statuses: frozenset[PoStatus] | None,
        limit: int,
        before_number: int | None,
    ) -> list[PurchaseOrder]:
        query = sa.select(purchase_orders).order_by(purchase_orders.c.number.desc()).limit(limit)
        if supplier_id is not None:
            query = query.where(purchase_orders.c.supplier_id == supplier_id)
        if statuses is not None:
            query = query.where(purchase_orders.c.status.in_(sorted(s.value for s in statuses)))
        if before_number is not None:
            query = query.where(purchase_orders.c.number < before_number)
        rows = list(self.conn.execute(query).mappings())
        lines = self._lines_of([str(row["id"]) for row in rows])
        return [_order(row, lines[str(row["id"])]) for row in rows]

    def save_order(self, po: PurchaseOrder) -> None:
        self.conn.execute(
            purchase_orders.update()
            .where(purchase_orders.c.id == po.id)
            .values(
                status=po.status.value,
                expected_arrival=po.expected_arrival,
                submitted_at=po.submitted_at,
                acknowledged_at=po.acknowledged_at,
                closed_at=po.closed_at,
                updated_at=sa.func.now(),
            )
        )
        for line in po.lines:
            self.conn.execute(
                purchase_order_lines.update()
                .where(
                    purchase_order_lines.c.purchase_order_id == po.id,
                    purchase_order_lines.c.sku == line.sku,
                )
                .values(quantity_received=line.quantity_received)
            )

    def units_on_order(self) -> Sequence[Row]:
        lines, orders = purchase_order_lines.c, purchase_orders.c
        remaining = sa.func.sum(lines.quantity_ordered - lines.quantity_received)
        query = (
            sa.select(lines.sku, orders.warehouse_id, remaining.label("units"))
            .select_from(
                purchase_order_lines.join(
                    purchase_orders, purchase_orders.c.id == lines.purchase_order_id
                )
            )
            .where(orders.status.in_(sorted(s.value for s in OPEN)))
            .group_by(lines.sku, orders.warehouse_id)
            .having(remaining > 0)
            .order_by(lines.sku, orders.warehouse_id)
        )
        return [
            {"sku": row["sku"], "warehouse_id": row["warehouse_id"], "units": int(row["units"])}
            for row in self.conn.execute(query).mappings()
        ]

    # ---------------------------------------------------------------- receipts, ship notices

    def receipts_of(self, po_id: str) -> Sequence[Row]:
        return _dicts(
            self.conn.execute(
                sa.select(purchase_order_receipts)
                .where(purchase_order_receipts.c.purchase_order_id == po_id)
                .order_by(purchase_order_receipts.c.received_at, purchase_order_receipts.c.id)
            ).mappings()
        )

    def get_receipt(self, po_id: str, reference: str) -> Row | None:
        return _dict(
            self.conn.execute(
                sa.select(purchase_order_receipts).where(
                    purchase_order_receipts.c.purchase_order_id == po_id,
                    purchase_order_receipts.c.reference == reference,
                )
            )
            .mappings()
            .first()
        )

    def insert_receipt(self, fields: Mapping[str, Any]) -> Row:
        return _one(
            self.conn.execute(
                purchase_order_receipts.insert()
                .values(id=str(uuid.uuid4()), **fields)
                .returning(*purchase_order_receipts.c)
            )
            .mappings()
            .one()
        )

    def ship_notices_of(self, po_id: str) -> Sequence[Row]:
        return _dicts(
            self.conn.execute(
                sa.select(ship_notices)
                .where(ship_notices.c.purchase_order_id == po_id)
                .order_by(ship_notices.c.created_at, ship_notices.c.id)
            ).mappings()
        )

    def get_ship_notice(self, po_id: str, reference: str) -> Row | None:
        return _dict(
            self.conn.execute(
                sa.select(ship_notices).where(
                    ship_notices.c.purchase_order_id == po_id,
                    ship_notices.c.reference == reference,
                )
            )
            .mappings()
            .first()
        )

    def insert_ship_notice(self, fields: Mapping[str, Any]) -> Row:
        return _one(
            self.conn.execute(
                ship_notices.insert()
                .values(id=str(uuid.uuid4()), **fields)
                .returning(*ship_notices.c)
            )
            .mappings()
            .one()
        )
