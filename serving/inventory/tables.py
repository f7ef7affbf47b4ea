"""The stock ledger: levels per SKU and warehouse, every movement, and order reservations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shoplake.db import metadata

MOVEMENT_REASONS = ("receipt", "reservation", "release", "sale", "adjustment")
RESERVATION_STATUSES = ("held", "released", "sold")

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("sku", sa.Text, sa.ForeignKey("products.sku", ondelete="RESTRICT"), primary_key=True),
    sa.Column("warehouse_id", sa.Text, primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
)

stock_movements = sa.Table(
    "stock_movements",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("warehouse_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("on_hand_delta", sa.Integer, nullable=False),
    sa.Column("reserved_delta", sa.Integer, nullable=False),
    sa.Column("on_hand_after", sa.Integer, nullable=False),
    sa.Column("reserved_after", sa.Integer, nullable=False),
    sa.Column("order_id", sa.Text),
    sa.Column("reference", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("actor_id", UUID(as_uuid=False)),  # the acting user (users.id); null: the system
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.ForeignKeyConstraint(
        ["sku", "warehouse_id"],
        ["stock_levels.sku", "stock_levels.warehouse_id"],
        name="fk_stock_movements_level",
    ),
    sa.CheckConstraint(
        "reason in ('receipt', 'reservation', 'release', 'sale', 'adjustment')", name="reason"
    ),
    sa.Index("ix_stock_movements_sku_id", "sku", "id"),
)

stock_reservations = sa.Table(
    "stock_reservations",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("warehouse_id", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="held"),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("settled_at", sa.DateTime(timezone=True)),
    sa.Column("release_reason", sa.Text),
    sa.ForeignKeyConstraint(
        ["sku", "warehouse_id"],
        ["stock_levels.sku", "stock_levels.warehouse_id"],
        name="fk_stock_reservations_level",
    ),
    sa.UniqueConstraint("order_id", "sku", "warehouse_id", name="uq_stock_reservations_line"),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint("status in ('held', 'released', 'sold')", name="status"),
    sa.Index(
        "ix_stock_reservations_held_expiry",
        "expires_at",
        postgresql_where=sa.text("status = 'held'"),
    ),
)
