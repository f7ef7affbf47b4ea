"""Shipments (one per warehouse an order's units come from), their lines and carrier scans, and
the inbox of order events the fulfilment consumer has handled."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shoplake.db import metadata

SHIPMENT_STATUSES = (
    "CREATED",
    "PICKED",
    "PACKED",
    "SHIPPED",
    "IN_TRANSIT",
    "OUT_FOR_DELIVERY",
    "FAILED_ATTEMPT",
    "DELIVERED",
    "CANCELLED",
)


def _at(name: str, *, nullable: bool = True) -> sa.Column[Any]:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True))
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


shipments = sa.Table(
    "shipments",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("warehouse_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # The order's shipping address when the shipment was made: what the label says.
    sa.Column("ship_to", JSONB, nullable=False),
    sa.Column("carrier", sa.Text),
    sa.Column("tracking_number", sa.Text, unique=True),
    sa.Column("tracking_url", sa.Text),
    sa.Column("label_path", sa.Text),
    sa.Column("weight_g", sa.Integer),
    sa.Column("length_mm", sa.Integer),
    sa.Column("width_mm", sa.Integer),
    sa.Column("height_mm", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # The highest carrier scan applied: older or repeated scans change nothing.
    sa.Column("last_scan_seq", sa.Integer, nullable=False, server_default="0"),
    # The OrderConfirmed event the shipment was made for.
    sa.Column("source_event_id", UUID(as_uuid=False)),
    _at("created_at", nullable=False),
    _at("picked_at"),
    _at("packed_at"),
    _at("shipped_at"),
    _at("delivered_at"),
    _at("cancelled_at"),
    _at("updated_at", nullable=False),
    sa.UniqueConstraint("order_id", "warehouse_id", name="uq_shipments_order_warehouse"),
    sa.CheckConstraint(
        "status in (" + ", ".join(f"'{s}'" for s in SHIPMENT_STATUSES) + ")", name="status"
    ),
    sa.Index("ix_shipments_warehouse_status_created", "warehouse_id", "status", "created_at"),
    sa.Index("ix_shipments_order", "order_id"),
    sa.Index("ix_shipments_status", "status"),
)

shipment_lines = sa.Table(
    "shipment_lines",
    metadata,
    sa.Column(
        "shipment_id",
        sa.Text,
        sa.ForeignKey("shipments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

shipment_scans = sa.Table(
    "shipment_scans",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column(
        "shipment_id", sa.Text, sa.ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("shipment_id", "seq", name="uq_shipment_scans_seq"),
)

# Order events the fulfilment consumer handled, by event id: a redelivered event finds its row
# and creates nothing. No foreign key: the row outlives archived orders.
fulfilment_inbox = sa.Table(
    "fulfilment_inbox",
    metadata,
    sa.Column("event_id", UUID(as_uuid=False), primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    _at("processed_at", nullable=False),
)
