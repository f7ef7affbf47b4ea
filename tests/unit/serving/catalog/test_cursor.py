"""Keyset cursors of the product list: round trips, binding to the query, refusal of forgeries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from serving.catalog.cursor import (
    SortKey,
    descending,
    product_cursor,
    product_key,
    query_fingerprint,
    sort_key,
)
from serving.catalog.schemas import ProductPublic, ProductSort
from serving.pagination import InvalidCursor

FILTERS: dict[str, str | None] = {"category": "shoes", "brand": None, "status": "active"}


def _product(**fields: object) -> ProductPublic:
    base: dict[str, object] = {
        "sku": "SKU-1",
        "name": "Trail runner",
        "description": "",
        "brand": "Acme",
        "category_path": ["shoes", "running"],
        "price_cents": 12_999,
        "currency": "EUR",
        "attributes": {},
        "image_urls": [],
        "status": "active",
        "version": 1,
        "created_at": datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC),
    }
    return ProductPublic.model_validate({**base, **fields})


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _key(sort: ProductSort, value: object, sku: object, version: int = 1) -> str:
    """A hand-made cursor of the shared format, for the product list and these filters."""
    return _forge(
        {
            "v": version,
            "l": "products",
            "f": query_fingerprint(sort, FILTERS),
            "k": {"k": value, "sku": sku},
        }
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", SortKey(datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC), "SKU-1")),
        ("price_asc", SortKey(12_999, "SKU-1")),
        ("price_desc", SortKey(12_999, "SKU-1")),
        ("name", SortKey("Trail runner", "SKU-1")),
    ],
)
def test_the_key_of_a_product_round_trips_through_a_cursor(
    sort: ProductSort, expected: SortKey
) -> None:
    key = sort_key(sort, _product())
    assert key == expected
    cursor = product_cursor(sort, FILTERS, key)
    assert product_key(cursor, sort, FILTERS) == expected


def test_a_time_keeps_its_microseconds_and_instant_across_timezones() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    cursor = product_cursor("newest", FILTERS, SortKey(moment, "A"))
    decoded = product_key(cursor, "newest", FILTERS).value
    assert decoded == moment
    assert isinstance(decoded, datetime) and decoded.microsecond == 678901


def test_a_cursor_is_url_safe_and_opaque() -> None:
    cursor = product_cursor("name", FILTERS, SortKey("a/b+c?d=e&f", "SKU/1"))
    assert all(ch.isalnum() or ch in "-_" for ch in cursor)
    assert product_key(cursor, "name", FILTERS) == SortKey("a/b+c?d=e&f", "SKU/1")


def test_a_cursor_is_refused_for_another_sort_or_other_filters() -> None:
    cursor = product_cursor("price_asc", FILTERS, SortKey(100, "A"))
    with pytest.raises(InvalidCursor, match="another list, sort or filters"):
        product_key(cursor, "price_desc", FILTERS)
    other: dict[str, str | None] = {**FILTERS, "category": "bags"}
    with pytest.raises(InvalidCursor, match="another list, sort or filters"):
        product_key(cursor, "price_asc", other)


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("name", "not base64 at all!!"),
        ("name", base64.urlsafe_b64encode(b"\xff\xfe not json").decode()),
        ("name", _forge([1, 2, 3])),
        ("name", _key("name", "x", "A", version=99)),
        ("name", _key("name", "x", "")),
        ("name", _key("name", 5, "A")),
        ("price_asc", _key("price_asc", "5", "A")),
        ("price_asc", _key("price_asc", True, "A")),
        ("newest", _key("newest", "yesterday", "A")),
        ("newest", _key("newest", "2026-01-01T00:00:00", "A")),
        ("name", _forge({"v": 1, "l": "orders", "f": query_fingerprint("name", FILTERS), "k": {}})),
    ],
)
def test_malformed_or_forged_cursors_are_refused(sort: ProductSort, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        product_key(cursor, sort, FILTERS)


def test_fingerprints_differ_by_sort_and_filter_and_ignore_key_order() -> None:
    a = query_fingerprint("name", {"category": "shoes", "brand": "Acme", "status": "active"})
    b = query_fingerprint("name", {"status": "active", "brand": "Acme", "category": "shoes"})
    c = query_fingerprint("name", {"category": "shoes", "brand": "Acme", "status": "draft"})
    d = query_fingerprint("newest", {"category": "shoes", "brand": "Acme", "status": "active"})
    assert a == b
    assert len({a, c, d}) == 3


def test_newest_and_price_desc_walk_downwards() -> None:
    assert descending("newest") and descending("price_desc")
    assert not descending("price_asc") and not descending("name")
