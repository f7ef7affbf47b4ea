"""Quality gates on small Delta tables (delta-rs, no Spark): a clean table passes, a negative
amount and an orphan order line fail the gate, which says which expectation failed on which
rows, and the results are kept for the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from shoplake.config import Settings
from shoplake.lake import ORDER_ITEMS, ORDERS, PAYMENTS, Table
from spark_jobs.gold.gates import SILVER_SUITES, GateFailed, latest, run_gate
from tests.support.gold import arrow_type

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SUITES = [
    s
    for s in SILVER_SUITES
    if s.table in ("silver.orders", "silver.order_items", "silver.payments")
]


def _write(lake: str, table: Table, rows: list[dict[str, Any]]) -> None:
    schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])
    full = [{c.name: row.get(c.name) for c in table.columns} for row in rows]
    write_deltalake(table.path(lake), pa.Table.from_pylist(full, schema=schema), mode="overwrite")


def _order(order_id: str) -> dict[str, Any]:
    at = NOW - timedelta(hours=1)
    return {
        "order_id": order_id,
        "status": "CONFIRMED",
        "currency": "EUR",
        "subtotal_cents": 1000,
        "discount_cents": 0,
        "shipping_cents": 0,
        "total_cents": 1000,
        "placed_at": at,
        "updated_at": at,
        "event_count": 2,
        "last_event_id": f"e-{order_id}",
    }


def _line(order_id: str, number: int) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "line_number": number,
        "sku": "S1",
        "quantity": 1,
        "unit_price_cents": 1000,
        "discount_cents": 0,
        "line_total_cents": 1000,
        "event_id": f"p-{order_id}",
        "event_type": "shop.order.OrderPlaced.v1",
        "event_time": NOW - timedelta(hours=1),
        "event_date": NOW.date(),
    }


def _payment(event_id: str, order_id: str, cents: int) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "shop.payment.PaymentCaptured.v1",
        "event_time": NOW - timedelta(minutes=30),
        "event_date": NOW.date(),
        "payment_id": f"pay-{order_id}",
        "order_id": order_id,
        "status": "CAPTURED",
        "amount_cents": cents,
        "currency": "EUR",
        "gateway": "sandbox",
    }


@pytest.fixture
def lake(tmp_path: Path) -> str:
    root = str(tmp_path / "lake")
    _write(root, ORDERS, [_order("o1"), _order("o2")])
    _write(root, ORDER_ITEMS, [_line("o1", 1), _line("o2", 1)])
    _write(root, PAYMENTS, [_payment("e1", "o1", 1000), _payment("e2", "o2", 1000)])
    return root


@pytest.fixture
def local(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"gold_dir": tmp_path / "gold"})


def test_clean_silver_passes_and_the_result_is_kept(local: Settings, lake: str) -> None:
    result = run_gate(local, "silver", lake_root=lake, suites=SUITES, now=lambda: NOW)
    assert result.ok
    assert [t.rows for t in result.tables] == [2, 2, 2]
    kept = latest(local, "silver")
    assert kept is not None and kept["ok"] is True
    assert result.docs is not None and Path(result.docs.removeprefix("file://")).exists()


def test_a_negative_amount_and_an_orphan_line_fail_the_gate_naming_the_rows(
    local: Settings, lake: str
) -> None:
    _write(lake, PAYMENTS, [_payment("e1", "o1", 1000), _payment("e-bad", "o2", -250)])
    _write(lake, ORDER_ITEMS, [_line("o1", 1), _line("o2", 1), _line("o-ghost", 1)])
    with pytest.raises(GateFailed) as failed:
        run_gate(local, "silver", lake_root=lake, suites=SUITES, now=lambda: NOW)
    message = str(failed.value)
    assert "the silver quality gate failed" in message
    assert "silver.payments.amount_cents: 1 of 2 rows — event_id=e-bad" in message
    assert (
        "order_id must exist in silver.orders.order_id failed on silver.order_items.order_id: "
        "1 of 3 rows — order_id=o-ghost, line_number=1"
    ) in message
    kept = json.loads((local.gold_path / "quality" / "results" / "silver.json").read_text())
    assert kept["ok"] is False
    assert sum(len(t["failures"]) for t in kept["tables"]) == 2


def test_an_event_from_the_future_fails(local: Settings, lake: str) -> None:
    late = _payment("e3", "o1", 10) | {"event_time": NOW + timedelta(hours=2)}
    _write(lake, PAYMENTS, [_payment("e1", "o1", 1000), late])
    result = run_gate(
        local, "silver", lake_root=lake, suites=SUITES, now=lambda: NOW, raise_on_failure=False
    )
    (failure,) = result.failures
    assert failure.column == "event_time" and failure.sample == [{"event_id": "e3"}]


def test_a_table_not_written_yet_is_skipped_not_failed(local: Settings, tmp_path: Path) -> None:
    result = run_gate(local, "silver", lake_root=str(tmp_path / "empty"), suites=SUITES)
    assert result.ok and all(t.missing for t in result.tables)
