"""The consumer's directory over Postgres: orders, wishlists, product names, users' contacts
and preferences, read through the columns the kernel declares (`shoplake.notifications.readers`,
`shoplake.catalog.products_read`) — never through serving's code."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Engine

from shoplake.catalog import products_read
from shoplake.notifications.readers import orders_read, users_read, wishlist_items_read
from shoplake.notifications.tables import notification_preferences as preferences
from streaming.notifications.intake import Contact
from streaming.notifications.rules import OrderSummary


class SqlDirectory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def order(self, order_id: str) -> OrderSummary | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    orders_read.c.id,
                    orders_read.c.user_id,
                    orders_read.c.total_cents,
                    orders_read.c.currency,
                ).where(orders_read.c.id == order_id)
            ).first()
        if row is None:
            return None
        return OrderSummary(str(row.id), str(row.user_id), int(row.total_cents), row.currency)

    def wishers(self, sku: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(wishlist_items_read.c.user_id)
                .where(wishlist_items_read.c.sku == sku)
                .order_by(wishlist_items_read.c.user_id)
            ).scalars()
            return [str(user_id) for user_id in rows]

    def product_name(self, sku: str) -> str | None:
        with self.engine.connect() as conn:
            name = conn.execute(
                sa.select(products_read.c.name).where(products_read.c.sku == sku)
            ).scalar()
        return None if name is None else str(name)

    def contacts(self, user_ids: Sequence[str]) -> dict[str, Contact]:
        if not user_ids:
            return {}
        query = (
            sa.select(
                users_read.c.id,
                users_read.c.email,
                users_read.c.display_name,
                preferences.c.channels,
                preferences.c.sms_number,
            )
            .select_from(
                users_read.outerjoin(preferences, preferences.c.user_id == users_read.c.id)
            )
            .where(users_read.c.id.in_(list(user_ids)))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {
            str(row.id): Contact(
                user_id=str(row.id),
                email=row.email,
                display_name=row.display_name or "",
                sms_number=row.sms_number,
                overrides=row.channels or {},
            )
            for row in rows
        }
