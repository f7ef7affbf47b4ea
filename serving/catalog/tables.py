"""Products (JSONB attributes) and the category tree."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shoplake.db import metadata

products = sa.Table(
    "products",
    metadata,
    sa.Column("sku", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("category_path", ARRAY(sa.Text), nullable=False),
    sa.Column("price_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("attributes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("image_urls", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
    sa.CheckConstraint("status in ('draft', 'active', 'discontinued')", name="status"),
    sa.Index("ix_products_brand", "brand"),
    sa.Index("ix_products_category_path", "category_path", postgresql_using="gin"),
    sa.Index("ix_products_created_at_sku", "created_at", "sku"),
    sa.Index("ix_products_price_sku", "price_cents", "sku"),
)

categories = sa.Table(
    "categories",
    metadata,
    # The path of slugs joined by '/', e.g. 'shoes/running'.
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_path", sa.Text, sa.ForeignKey("categories.path"), index=True),
    sa.Column("depth", sa.Integer, nullable=False),
)
