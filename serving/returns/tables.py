"""Returns of delivered units and their lines (what came back, and where it went)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shoplake.db import metadata

RETURN_STATUSES = ("REQUESTED", "RECEIVED", "REFUNDED")

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),  # users.id, like orders.user_id
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    # Set when the refund went through: the amount and the payment it came from.
    sa.Column("refund_cents", sa.BigInteger),
    sa.Column("payment_id", sa.Text),
    sa.Column("received_by", UUID(as_uuid=False)),
    sa.Column("refunded_by", UUID(as_uuid=False)),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("received_at", sa.DateTime(timezone=True)),
    sa.Column("refunded_at", sa.DateTime(timezone=True)),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint(
        "status in (" + ", ".join(f"'{s}'" for s in RETURN_STATUSES) + ")", name="status"
    ),
    sa.CheckConstraint("refund_cents is null or refund_cents >= 0", name="refund_not_negative"),
    sa.Index("ix_returns_order", "order_id"),
    sa.Index("ix_returns_status_created", "status", "created_at"),
)

return_lines = sa.Table(
    "return_lines",
    metadata,
    sa.Column(
        "return_id", sa.Text, sa.ForeignKey("returns.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    # Filled in when ops receive the units: restock into `warehouse_id`, or write them off.
    sa.Column("disposition", sa.Text),
    sa.Column("warehouse_id", sa.Text),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint(
        "disposition is null or disposition in ('restock', 'write_off')", name="disposition"
    ),
)
