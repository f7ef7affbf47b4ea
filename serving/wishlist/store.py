"""SQL of the wishlist."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import insert

from serving.wishlist.tables import wishlist_items


def insert_item(conn: Connection, user_id: str, sku: str) -> RowMapping | None:
    """The new row, or None when the item is already in the list."""
    statement = (
        insert(wishlist_items)
        .values(user_id=user_id, sku=sku)
        .on_conflict_do_nothing(index_elements=[wishlist_items.c.user_id, wishlist_items.c.sku])
        .returning(*wishlist_items.c)
    )
    return conn.execute(statement).mappings().first()


def get_item(conn: Connection, user_id: str, sku: str) -> RowMapping | None:
    return (
        conn.execute(
            sa.select(wishlist_items).where(
                wishlist_items.c.user_id == user_id, wishlist_items.c.sku == sku
            )
        )
        .mappings()
        .first()
    )


def list_items(conn: Connection, user_id: str) -> list[RowMapping]:
    """Newest first."""
    return list(
        conn.execute(
            sa.select(wishlist_items)
            .where(wishlist_items.c.user_id == user_id)
            .order_by(wishlist_items.c.added_at.desc(), wishlist_items.c.sku)
        ).mappings()
    )


def delete_item(conn: Connection, user_id: str, sku: str) -> bool:
    result = conn.execute(
        wishlist_items.delete().where(
            wishlist_items.c.user_id == user_id, wishlist_items.c.sku == sku
        )
    )
    return result.rowcount > 0
