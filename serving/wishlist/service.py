"""Rules of the wishlist: what may be added, idempotent adds, one event per real change."""

from __future__ import annotations

from enum import StrEnum

import redis
import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping

from serving.catalog import service as catalog
from serving.catalog.schemas import ProductPublic
from serving.errors import ApiError, CommonError, not_found
from serving.wishlist import store
from serving.wishlist.schemas import ProductSummary, WishlistItemPublic
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.wishlist import WishlistItemAdded, WishlistItemRemoved

SOURCE = "/serving/wishlist"


class WishlistError(StrEnum):
    PRODUCT_DISCONTINUED = "PRODUCT_DISCONTINUED"


def _item(row: RowMapping, product: ProductPublic) -> WishlistItemPublic:
    return WishlistItemPublic(
        sku=row["sku"], added_at=row["added_at"], product=ProductSummary.of(product)
    )


def list_items(
    conn: Connection, client: redis.Redis, settings: Settings, user_id: str
) -> list[WishlistItemPublic]:
    """The caller's items, newest first, each with the product as the catalog has it now."""
    rows = store.list_items(conn, user_id)
    products = catalog.get_products(conn, client, settings, [row["sku"] for row in rows])
    return [_item(row, products[row["sku"]]) for row in rows if row["sku"] in products]


def add_item(
    conn: Connection, client: redis.Redis, settings: Settings, user_id: str, sku: str
) -> tuple[WishlistItemPublic, bool]:
    """The item and whether it is new; adding an item already there changes nothing."""
    product = catalog.get_products(conn, client, settings, [sku]).get(sku)
    if product is None or product.status == "draft":
        raise not_found("product", sku)
    existing = store.get_item(conn, user_id, sku)
    if existing is not None:
        return _item(existing, product), False
    if product.status == "discontinued":
        raise ApiError(409, WishlistError.PRODUCT_DISCONTINUED, f"product '{sku}' is discontinued")
    try:
        with conn.begin_nested():
            row = store.insert_item(conn, user_id, sku)
    except sa.exc.IntegrityError as exc:  # the product or the user is gone from Postgres
        raise not_found("product", sku) from exc
    if row is None:  # a concurrent add of the same item won; it recorded the event
        existing = store.get_item(conn, user_id, sku)
        if existing is None:  # ...and a concurrent remove took it away again
            raise ApiError(409, CommonError.CONFLICT, "the wishlist changed meanwhile; retry")
        return _item(existing, product), False
    outbox.record(conn, WishlistItemAdded(user_id=user_id, sku=sku), SOURCE)
    return _item(row, product), True


def remove_item(conn: Connection, user_id: str, sku: str) -> None:
    if not store.delete_item(conn, user_id, sku):
        raise not_found("wishlist item", sku)
    outbox.record(conn, WishlistItemRemoved(user_id=user_id, sku=sku), SOURCE)
