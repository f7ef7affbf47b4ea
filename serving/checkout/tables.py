"""Checkout requests: the saga's log, one row per Idempotency-Key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shoplake.db import metadata

checkout_requests = sa.Table(
    "checkout_requests",
    metadata,
    sa.Column("idempotency_key", sa.Text, primary_key=True),
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),  # users.id, like orders.user_id
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("order_id", sa.Text),
    # claimed → authorizing → confirmed | payment_failed | cancelled (checkout.service.State)
    sa.Column("state", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)
