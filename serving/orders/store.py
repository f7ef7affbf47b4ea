"""SQL of orders, their lines and status history. Parameterised statements only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
import redis
import sqlalchemy as sa
from sqlalchemy import Connection

from serving.orders.domain import HistoryEntry, OrderStatus
from serving.orders.tables import order_lines, order_status_history, orders
from serving.unit_of_work import SqlUnitOfWork

Row = Mapping[Any, Any]  # a row by column name


class OrderStore(Protocol):
    """Rows are mappings of the tables' columns (SQL rows here, dicts in the unit tests)."""

    def insert_order(self, fields: Row) -> None: ...

    def insert_lines(self, order_id: str, lines: Sequence[Row]) -> None: ...

    def add_history(self, order_id: str, entry: HistoryEntry) -> None: ...

    def get(self, order_id: str, *, lock: bool = False) -> Row | None:
        """The order row; with `lock`, locked until the transaction ends."""
        ...

    def set_status(self, order_id: str, status: OrderStatus) -> None: ...

    def set_allocations(self, order_id: str, allocations: list[dict[str, Any]]) -> None: ...

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]: ...

    def history_of(self, order_id: str) -> list[Row]: ...

    def list_orders(
        self,
        *,
        user_id: str | None,
        status: OrderStatus | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Row]: ...

    def stale_pending(self, before: datetime, limit: int) -> list[str]: ...


class SqlOrderStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> SqlOrderStore:
        return cls(uow.connection)

    def insert_order(self, fields: Row) -> None:
        self.conn.execute(orders.insert().values(**fields))

    def insert_lines(self, order_id: str, lines: Sequence[Row]) -> None:
        self.conn.execute(order_lines.insert(), [{"order_id": order_id, **line} for line in lines])

    def add_history(self, order_id: str, entry: HistoryEntry) -> None:
        self.conn.execute(
            order_status_history.insert().values(
                order_id=order_id,
                from_status=entry.from_status.value if entry.from_status else None,
                to_status=entry.to_status.value,
                reason=entry.reason,
                actor_id=entry.actor_id,
            )
        )

    def get(self, order_id: str, *, lock: bool = False) -> Row | None:
        query = sa.select(orders).where(orders.c.id == order_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).mappings().first()

    def set_status(self, order_id: str, status: OrderStatus) -> None:
        self.conn.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(status=status.value, updated_at=sa.func.now())
        )

    def set_allocations(self, order_id: str, allocations: list[dict[str, Any]]) -> None:
        self.conn.execute(
            orders.update().where(orders.c.id == order_id).values(allocations=allocations)
        )

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]:
        rows = (
            self.conn.execute(
                sa.select(order_lines)
                .where(order_lines.c.order_id.in_(list(order_ids)))
                .order_by(order_lines.c.order_id, order_lines.c.sku)
            )
            .mappings()
            .all()
        )
        grouped: dict[str, list[Row]] = {order_id: [] for order_id in order_ids}
        for row in rows:
            grouped[row["order_id"]].append(row)
        return grouped

    def history_of(self, order_id: str) -> list[Row]:
        return list(
            self.conn.execute(
                sa.select(order_status_history)
                .where(order_status_history.c.order_id == order_id)
                .order_by(order_status_history.c.id)
            )
            .mappings()
            .all()
        )

    def list_orders(
        self,
        *,
        user_id: str | None,
        status: OrderStatus | None,
        limit: int,
        after: tuple[datetime, str] | None,
    ) -> list[Row]:
        """Up to `limit` orders, newest first (created_at, then id), strictly after `after`."""
        where = []
        if user_id is not None:
            where.append(orders.c.user_id == user_id)
        if status is not None:
            where.append(orders.c.status == status.value)
        if after is not None:
            # A row-value comparison walks the (user_id, created_at) index downwards.
            where.append(
                sa.tuple_(orders.c.created_at, orders.c.id)
                < sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            )
        page = self.conn.execute(
            sa.select(orders)
            .where(*where)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
        )
        return [dict(row) for row in page.mappings()]

    def stale_pending(self, before: datetime, limit: int) -> list[str]:
        """Orders still PENDING_PAYMENT that were placed before `before`, oldest first."""
        return list(
            self.conn.execute(
                sa.select(orders.c.id)
                .where(
                    orders.c.status == OrderStatus.PENDING_PAYMENT.value,
                    orders.c.created_at < before,
                )
                .order_by(orders.c.created_at)
                .limit(limit)
            ).scalars()
        )


# What a shopper owns: orders that got paid and were not cancelled (the recommendations' seam).
OWNED_STATUSES = frozenset(
    (OrderStatus.CONFIRMED, OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
)
_OWNED = tuple(sorted(status.value for status in OWNED_STATUSES))
# How long a cached answer may live: a bound on staleness if a forget is lost (a reader that
# queried just before a commit may put back the older set after the commit's forget).
OWNED_TTL_S = 300


class OwnedSkusCache(Protocol):
    def get(self, user_id: str) -> set[str] | None: ...

    def put(self, user_id: str, skus: set[str]) -> None: ...

    def forget(self, user_id: str) -> None: ...


class RedisOwnedSkus:
    """`skus_bought_by` per shopper in Redis, so that the recommendation route, which filters
    on it at every request, does not go to Postgres each time; forgotten when an order of the
    shopper starts or stops being owned."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def on(cls, uow: SqlUnitOfWork) -> RedisOwnedSkus:
        return cls(uow.redis)

    @staticmethod
    def key(user_id: str) -> str:
        return f"orders:owned:{user_id}"

    def get(self, user_id: str) -> set[str] | None:
        raw = self.client.get(self.key(user_id))
        return None if raw is None else set(orjson.loads(raw))  # type: ignore[arg-type]

    def put(self, user_id: str, skus: set[str]) -> None:
        self.client.set(self.key(user_id), orjson.dumps(sorted(skus)), ex=OWNED_TTL_S)

    def forget(self, user_id: str) -> None:
        self.client.delete(self.key(user_id))


def skus_bought_by(conn: Connection, user_id: str) -> set[str]:
    rows = conn.execute(
        sa.select(order_lines.c.sku)
        .join(orders, orders.c.id == order_lines.c.order_id)
        .where(orders.c.user_id == user_id, orders.c.status.in_(_OWNED))
        .distinct()
    )
    return {str(sku) for (sku,) in rows}
