"""The payment ledger: one row per authorization (or decline) and the state it reached."""

from __future__ import annotations

import sqlalchemy as sa

from shoplake.db import metadata

# Only tokens' outcomes and gateway references: never card data.
payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("gateway", sa.Text, nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("ix_payments_order", "order_id"),
)

# Each refund of a payment, whole or part (a return's): keyed like its gateway call, so a retry
# finds the refund it made instead of adding another.
payment_refunds = sa.Table(
    "payment_refunds",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column(
        "payment_id", sa.Text, sa.ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
    sa.Column("amount_cents", sa.BigInteger, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
    sa.Index("ix_payment_refunds_payment", "payment_id"),
)
