"""Suppliers, their users, purchase orders with their lines, receipts and ship notices."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shoplake.db import metadata

suppliers = sa.Table(
    "suppliers",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("contact_email", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# Which supplier a user of the `supplier` role acts for (one each).
supplier_users = sa.Table(
    "supplier_users",
    metadata,
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "supplier_id",
        UUID(as_uuid=False),
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    # The order's human number (PO-000042); also its listing key.
    sa.Column("number", sa.BigInteger, sa.Identity(always=True), nullable=False, unique=True),
    sa.Column("supplier_id", UUID(as_uuid=False), sa.ForeignKey("suppliers.id"), nullable=False),
    sa.Column("warehouse_id", sa.Text, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("expected_arrival", sa.Date),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", UUID(as_uuid=False)),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(
        "status in ('DRAFT', 'SUBMITTED', 'ACKNOWLEDGED', 'PARTIALLY_RECEIVED', 'RECEIVED', "
        "'CLOSED')",
        name="po_status",
    ),
    sa.Index("ix_purchase_orders_supplier_number", "supplier_id", "number"),
    sa.Index("ix_purchase_orders_status_number", "status", "number"),
)

# SKUs are checked against the catalog when an order is made; no foreign key, so that an order
# keeps its history whatever happens to the product later.
purchase_order_lines = sa.Table(
    "purchase_order_lines",
    metadata,
    sa.Column(
        "purchase_order_id",
        UUID(as_uuid=False),
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("quantity_ordered", sa.Integer, nullable=False),
    sa.Column("quantity_received", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unit_cost_cents", sa.BigInteger, nullable=False),
    sa.CheckConstraint("quantity_ordered > 0", name="ordered_positive"),
    sa.CheckConstraint(
        "quantity_received >= 0 and quantity_received <= quantity_ordered", name="received_range"
    ),
    sa.CheckConstraint("unit_cost_cents >= 0", name="cost_not_negative"),
)

# One row per delivery booked against an order, named by its delivery note: booking the same
# note twice books it once.
purchase_order_receipts = sa.Table(
    "purchase_order_receipts",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column(
        "purchase_order_id",
        UUID(as_uuid=False),
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("warehouse_id", sa.Text, nullable=False),
    sa.Column("lines", JSONB, nullable=False),  # [{sku, quantity}]
    sa.Column("received_by", UUID(as_uuid=False)),
    sa.Column(
        "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.UniqueConstraint(
        "purchase_order_id", "reference", name="uq_purchase_order_receipts_reference"
    ),
)

# Advance ship notices: what the supplier says it sent, and when it should arrive.
ship_notices = sa.Table(
    "ship_notices",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column(
        "purchase_order_id",
        UUID(as_uuid=False),
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("expected_arrival", sa.Date, nullable=False),
    sa.Column("carrier", sa.Text),
    sa.Column("tracking_number", sa.Text),
    sa.Column("lines", JSONB, nullable=False),  # [{sku, quantity}]
    sa.Column("created_by", UUID(as_uuid=False)),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.UniqueConstraint("purchase_order_id", "reference", name="uq_ship_notices_reference"),
)
