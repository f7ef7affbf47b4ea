"""Apply an import file: each row through the service the API's route uses, in one
transaction and one streaming pass.

- products: a row is a ProductCreate (the body of POST /v1/admin/products); a SKU that exists
  is replaced as PUT /v1/admin/products/{sku} would (no change, no event);
- stock: a row is a count (PUT /v1/admin/inventory/{sku}/{warehouse}: StockSet), recorded as
  an adjustment by the difference, of a product the catalog knows.
Rows run in savepoints (a chunk at a time; a chunk with a refused row is undone and replayed
row by row), so a refused row leaves nothing behind and the next one goes on; the report lists
the refused rows (line, column, reason). All or nothing by default: one
refused row and the transaction is rolled back at the end; with `partial` the good rows commit.
Memory stays flat whatever the file's size: rows are read, applied and dropped one at a time,
and the report keeps the first `import_max_reported_errors` errors and counts the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from typing import IO, Any

import redis
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from serving.catalog import service as catalog
from serving.catalog.schemas import ProductCreate, ProductReplace
from serving.catalog.service import CatalogError
from serving.errors import ApiError
from serving.imports.rows import HeaderError, Row, read_rows
from serving.imports.schemas import ImportFormat, ImportKind, ImportReport, RowError, StockRow
from serving.inventory import service as inventory
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings


class ImportsError(StrEnum):
    IMPORT_REFUSED = "IMPORT_REFUSED"
    UNKNOWN_FORMAT = "UNKNOWN_FORMAT"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"


MODELS: dict[ImportKind, type[BaseModel]] = {
    ImportKind.PRODUCTS: ProductCreate,
    ImportKind.STOCK: StockRow,
}

# (rows read so far) → None; called every PROGRESS_EVERY rows and at the end.
Progress = Callable[[int], None]
PROGRESS_EVERY = 500
# Rows applied under one savepoint (a refused one undoes and replays its chunk row by row):
# a savepoint per row would cost two more round trips a row.
CHUNK = 100


class _Tally:
    def __init__(self, max_errors: int) -> None:
        self.max_errors = max_errors
        self.rows = 0
        self.accepted = 0
        self.refused = 0
        self.errors: list[RowError] = []
        self.not_listed = 0

    def refuse(self, errors: tuple[RowError, ...]) -> None:
        self.refused += 1
        room = self.max_errors - len(self.errors)
        self.errors.extend(errors[: max(room, 0)])
        self.not_listed += max(len(errors) - max(room, 0), 0)


def _api_error(line: int, exc: ApiError) -> tuple[RowError, ...]:
    return (RowError(line=line, column=None, reason=f"{exc.code}: {exc.message}"),)


def _unstorable(line: int, exc: sa.exc.DBAPIError) -> tuple[RowError, ...]:
    """A value the database cannot store (a NUL byte...): the driver's first line only, never
    the SQL or its parameters."""
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    return (RowError(line=line, column=None, reason=f"cannot be stored: {reason}"),)


def _apply_product(conn: Connection, client: redis.Redis, product: ProductCreate) -> None:
    try:
        catalog.create_product(conn, client, product)
    except ApiError as exc:
        if exc.code != CatalogError.PRODUCT_EXISTS:
            raise
        replacement = ProductReplace.model_validate(product.model_dump(exclude={"sku"}))
        catalog.replace_product(conn, client, product.sku, replacement)


@contextmanager
def _stock_unit(engine: Engine, client: redis.Redis, settings: Settings) -> Iterator[SqlUnitOfWork]:
    # Without the admission gate: one rebuild after the commit instead of a Redis step per row
    # held in memory until then.
    uow = SqlUnitOfWork(
        engine, redis_client=client, settings=settings, stores={inventory.GATE: None}
    )
    with uow:
        yield uow


def run_import(
    engine: Engine,
    client: redis.Redis,
    settings: Settings,
    kind: ImportKind,
    fmt: ImportFormat,
    stream: IO[str],
    *,
    partial: bool = False,
    actor_id: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, check and apply every row of `stream`; the report says what happened."""
    began = time.perf_counter()
    tally = _Tally(settings.import_max_reported_errors)
    rows = read_rows(stream, fmt, MODELS[kind])

    def each_row(
        apply: Callable[[Row], None], savepoint: Callable[[], AbstractContextManager[Any]]
    ) -> None:
        def one(row: Row) -> tuple[RowError, ...]:
            """Apply one row in a savepoint of its own; what refused it (nothing: applied)."""
            try:
                with savepoint():
                    apply(row)
            except ApiError as exc:
                return _api_error(row.line, exc)
            except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
                return _unstorable(row.line, exc)
            return ()

        def flush(chunk: list[Row]) -> None:
            """The chunk in one savepoint; if a row of it is refused, the chunk is undone and
            replayed row by row, so exactly the good rows stand and each bad one is named."""
            if not chunk:
                return
            try:
                with savepoint():
                    for row in chunk:
                        apply(row)
                tally.accepted += len(chunk)
            except (ApiError, sa.exc.DataError, sa.exc.IntegrityError):
                for row in chunk:
                    refused = one(row)
                    if refused:
                        tally.refuse(refused)
                    else:
                        tally.accepted += 1
            chunk.clear()

        chunk: list[Row] = []
        try:
            for row in rows:
                tally.rows += 1
                if row.value is None:
                    tally.refuse(row.errors)
                else:
                    chunk.append(row)
                    if len(chunk) >= CHUNK:
                        flush(chunk)
                if progress is not None and tally.rows % PROGRESS_EVERY == 0:
                    progress(tally.rows)
        except HeaderError as exc:
            tally.refuse((exc.error,))
        flush(chunk)
        tally.errors.sort(key=lambda error: error.line)

    if kind is ImportKind.PRODUCTS:
        with engine.connect() as conn:
            transaction = conn.begin()

            def apply_product(row: Row) -> None:
                assert isinstance(row.value, ProductCreate)
                _apply_product(conn, client, row.value)

            each_row(apply_product, conn.begin_nested)
            applied = _finish(tally, partial, transaction.commit, transaction.rollback)
    else:
        with _stock_unit(engine, client, settings) as uow:

            def apply_stock(row: Row) -> None:
                assert isinstance(row.value, StockRow)
                count = row.value
                inventory.require_product(uow, count.sku)
                inventory.set_on_hand(
                    uow,
                    count.sku,
                    count.warehouse_id,
                    count.on_hand,
                    note=count.note or "import",
                    actor_id=actor_id,
                )

            each_row(apply_stock, uow.savepoint)
            applied = _finish(tally, partial, uow.commit, uow.rollback)
        if applied:
            gate = inventory.gate_for(client, settings)
            if gate is not None:
                inventory.rebuild_gate(engine, gate)
    if progress is not None:
        progress(tally.rows)
    return ImportReport(
        kind=kind,
        format=fmt,
        partial=partial,
        applied=applied,
        rows=tally.rows,
        accepted=tally.accepted,
        refused=tally.refused,
        errors=tally.errors,
        errors_not_listed=tally.not_listed,
        seconds=round(time.perf_counter() - began, 3),
    )


def _finish(
    tally: _Tally, partial: bool, commit: Callable[[], None], rollback: Callable[[], None]
) -> bool:
    """Commit what was applied, or roll everything back; whether anything was written."""
    if tally.accepted and (partial or tally.refused == 0):
        commit()
        return True
    rollback()
    return False


def format_of(filename: str | None, given: ImportFormat | None) -> ImportFormat | None:
    """The format asked for, else the one the file name says (.csv, .jsonl, .ndjson)."""
    if given is not None:
        return given
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return ImportFormat.CSV
    if name.endswith((".jsonl", ".ndjson")):
        return ImportFormat.JSONL
    return None
