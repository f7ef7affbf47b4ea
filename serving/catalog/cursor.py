"""Opaque keyset cursors of the product list: the last row's sort key, bound to sort and filters.

A cursor is base64url(JSON) of the sort, a fingerprint of the filters and the last row's
(sort value, sku). The sku breaks ties, so (value, sku) is unique and pages never overlap or skip
rows even when many products share a price, a name or a creation time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from serving.catalog.schemas import ProductPublic, ProductSort

CURSOR_VERSION = 1
SortValue = datetime | int | str


class InvalidCursor(ValueError):
    """The cursor was not made by this API for this sort and these filters."""


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


def filters_fingerprint(filters: dict[str, str | None]) -> str:
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(sort: ProductSort, fingerprint: str, key: SortKey) -> str:
    value = key.value.isoformat() if isinstance(key.value, datetime) else key.value
    payload = {"v": CURSOR_VERSION, "s": sort, "f": fingerprint, "k": value, "sku": key.sku}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: ProductSort, fingerprint: str) -> SortKey:
    """The key the cursor carries; InvalidCursor when it is malformed or made for another query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload: Any = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("the cursor is not one this API made") from exc
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_VERSION:
        raise InvalidCursor("the cursor is not one this API made")
    if payload.get("s") != sort or payload.get("f") != fingerprint:
        raise InvalidCursor("the cursor was made for another sort or other filters")
    sku = payload.get("sku")
    if not isinstance(sku, str) or not sku:
        raise InvalidCursor("the cursor has no sku")
    return SortKey(_sort_value(sort, payload.get("k")), sku)


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
