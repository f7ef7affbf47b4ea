"""The order archive job: final orders move from Postgres into the Delta `archive.*` tables.

`archive_orders(settings, older_than_days=...)` is the plain function that `shoplake orders
archive --older-than DAYS` and the Airflow DAG call. It reads and deletes serving's tables
through the kernel's contract (`shoplake.archive.contract`), never through serving, and writes
with delta-rs (no Spark: the work is a few thousand rows per batch). Batch by batch:

1. **Plan** (one Postgres transaction): resume the batch left `copying` by a run that died,
   or pick up to `archive_batch_size` orders in a final state last changed before the cut-off
   (DELIVERED ones only once their return window closed and no return of theirs is open),
   oldest first, and log them in `archive_batches` under the next version — higher than any
   the log or the Delta tables have seen, so a version is never reused.
2. **Copy**: for each archive table whose Delta log has not recorded this version for the
   job's application id (`txn`), append the batch's rows (the order's month is the partition,
   the batch is a column), recording the version in the same commit; delta-rs does not skip a
   repeated append by itself, so the job checks and writes with the very table it checked.
3. **Verify and delete** (one Postgres transaction): lock the batch's orders, fingerprint them
   and everything that hangs off them (rows per table and per month, the sums of their amount
   columns, a digest of each order's status and last change) and compare with the fingerprint
   of the rows Delta holds for the batch. Equal: delete the orders (the foreign keys cascade
   to every archived table), mark the batch `done`, record OrdersArchived in the outbox.
   Different (an order changed after it was copied): delete the batch's rows from Delta and
   mark it `discarded`; the orders stay and a later run picks them up again.

Killed anywhere, a rerun finishes the open batch: what reached Delta is not written again,
what did not is, and Postgres only deletes what the verified copy holds — so no order is ever
lost or duplicated. One run at a time (a Postgres advisory lock); a second one returns at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql import ARRAY

from shoplake import outbox
from shoplake.archive.batches import archive_batches
from shoplake.archive.contract import (
    APP_ID,
    ARCHIVE_BATCH,
    ARCHIVED_TABLES,
    BY_NAME,
    FINAL_STATUSES,
    JSON_COLUMNS,
    ORDER_ID,
    ORDER_MONTH,
    ORDERS,
    ArchivedTable,
    arrow_schema,
)
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.events.archive import OrdersArchived
from shoplake.lake import ARCHIVE_TABLES

log = logging.getLogger(__name__)

SOURCE = "/spark_jobs/order_archive"
# pg_try_advisory_lock key of the job: one run at a time per database.
LOCK_KEY = 0x0A5C_417E
Row = dict[str, Any]
Fingerprint = dict[str, dict[str, list[Any]]]


@dataclass(frozen=True)
class Batch:
    version: int
    cutoff: datetime
    order_ids: tuple[str, ...]
    resumed: bool = False


@dataclass(frozen=True)
class BatchResult:
    version: int
    state: str  # done | discarded
    orders: int
    rows: dict[str, int]
    resumed: bool
    written_tables: int
    seconds: float

    @property
    def row_count(self) -> int:
        return sum(self.rows.values())


@dataclass
class ArchiveRun:
    cutoff: datetime
    batches: list[BatchResult] = field(default_factory=list)
    busy: bool = False  # another run holds the lock: nothing was done
    seconds: float = 0.0

    @property
    def orders(self) -> int:
        return sum(b.orders for b in self.batches if b.state == "done")

    @property
    def rows(self) -> int:
        return sum(b.row_count for b in self.batches if b.state == "done")


def _among(column: sa.ColumnElement[Any], ids: Sequence[str]) -> sa.ColumnElement[bool]:
    """`column = ANY(:ids)`: one array parameter, however many ids (an IN list of thousands
    of parameters costs more to compile than the query takes to run)."""
    return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(sa.Text)))


def month_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


# ---------------------------------------------------------------- 1. plan


def _delta_version(lake_root: str) -> int:
    """The highest batch version any archive table's log recorded for the job."""
    highest = 0
    for table in ARCHIVED_TABLES:
        path = ARCHIVE_TABLES[table.name].path(lake_root)
        if DeltaTable.is_deltatable(path):
            highest = max(highest, DeltaTable(path).transaction_version(APP_ID) or 0)
    return highest


def _open_batch(conn: Connection) -> Batch | None:
    row = conn.execute(
        sa.select(archive_batches)
        .where(archive_batches.c.state == "copying")
        .order_by(archive_batches.c.version)
        .limit(1)
    ).first()
    if row is None:
        return None
    return Batch(int(row.version), row.cutoff, tuple(row.order_ids), resumed=True)


def eligible_orders(
    conn: Connection, cutoff: datetime, window_closed_before: datetime, limit: int
) -> list[str]:
    """Final orders last changed before the cut-off, oldest first; a DELIVERED one only when
    its return window closed and none of its returns is still open."""
    orders = ORDERS.source.c
    returns = BY_NAME["returns"].source
    open_return = (
        sa.select(sa.literal(1))
        .select_from(returns)
        .where(returns.c.order_id == orders.id, returns.c.status != "REFUNDED")
        .exists()
    )
    query = (
        sa.select(orders.id)
        .where(
            orders.status.in_(FINAL_STATUSES),
            orders.updated_at < cutoff,
            sa.or_(orders.status != "DELIVERED", orders.updated_at < window_closed_before),
            ~open_return,
        )
        .order_by(orders.created_at, orders.id)
        .limit(limit)
    )
    return [str(order_id) for order_id in conn.execute(query).scalars()]


def plan_batch(
    engine: Engine, settings: Settings, cutoff: datetime, size: int, lake_root: str
) -> Batch | None:
    """The open batch, or a new one (committed before anything is copied); None when there
    is nothing left to archive."""
    with engine.begin() as conn:
        found = _open_batch(conn)
        if found is not None:
            return found
        window = datetime.now(UTC) - timedelta(days=settings.returns_window_days)
        ids = eligible_orders(conn, cutoff, min(window, cutoff), size)
        if not ids:
            return None
        logged = conn.execute(sa.select(sa.func.max(archive_batches.c.version))).scalar() or 0
        version = max(int(logged), _delta_version(lake_root)) + 1
        conn.execute(
            archive_batches.insert().values(
                version=version, cutoff=cutoff, order_ids=ids, state="copying"
            )
        )
    return Batch(version, cutoff, tuple(ids))


# ---------------------------------------------------------------- reading a batch in Postgres


def fetch_rows(
    conn: Connection, table: ArchivedTable, order_ids: Sequence[str], months: Mapping[str, str]
) -> list[Row]:
    """The batch's rows of one table, with the order id and month every archive row carries."""
    source = table.source
    ids = list(order_ids)
    if table.via is None:
        key = source.c[table.order_column]
        query = sa.select(source).where(_among(key, ids))
        order_of: Callable[[Row], str] = lambda row: str(row[table.order_column])  # noqa: E731
    else:
        parent = BY_NAME[table.via.parent].source
        query = (
            sa.select(source, parent.c.order_id.label(ORDER_ID))
            .select_from(source.join(parent, source.c[table.via.column] == parent.c[table.via.key]))
            .where(_among(parent.c.order_id, ids))
        )
        order_of = lambda row: str(row[ORDER_ID])  # noqa: E731
    rows = []
    for mapping in conn.execute(query.order_by(*(source.c[k] for k in table.keys))).mappings():
        row = dict(mapping)
        row[ORDER_MONTH] = months[order_of(row)]
        rows.append(row)
    return rows


def _months(conn: Connection, order_ids: Sequence[str], *, lock: bool) -> dict[str, str]:
    orders = ORDERS.source
    query = sa.select(orders.c.id, orders.c.created_at).where(_among(orders.c.id, order_ids))
    if lock:
        query = query.with_for_update()
    return {str(row.id): month_of(row.created_at) for row in conn.execute(query)}


def _arrow(table: ArchivedTable, rows: Sequence[Row], version: int) -> pa.Table:
    json_columns = {c for t, c in JSON_COLUMNS if t == table.name}
    prepared = []
    for row in rows:
        out = {name: row.get(name) for name, _ in table.columns}
        for column in json_columns:
            if out[column] is not None:
                out[column] = json.dumps(out[column], sort_keys=True, separators=(",", ":"))
        out[ARCHIVE_BATCH] = version
        prepared.append(out)
    return pa.Table.from_pylist(prepared, schema=arrow_schema(table))


# ---------------------------------------------------------------- 2. copy


def _path(table: ArchivedTable, lake_root: str) -> str:
    return ARCHIVE_TABLES[table.name].path(lake_root)


def copy_batch(engine: Engine, batch: Batch, lake_root: str) -> tuple[int, dict[str, int]]:
    """Append the batch to every archive table that does not hold it yet; (tables written,
    rows per table written now)."""
    written, rows_written = 0, {}
    with engine.connect() as conn:
        months = _months(conn, batch.order_ids, lock=False)
        for table in ARCHIVED_TABLES:
            path = _path(table, lake_root)
            current = DeltaTable(path) if DeltaTable.is_deltatable(path) else None
            done = current.transaction_version(APP_ID) if current is not None else None
            if done is not None and done >= batch.version:
                continue  # this table's copy of the batch committed before a crash
            rows = fetch_rows(conn, table, list(months), months)
            if not rows:
                continue
            write_deltalake(
                current if current is not None else path,  # the table checked, not a reload
                _arrow(table, rows, batch.version),
                mode="append",
                partition_by=[ORDER_MONTH],
                commit_properties=CommitProperties(
                    app_transactions=[Transaction(APP_ID, batch.version)],
                    custom_metadata={"shoplake.archive_batch": str(batch.version)},
                ),
            )
            written += 1
            rows_written[table.name] = len(rows)
    return written, rows_written


# ---------------------------------------------------------------- 3. verify, then delete


def _stamp(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return "" if value is None else str(value)


def fingerprint(table: ArchivedTable, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Per month: the row count, the sum of each amount column, and (orders) a digest of each
    order's id, status and last change."""
    per_month: dict[str, list[Any]] = {}
    digests: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        month = str(row[ORDER_MONTH])
        entry = per_month.setdefault(month, [0] + [0] * len(table.amount_columns))
        entry[0] += 1
        for i, column in enumerate(table.amount_columns, start=1):
            entry[i] += int(row[column] or 0)
        if table is ORDERS:
            digests[month].append(f"{row['id']}|{row['status']}|{_stamp(row['updated_at'])}")
    for month, items in digests.items():
        digest = hashlib.sha256("\n".join(sorted(items)).encode()).hexdigest()
        per_month[month].append(digest)
    return dict(sorted(per_month.items()))


def _delta_rows(table: ArchivedTable, lake_root: str, version: int) -> list[Row]:
    path = _path(table, lake_root)
    if not DeltaTable.is_deltatable(path):
        return []
    dataset = DeltaTable(path).to_pyarrow_dataset()
    rows: list[Row] = dataset.to_table(filter=pc.field(ARCHIVE_BATCH) == version).to_pylist()
    return rows


def _discard(lake_root: str, version: int) -> None:
    for table in ARCHIVED_TABLES:
        path = _path(table, lake_root)
        if DeltaTable.is_deltatable(path):
            DeltaTable(path).delete(f"{ARCHIVE_BATCH} = {version}")


def finish_batch(engine: Engine, batch: Batch, lake_root: str) -> tuple[str, dict[str, int]]:
    """Verify the batch's copy against Postgres and delete it there, or discard the copy."""
    copied: Fingerprint = {
        t.name: fingerprint(t, _delta_rows(t, lake_root, batch.version)) for t in ARCHIVED_TABLES
    }
    with engine.begin() as conn:
        months = _months(conn, batch.order_ids, lock=True)  # nobody changes them from here
        source = {t.name: fetch_rows(conn, t, list(months), months) for t in ARCHIVED_TABLES}
        live: Fingerprint = {t.name: fingerprint(t, source[t.name]) for t in ARCHIVED_TABLES}
        counts = {name: len(rows) for name, rows in source.items()}
        if live == copied and len(months) == len(batch.order_ids):
            orders = ORDERS.source
            deleted = conn.execute(
                orders.delete().where(_among(orders.c.id, list(months)))
            ).rowcount
            assert deleted == len(months), (deleted, len(months))
            conn.execute(
                archive_batches.update()
                .where(archive_batches.c.version == batch.version)
                .values(
                    state="done",
                    verified={"rows": counts, "fingerprint": live},
                    finished_at=sa.func.now(),
                )
            )
            outbox.record(
                conn,
                OrdersArchived(
                    batch_id=str(batch.version),
                    cutoff=batch.cutoff,
                    order_count=len(months),
                    row_count=sum(counts.values()),
                    total_cents=sum(int(r["total_cents"]) for r in source[ORDERS.name]),
                    months=sorted(set(months.values())),
                ),
                SOURCE,
            )
            return "done", counts
    log.warning("archive batch %s does not match its copy: discarded", batch.version)
    _discard(lake_root, batch.version)
    with engine.begin() as conn:
        conn.execute(
            archive_batches.update()
            .where(archive_batches.c.version == batch.version)
            .values(state="discarded", finished_at=sa.func.now())
        )
    return "discarded", counts


# ---------------------------------------------------------------- the job


def _compact(lake_root: str) -> None:
    """Merge the small files the batches appended (a dataChange=false commit; the txn stays)."""
    for table in ARCHIVED_TABLES:
        path = _path(table, lake_root)
        if DeltaTable.is_deltatable(path):
            DeltaTable(path).optimize.compact()


def archive_orders(
    settings: Settings,
    *,
    older_than_days: float,
    batch_size: int | None = None,
    max_batches: int | None = None,
    now: datetime | None = None,
    lake_root: str | None = None,
    compact: bool = True,
    after_copy: Callable[[int], None] | None = None,
) -> ArchiveRun:
    """Archive every final order last changed more than `older_than_days` ago, batch by
    batch (finishing a batch a killed run left open first). `after_copy(version)` runs between
    the copy and the delete (the crash tests put a SIGKILL there)."""
    began = time.perf_counter()
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    root = lake_root or settings.lake_path
    size = batch_size or settings.archive_batch_size
    run = ArchiveRun(cutoff)
    engine = make_engine(settings, pool_size=2)
    try:
        with engine.connect() as lock:
            if not lock.execute(sa.select(sa.func.pg_try_advisory_lock(LOCK_KEY))).scalar():
                run.busy = True
                return run
            lock.commit()
            try:
                while max_batches is None or len(run.batches) < max_batches:
                    batch = plan_batch(engine, settings, cutoff, size, root)
                    if batch is None:
                        break
                    started = time.perf_counter()
                    written, _ = copy_batch(engine, batch, root)
                    if after_copy is not None:
                        after_copy(batch.version)
                    state, counts = finish_batch(engine, batch, root)
                    result = BatchResult(
                        batch.version,
                        state,
                        len(batch.order_ids),
                        counts,
                        batch.resumed,
                        written,
                        time.perf_counter() - started,
                    )
                    log.info("archive batch %s: %s", batch.version, result)
                    run.batches.append(result)
                    if state == "discarded":  # the next run tries those orders again
                        break
                if compact and run.batches:
                    _compact(root)
            finally:
                lock.execute(sa.select(sa.func.pg_advisory_unlock(LOCK_KEY)))
                lock.commit()
    finally:
        engine.dispose()
        run.seconds = time.perf_counter() - began
    return run
