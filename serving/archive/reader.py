"""The order archive read back: the Delta `archive.*` tables through delta-rs, with a cache.

One `DeltaArchive` per process holds each table open and refreshes it (an incremental read of
the Delta log) at most every `archive_read_refresh_s`; an assembled order is cached by the
table versions it was read at, so a hit costs a dictionary lookup and a new batch of the
archive job is seen within the refresh interval. `order_id` and `user_id` are not partition
columns: a lookup prunes files by their min/max statistics, which helps ids that grow with
time and not random UUIDs — fine for a history read now and then, and the place to add a
Z-order (or a user partition) if the archive grows large.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable

from shoplake.archive.contract import (
    ARCHIVED_TABLES,
    BY_NAME,
    JSON_COLUMNS,
    ORDER_ID,
    ORDERS,
    ArchivedTable,
)
from shoplake.lake import ARCHIVE_TABLES

Row = dict[str, Any]
CACHED_ORDERS = 2_048


@dataclass(frozen=True)
class ArchivedOrder:
    """An archived order's row and the rows of every table that hangs off it, by table name."""

    order: Row
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def of(self, table: str) -> list[Row]:
        return self.rows.get(table, [])


class OrderArchive(Protocol):
    """What serving asks of the archive (the Delta tables here, a dict in the unit tests)."""

    def order(self, order_id: str) -> ArchivedOrder | None: ...

    def orders_of(
        self, user_id: str, *, limit: int, before: tuple[datetime, str] | None
    ) -> list[Row]:
        """The user's archived order rows, newest first (created_at, id), strictly before."""
        ...

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]: ...


@dataclass
class _Opened:
    table: DeltaTable | None = None
    dataset: ds.Dataset | None = None
    version: int = -1
    checked_at: float = float("-inf")


def _rows(table: pa.Table, name: str) -> list[Row]:
    rows: list[Row] = table.to_pylist()
    for column in (c for t, c in JSON_COLUMNS if t == name):
        for row in rows:
            if row.get(column) is not None:
                row[column] = json.loads(row[column])
    return rows


class DeltaArchive:
    def __init__(self, lake_root: str, refresh_s: float) -> None:
        self.lake_root = lake_root
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._opened = {t.name: _Opened() for t in ARCHIVED_TABLES}
        self._orders: OrderedDict[tuple[str, tuple[int, ...]], ArchivedOrder | None] = OrderedDict()

    # ------------------------------------------------------------ the tables, kept fresh

    def _dataset(self, name: str) -> tuple[ds.Dataset | None, int]:
        with self._lock:
            opened = self._opened[name]
            now = time.monotonic()
            if now - opened.checked_at >= self.refresh_s:
                opened.checked_at = now
                path = ARCHIVE_TABLES[name].path(self.lake_root)
                if opened.table is None:
                    if DeltaTable.is_deltatable(path):
                        opened.table = DeltaTable(path)
                else:
                    opened.table.update_incremental()
                if opened.table is not None and opened.table.version() != opened.version:
                    opened.version = opened.table.version()
                    opened.dataset = opened.table.to_pyarrow_dataset()
            return opened.dataset, opened.version

    def _select(self, table: ArchivedTable, where: pc.Expression) -> list[Row]:
        dataset, _ = self._dataset(table.name)
        if dataset is None:
            return []
        return _rows(dataset.to_table(filter=where), table.name)

    def versions(self) -> tuple[int, ...]:
        return tuple(self._dataset(t.name)[1] for t in ARCHIVED_TABLES)

    # ------------------------------------------------------------ what serving asks

    def order(self, order_id: str) -> ArchivedOrder | None:
        key = (order_id, self.versions())
        with self._lock:
            if key in self._orders:
                self._orders.move_to_end(key)
                return self._orders[key]
        found = self._read_order(order_id)
        with self._lock:
            self._orders[key] = found
            while len(self._orders) > CACHED_ORDERS:
                self._orders.popitem(last=False)
        return found

    def _read_order(self, order_id: str) -> ArchivedOrder | None:
        rows = self._select(ORDERS, pc.field(ORDERS.order_column) == order_id)
        if not rows:
            return None
        found = ArchivedOrder(rows[0])
        for table in ARCHIVED_TABLES:
            if table is ORDERS:
                continue
            column = table.order_column if table.via is None else ORDER_ID
            found.rows[table.name] = self._select(table, pc.field(column) == order_id)
        return found

    def orders_of(
        self, user_id: str, *, limit: int, before: tuple[datetime, str] | None
    ) -> list[Row]:
        where = pc.field("user_id") == user_id
        if before is not None:
            at, order_id = before
            when = pa.scalar(at, type=pa.timestamp("us", tz="UTC"))
            where = where & (
                (pc.field("created_at") < when)
                | ((pc.field("created_at") == when) & (pc.field("id") < order_id))
            )
        rows = self._select(ORDERS, where)
        rows.sort(key=lambda row: (row["created_at"], row["id"]), reverse=True)
        return rows[:limit]

    def lines_of(self, order_ids: Sequence[str]) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {order_id: [] for order_id in order_ids}
        if not order_ids:
            return grouped
        for row in self._select(BY_NAME["order_lines"], pc.field(ORDER_ID).isin(list(order_ids))):
            grouped[row[ORDER_ID]].append(row)
        for rows in grouped.values():
            rows.sort(key=lambda row: row["sku"])
        return grouped
