"""The product list's keyset: the last row's sort value and its sku, in a shared cursor.

The sku breaks ties, so (value, sku) is unique and pages never overlap or skip rows even when
many products share a price, a name or a creation time. The cursor itself is
`serving.pagination`'s, bound to the sort and the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from serving.catalog.schemas import ProductPublic, ProductSort
from serving.pagination import InvalidCursor, decode_cursor, encode_cursor, fingerprint

LISTING = "products"
SortValue = datetime | int | str


@dataclass(frozen=True)
class SortKey:
    """Where a page ended: the row's value of the sort column and its sku."""

    value: SortValue
    sku: str


def descending(sort: ProductSort) -> bool:
    """newest and price_desc walk their key downwards; the others upwards."""
    return sort in ("newest", "price_desc")


def sort_key(sort: ProductSort, product: ProductPublic) -> SortKey:
    if sort == "newest":
        return SortKey(product.created_at, product.sku)
    if sort in ("price_asc", "price_desc"):
        return SortKey(product.price_cents, product.sku)
    return SortKey(product.name, product.sku)


def query_fingerprint(sort: ProductSort, filters: dict[str, str | None]) -> str:
    return fingerprint({"sort": sort, **filters})


def product_cursor(sort: ProductSort, filters: dict[str, str | None], key: SortKey) -> str:
    value = key.value.isoformat() if isinstance(key.value, datetime) else key.value
    return encode_cursor(LISTING, query_fingerprint(sort, filters), {"k": value, "sku": key.sku})


def product_key(cursor: str, sort: ProductSort, filters: dict[str, str | None]) -> SortKey:
    """The key the cursor carries; InvalidCursor when it is malformed or made for another query."""
    key = decode_cursor(cursor, LISTING, query_fingerprint(sort, filters))
    sku = key.get("sku")
    if not isinstance(sku, str) or not sku:
        raise InvalidCursor("the cursor has no sku")
    return SortKey(_sort_value(sort, key.get("k")), sku)


def _sort_value(sort: ProductSort, value: Any) -> SortValue:
    if sort == "newest":
        if not isinstance(value, str):
            raise InvalidCursor("the cursor's time is missing")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidCursor("the cursor's time is not valid") from exc
        if moment.tzinfo is None:
            raise InvalidCursor("the cursor's time has no timezone")
        return moment
    if sort in ("price_asc", "price_desc"):
        # bool is an int in Python; a price is not.
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidCursor("the cursor's price is not an integer")
        return value
    if not isinstance(value, str):
        raise InvalidCursor("the cursor's name is not a string")
    return value
