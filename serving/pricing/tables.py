"""Promotions and coupon redemptions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shoplake.db import metadata

promotions = sa.Table(
    "promotions",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    # percentage: value in basis points (1000 = 10%); fixed: value in minor units of `currency`.
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3)),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("scope_values", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True)),
    sa.Column("coupon_code", sa.Text, unique=True),
    sa.Column("usage_limit", sa.Integer),
    sa.Column("stackable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("kind in ('percentage', 'fixed')", name="kind"),
    sa.CheckConstraint("scope in ('sku', 'category', 'cart')", name="scope"),
    sa.CheckConstraint("value > 0", name="value_positive"),
    sa.CheckConstraint("kind <> 'percentage' or value <= 10000", name="percentage_at_most_100"),
    sa.CheckConstraint("usage_limit is null or usage_limit > 0", name="usage_limit_positive"),
)

coupon_redemptions = sa.Table(
    "coupon_redemptions",
    metadata,
    sa.Column(
        "promotion_id",
        UUID(as_uuid=False),
        sa.ForeignKey("promotions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Who holds the claim: a user id, or an anonymous cart id.
    sa.Column("holder", sa.Text, primary_key=True),
    sa.Column(
        "claimed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    # A claim lapses with its cart unless an order consumed it.
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("order_id", sa.Text),
)
