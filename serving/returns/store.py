"""SQL of returns and their lines. Parameterised statements only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from serving.returns.tables import return_lines, returns
from serving.unit_of_work import SqlUnitOfWork

Row = Mapping[Any, Any]  # a row by column name
STAMPS = frozenset({"received_at", "refunded_at"})


class ReturnStore(Protocol):
    def insert(self, fields: Row, lines: Sequence[Row]) -> None: ...

    def get(self, return_id: str, *, lock: bool = False) -> Row | None: ...

    def of_order(self, order_id: str) -> list[Row]:
        """The order's returns, oldest first."""
        ...

    def lines_of(self, return_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def update(self, return_id: str, changes: Mapping[str, Any]) -> None:
        """Set the columns; `received_at`/`refunded_at` given as True are set to now."""
        ...

    def set_disposition(
        self, return_id: str, sku: str, disposition: str, warehouse_id: str
    ) -> None: ...

    def listing(
        self, *, status: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        """Returns oldest first (created_at, id), strictly after `after`."""
        ...


class SqlReturnStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlReturnStore:
        return cls(uow.connection)

    def insert(self, fields: Row, lines: Sequence[Row]) -> None:
        self.conn.execute(returns.insert().values(**fields))
        self.conn.execute(
            return_lines.insert(), [{"return_id": fields["id"], **line} for line in lines]
        )

    def get(self, return_id: str, *, lock: bool = False) -> Row | None:
        query = sa.select(returns).where(returns.c.id == return_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def of_order(self, order_id: str) -> list[Row]:
        return list(
            self.conn.execute(
                sa.select(returns)
                .where(returns.c.order_id == order_id)
                .order_by(returns.c.created_at, returns.c.id)
            )
            .mappings()
            .all()
        )

    def lines_of(self, return_ids: Sequence[str]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {return_id: [] for return_id in return_ids}
        if not return_ids:
            return grouped
        rows = self.conn.execute(
            sa.select(return_lines)
            .where(return_lines.c.return_id.in_(list(return_ids)))
            .order_by(return_lines.c.return_id, return_lines.c.sku)
        ).mappings()
        for row in rows:
            grouped[row["return_id"]].append(row)
        return grouped

    def update(self, return_id: str, changes: Mapping[str, Any]) -> None:
        values = {
            name: sa.func.now() if name in STAMPS and value is True else value
            for name, value in changes.items()
        }
        self.conn.execute(
            returns.update()
            .where(returns.c.id == return_id)
            .values(**values, updated_at=sa.func.now())
        )

    def set_disposition(
        self, return_id: str, sku: str, disposition: str, warehouse_id: str
    ) -> None:
        self.conn.execute(
            return_lines.update()
            .where(return_lines.c.return_id == return_id, return_lines.c.sku == sku)
            .values(disposition=disposition, warehouse_id=warehouse_id)
        )

    def listing(
        self, *, status: str | None, limit: int, after: tuple[datetime, str] | None
    ) -> list[Row]:
        where: list[sa.ColumnElement[bool]] = []
        if status is not None:
            where.append(returns.c.status == status)
        if after is not None:
            where.append(
                sa.tuple_(returns.c.created_at, returns.c.id)
                > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        return list(
            self.conn.execute(
                sa.select(returns)
                .where(*where)
                .order_by(returns.c.created_at, returns.c.id)
                .limit(limit)
            )
            .mappings()
            .all()
        )
