"""Wishlist items."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shoplake.db import metadata

wishlist_items = sa.Table(
    "wishlist_items",
    metadata,
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("sku", sa.Text, sa.ForeignKey("products.sku", ondelete="CASCADE"), primary_key=True),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
