"""Keyset cursors of the product list: round trips, binding to the query, refusal of forgeries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from serving.catalog.cursor import (
    InvalidCursor,
    SortKey,
    decode_cursor,
    descending,
    encode_cursor,
    filters_fingerprint,
    sort_key,
)
from serving.catalog.schemas import ProductPublic, ProductSort

FILTERS = filters_fingerprint({"category": "shoes", "brand": None, "status": "active"})


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
    cursor = encode_cursor(sort, FILTERS, key)
    assert decode_cursor(cursor, sort, FILTERS) == expected


def test_a_time_keeps_its_microseconds_and_instant_across_timezones() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    cursor = encode_cursor("newest", FILTERS, SortKey(moment, "A"))
    decoded = decode_cursor(cursor, "newest", FILTERS).value
    assert decoded == moment
    assert isinstance(decoded, datetime) and decoded.microsecond == 678901


def test_a_cursor_is_url_safe_and_opaque() -> None:
    cursor = encode_cursor("name", FILTERS, SortKey("a/b+c?d=e&f", "SKU/1"))
    assert all(ch.isalnum() or ch in "-_" for ch in cursor)
    assert decode_cursor(cursor, "name", FILTERS) == SortKey("a/b+c?d=e&f", "SKU/1")


def test_a_cursor_is_refused_for_another_sort_or_other_filters() -> None:
    cursor = encode_cursor("price_asc", FILTERS, SortKey(100, "A"))
    with pytest.raises(InvalidCursor, match="another sort"):
        decode_cursor(cursor, "price_desc", FILTERS)
    other = filters_fingerprint({"category": "bags", "brand": None, "status": "active"})
    with pytest.raises(InvalidCursor, match="other filters"):
        decode_cursor(cursor, "price_asc", other)


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("name", "not base64 at all!!"),
        ("name", base64.urlsafe_b64encode(b"\xff\xfe not json").decode()),
        ("name", _forge([1, 2, 3])),
        ("name", _forge({"v": 99, "s": "name", "f": FILTERS, "k": "x", "sku": "A"})),
        ("name", _forge({"v": 1, "s": "name", "f": FILTERS, "k": "x", "sku": ""})),
        ("name", _forge({"v": 1, "s": "name", "f": FILTERS, "k": 5, "sku": "A"})),
        ("price_asc", _forge({"v": 1, "s": "price_asc", "f": FILTERS, "k": "5", "sku": "A"})),
        ("price_asc", _forge({"v": 1, "s": "price_asc", "f": FILTERS, "k": True, "sku": "A"})),
        ("newest", _forge({"v": 1, "s": "newest", "f": FILTERS, "k": "yesterday", "sku": "A"})),
        (
            "newest",
            _forge({"v": 1, "s": "newest", "f": FILTERS, "k": "2026-01-01T00:00:00", "sku": "A"}),
        ),
    ],
)
def test_malformed_or_forged_cursors_are_refused(sort: ProductSort, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, sort, FILTERS)


def test_fingerprints_differ_by_filter_and_ignore_key_order() -> None:
    a = filters_fingerprint({"category": "shoes", "brand": "Acme", "status": "active"})
    b = filters_fingerprint({"status": "active", "brand": "Acme", "category": "shoes"})
    c = filters_fingerprint({"category": "shoes", "brand": "Acme", "status": "draft"})
    assert a == b
    assert a != c


def test_newest_and_price_desc_walk_downwards() -> None:
    assert descending("newest") and descending("price_desc")
    assert not descending("price_asc") and not descending("name")
