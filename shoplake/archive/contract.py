"""What the order archive moves out of Postgres, declared once for the layers that touch it.

`serving` owns the OLTP tables; the archive job (`spark_jobs.order_archive`) copies final orders
and everything that hangs off them into Delta and deletes them from Postgres, and serving reads
them back for the order history. Neither may import the other, so the tables and columns the job
relies on are declared here (lightweight table clauses, like `shoplake.catalog`'s products), the
lake's `archive.*` tables are derived from them (`shoplake.lake`), and a unit test holds serving's
tables to this list: the same columns with the same types, and every table that a delete of an
order cascades to is archived (tests/unit/serving/archive/test_contract.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

if TYPE_CHECKING:
    import pyarrow as pa

# The statuses no order leaves (DELIVERED only once its return window closed and no return is
# open, which the job checks).
FINAL_STATUSES = ("DELIVERED", "CANCELLED", "REFUNDED", "PAYMENT_FAILED")
# The Delta application id of the job's commits (`txn` actions): one version per batch.
APP_ID = "shoplake.order-archive"
ORDER_MONTH = "order_month"
ARCHIVE_BATCH = "archive_batch"
ORDER_ID = "order_id"

_text, _uuid, _big, _int = sa.Text, UUID(as_uuid=False), sa.BigInteger, sa.Integer
_at = sa.DateTime(timezone=True)


def _clause(name: str, *columns: tuple[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(column, type_) for column, type_ in columns))


@dataclass(frozen=True)
class Via:
    """A table reached through a parent that holds the order id: `column` → `parent.key`."""

    parent: str
    column: str
    key: str = "id"


@dataclass(frozen=True)
class ArchivedTable:
    """One Postgres table moved to `archive.<name>`, with the order id and month on every row."""

    name: str
    source: sa.TableClause
    keys: tuple[str, ...]
    order_column: str = ORDER_ID  # the column holding the order id (the parent's, for `via`)
    via: Via | None = None
    # Summed per month when a batch's copy is verified against Postgres.
    amount_columns: tuple[str, ...] = ()

    @property
    def lake_name(self) -> str:
        return f"archive.{self.name}"

    @property
    def source_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.source.c)

    @property
    def columns(self) -> tuple[tuple[str, Any], ...]:
        """The archive table's columns: the source's, the order id (for tables reached through
        a parent), the order's month (the partition) and the batch that moved the row."""
        extra: list[tuple[str, Any]] = []
        if self.via is not None:
            extra.append((ORDER_ID, _text()))
        extra += [(ORDER_MONTH, _text()), (ARCHIVE_BATCH, _big())]
        return (*((c.name, c.type) for c in self.source.c), *extra)


ORDERS = ArchivedTable(
    "orders",
    _clause(
        "orders",
        ("id", _text()),
        ("user_id", _uuid),
        ("status", _text()),
        ("currency", _text()),
        ("subtotal_cents", _big()),
        ("discount_cents", _big()),
        ("shipping_cents", _big()),
        ("shipping_quote", JSONB()),
        ("total_cents", _big()),
        ("coupon_code", _text()),
        ("shipping_address", JSONB()),
        ("idempotency_key", _text()),
        ("allocations", JSONB()),
        ("created_at", _at),
        ("updated_at", _at),
    ),
    keys=("id",),
    order_column="id",
    amount_columns=("subtotal_cents", "discount_cents", "shipping_cents", "total_cents"),
)

ARCHIVED_TABLES: tuple[ArchivedTable, ...] = (
    ORDERS,
    ArchivedTable(
        "order_lines",
        _clause(
            "order_lines",
            ("order_id", _text()),
            ("sku", _text()),
            ("name", _text()),
            ("quantity", _int()),
            ("unit_price_cents", _big()),
            ("discount_cents", _big()),
            ("total_cents", _big()),
        ),
        keys=("order_id", "sku"),
        amount_columns=("total_cents",),
    ),
    ArchivedTable(
        "order_status_history",
        _clause(
            "order_status_history",
            ("id", _big()),
            ("order_id", _text()),
            ("from_status", _text()),
            ("to_status", _text()),
            ("reason", _text()),
            ("actor_id", _uuid),
            ("at", _at),
        ),
        keys=("id",),
    ),
    ArchivedTable(
        "payments",
        _clause(
            "payments",
            ("id", _text()),
            ("order_id", _text()),
            ("idempotency_key", _text()),
            ("gateway", _text()),
            ("reference", _text()),
            ("status", _text()),
            ("amount_cents", _big()),
            ("currency", _text()),
            ("created_at", _at),
            ("updated_at", _at),
        ),
        keys=("id",),
        amount_columns=("amount_cents",),
    ),
    ArchivedTable(
        "payment_refunds",
        _clause(
            "payment_refunds",
            ("id", _text()),
            ("payment_id", _text()),
            ("order_id", _text()),
            ("idempotency_key", _text()),
            ("amount_cents", _big()),
            ("created_at", _at),
        ),
        keys=("id",),
        amount_columns=("amount_cents",),
    ),
    ArchivedTable(
        "shipments",
        _clause(
            "shipments",
            ("id", _text()),
            ("order_id", _text()),
            ("warehouse_id", _text()),
            ("status", _text()),
            ("ship_to", JSONB()),
            ("carrier", _text()),
            ("tracking_number", _text()),
            ("tracking_url", _text()),
            ("label_path", _text()),
            ("weight_g", _int()),
            ("length_mm", _int()),
            ("width_mm", _int()),
            ("height_mm", _int()),
            ("attempts", _int()),
            ("last_scan_seq", _int()),
            ("source_event_id", _uuid),
            ("created_at", _at),
            ("picked_at", _at),
            ("packed_at", _at),
            ("shipped_at", _at),
            ("delivered_at", _at),
            ("cancelled_at", _at),
            ("updated_at", _at),
        ),
        keys=("id",),
    ),
    ArchivedTable(
        "shipment_lines",
        _clause(
            "shipment_lines",
            ("shipment_id", _text()),
            ("sku", _text()),
            ("name", _text()),
            ("quantity", _int()),
        ),
        keys=("shipment_id", "sku"),
        via=Via("shipments", "shipment_id"),
    ),
    ArchivedTable(
        "shipment_scans",
        _clause(
            "shipment_scans",
            ("id", _big()),
            ("shipment_id", _text()),
            ("seq", _int()),
            ("status", _text()),
            ("location", _text()),
            ("at", _at),
        ),
        keys=("id",),
        via=Via("shipments", "shipment_id"),
    ),
    ArchivedTable(
        "returns",
        _clause(
            "returns",
            ("id", _text()),
            ("order_id", _text()),
            ("user_id", _uuid),
            ("status", _text()),
            ("reason", _text()),
            ("currency", _text()),
            ("refund_cents", _big()),
            ("payment_id", _text()),
            ("received_by", _uuid),
            ("refunded_by", _uuid),
            ("created_at", _at),
            ("received_at", _at),
            ("refunded_at", _at),
            ("updated_at", _at),
        ),
        keys=("id",),
        amount_columns=("refund_cents",),
    ),
    ArchivedTable(
        "return_lines",
        _clause(
            "return_lines",
            ("return_id", _text()),
            ("sku", _text()),
            ("quantity", _int()),
            ("disposition", _text()),
            ("warehouse_id", _text()),
        ),
        keys=("return_id", "sku"),
        via=Via("returns", "return_id"),
    ),
)
BY_NAME: dict[str, ArchivedTable] = {table.name: table for table in ARCHIVED_TABLES}
JSON_COLUMNS: frozenset[tuple[str, str]] = frozenset(
    (table.name, name)
    for table in ARCHIVED_TABLES
    for name, type_ in table.columns
    if isinstance(type_, JSONB)
)


def spark_type(type_: Any) -> str:
    """The Spark DDL type of an archived column (JSON documents are kept as their text)."""
    if isinstance(type_, JSONB | sa.Text | sa.String | UUID):
        return "string"
    if isinstance(type_, sa.BigInteger):
        return "bigint"
    if isinstance(type_, sa.Integer):
        return "int"
    if isinstance(type_, sa.DateTime):
        return "timestamp"
    if isinstance(type_, sa.Boolean):
        return "boolean"
    raise TypeError(f"no archive type for {type_!r}")


def arrow_schema(table: ArchivedTable) -> pa.Schema:
    """The Arrow schema delta-rs writes and reads the archive table with (UTC timestamps in
    microseconds: a naive or nanosecond timestamp would change the table's protocol)."""
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "boolean": pa.bool_(),
    }
    return pa.schema(
        [
            pa.field(
                name, kinds[spark_type(type_)], nullable=name not in (ORDER_MONTH, ARCHIVE_BATCH)
            )
            for name, type_ in table.columns
        ]
    )
