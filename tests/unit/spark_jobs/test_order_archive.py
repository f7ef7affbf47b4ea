"""The archive job's verification fingerprint: rows and amounts per month, and a digest of
each order's status and last change, equal for equal rows whatever their source's types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from shoplake.archive.contract import BY_NAME, ORDERS
from spark_jobs.order_archive import fingerprint, month_of

AT = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)


def _order(order_id: str, total: int, status: str = "CANCELLED") -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "updated_at": AT,
        "subtotal_cents": total,
        "discount_cents": 0,
        "shipping_cents": 0,
        "total_cents": total,
        "order_month": month_of(AT),
    }


def test_the_month_is_the_orders_utc_month() -> None:
    assert month_of(AT) == "2025-03"
    assert month_of(AT.astimezone(timezone(timedelta(hours=2)))) == "2025-03"


def test_equal_rows_give_equal_fingerprints_and_any_change_shows() -> None:
    rows = [_order("a", 100), _order("b", 250)]
    same = [dict(r, updated_at=AT.astimezone(timezone(timedelta(hours=5)))) for r in reversed(rows)]
    assert fingerprint(ORDERS, rows) == fingerprint(ORDERS, same)
    assert fingerprint(ORDERS, rows)["2025-03"][:5] == [2, 350, 0, 0, 350]
    for changed in (
        [_order("a", 100), _order("b", 251)],
        [_order("a", 100), _order("b", 250, status="REFUNDED")],
        [_order("a", 100)],
        [_order("a", 100), dict(_order("b", 250), updated_at=AT + timedelta(microseconds=1))],
    ):
        assert fingerprint(ORDERS, changed) != fingerprint(ORDERS, rows)


def test_child_tables_count_and_sum_their_amounts() -> None:
    lines: list[dict[str, Any]] = [
        {"order_month": "2025-03", "total_cents": 700},
        {"order_month": "2025-04", "total_cents": None},
    ]
    assert fingerprint(BY_NAME["order_lines"], lines) == {"2025-03": [1, 700], "2025-04": [1, 0]}
