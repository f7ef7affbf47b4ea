"""SQL of the catalog: products, the category tree and the keyset-paginated product list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping
from sqlalchemy.dialects.postgresql import ARRAY, insert

from serving.catalog.cursor import SortKey, descending
from serving.catalog.schemas import ProductSort, ProductStatus
from serving.catalog.tables import categories, products


@dataclass(frozen=True)
class ProductFilters:
    category: list[str] | None = None  # a prefix of category_path
    brand: str | None = None
    status: ProductStatus = "active"


def insert_product(conn: Connection, **fields: Any) -> RowMapping | None:
    """The new row, or None when the sku exists (the insert then does nothing)."""
    statement = (
        insert(products)
        .values(**fields)
        .on_conflict_do_nothing(index_elements=[products.c.sku])
        .returning(*products.c)
    )
    return conn.execute(statement).mappings().first()


def get_product(conn: Connection, sku: str, *, for_update: bool = False) -> RowMapping | None:
    query = sa.select(products).where(products.c.sku == sku)
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def get_products(conn: Connection, skus: list[str]) -> list[RowMapping]:
    if not skus:
        return []
    return list(conn.execute(sa.select(products).where(products.c.sku.in_(skus))).mappings())


def update_product(conn: Connection, sku: str, **fields: Any) -> RowMapping:
    """Apply the changes, bump the version and the update time; the row after."""
    return (
        conn.execute(
            products.update()
            .where(products.c.sku == sku)
            .values(**fields, version=products.c.version + 1, updated_at=sa.func.now())
            .returning(*products.c)
        )
        .mappings()
        .one()
    )


_SORT_COLUMNS: dict[ProductSort, sa.ColumnElement[Any]] = {
    "newest": products.c.created_at,
    "price_asc": products.c.price_cents,
    "price_desc": products.c.price_cents,
    "name": products.c.name,
}


def list_products(
    conn: Connection,
    filters: ProductFilters,
    sort: ProductSort,
    after: SortKey | None,
    limit: int,
) -> list[RowMapping]:
    """Up to `limit` rows in (sort column, sku) order, strictly after `after` when given."""
    column = _SORT_COLUMNS[sort]
    query = sa.select(products).where(products.c.status == filters.status)
    if filters.brand is not None:
        query = query.where(products.c.brand == filters.brand)
    if filters.category:
        prefix = sa.cast(sa.literal(filters.category, ARRAY(sa.Text)), ARRAY(sa.Text))
        # @> can use the GIN index; the slice comparison makes it a prefix, not any subset.
        query = query.where(
            products.c.category_path.contains(prefix),
            products.c.category_path[1 : len(filters.category)] == prefix,
        )
    row_key = sa.tuple_(column, products.c.sku)
    if after is not None:
        cursor_key = sa.tuple_(sa.literal(after.value), sa.literal(after.sku))
        query = query.where(row_key < cursor_key if descending(sort) else row_key > cursor_key)
    if descending(sort):
        query = query.order_by(column.desc(), products.c.sku.desc())
    else:
        query = query.order_by(column.asc(), products.c.sku.asc())
    return list(conn.execute(query.limit(limit)).mappings())


def upsert_category_path(conn: Connection, path: list[str]) -> None:
    """Make sure every level of the path exists: 'shoes', 'shoes/running', ..."""
    rows = [
        {
            "path": "/".join(path[: depth + 1]),
            "name": _display_name(path[depth]),
            "parent_path": "/".join(path[:depth]) or None,
            "depth": depth,
        }
        for depth in range(len(path))
    ]
    # One statement: Postgres checks the parent foreign key at its end, so order is free.
    conn.execute(insert(categories).values(rows).on_conflict_do_nothing())


def _display_name(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def all_categories(conn: Connection) -> list[RowMapping]:
    return list(
        conn.execute(
            sa.select(categories).order_by(categories.c.depth, categories.c.path)
        ).mappings()
    )
