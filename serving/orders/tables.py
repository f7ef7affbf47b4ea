"""Orders, their lines and status history (payments and checkout requests have rooms of their
own: serving/payments/tables.py, serving/checkout/tables.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shoplake.db import metadata

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    # The customer (users.id). No foreign key on purpose: an order is a financial record that
    # outlives the account it was placed from (erasure anonymises users, it never deletes
    # their orders), and archived orders leave Postgres while the user stays.
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("subtotal_cents", sa.BigInteger, nullable=False),
    sa.Column("discount_cents", sa.BigInteger, nullable=False),
    sa.Column("shipping_cents", sa.BigInteger, nullable=False, server_default="0"),
    # How shipping was priced at checkout (pricing's ShippingPublic); null before it was.
    sa.Column("shipping_quote", JSONB),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.Column("coupon_code", sa.Text),
    sa.Column("shipping_address", JSONB, nullable=False),
    # The checkout's Idempotency-Key: also the key of every gateway call for this order.
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    # Where the sold units came from: [{sku, warehouse_id, quantity}], to restock on a cancel.
    sa.Column("allocations", JSONB, nullable=False, server_default="[]"),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("total_cents >= 0", name="total_not_negative"),
    sa.Index("ix_orders_user_created", "user_id", "created_at"),
    sa.Index("ix_orders_status_created", "status", "created_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column(
        "order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.BigInteger, nullable=False),
    sa.Column("discount_cents", sa.BigInteger, nullable=False),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

order_status_history = sa.Table(
    "order_status_history",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("actor_id", UUID(as_uuid=False)),  # the acting user (users.id); null: the system
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_order_status_history_order", "order_id", "id"),
)
