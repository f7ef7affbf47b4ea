"""Gold test data without dbt: every gold table of the registry written with delta-rs, with a few
days of plausible rows, for the tests of the readers (DuckDB, the dashboards, the browser)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from shoplake.lake import GOLD_TABLES, Table

CATEGORIES = ("shoes", "apparel", "outdoor", "electronics", "home")
BRANDS = ("Stride", "Summit", "Hearth", "Sonique", "Basecamp")
STATUSES = {
    "stock_status": ("out", "low", "ok", "overstock", "no recent sales"),
    "segment": ("champions", "loyal customers", "at risk", "hibernating", "new customers"),
    "status": ("CONFIRMED", "SHIPPED", "DELIVERED", "REFUNDED"),
    "price_band": ("budget", "mid", "premium"),
    "scope": ("category", "sku", "cart"),
    "kind": ("percentage", "fixed"),
    "placement": ("home", "product", "cart"),
    "country": ("FR", "DE", "ES"),
}


def arrow_type(spark_type: str) -> pa.DataType:
    simple: dict[str, pa.DataType] = {
        "string": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    if spark_type in simple:
        return simple[spark_type]
    if spark_type.startswith("array<") and spark_type.endswith(">"):
        return pa.list_(arrow_type(spark_type[6:-1]))
    raise ValueError(f"no arrow type for {spark_type}")


def _value(name: str, spark_type: str, n: int, day: date, rng: random.Random) -> Any:
    if name in STATUSES:
        return STATUSES[name][n % len(STATUSES[name])]
    if name == "category":
        return CATEGORIES[n % len(CATEGORIES)]
    if name == "brand":
        return BRANDS[n % len(BRANDS)]
    if name == "difference_cents":
        return 0
    if name == "is_reconciled":
        return True
    if spark_type == "string":
        return f"{name}-{n:05d}"
    if spark_type == "date":
        return day.replace(day=1) if name.endswith("month") else day
    if spark_type == "timestamp":
        return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=n % 24)
    if spark_type == "boolean":
        return n % 3 != 0
    if spark_type == "double":
        return round(rng.uniform(0.05, 0.95), 4)
    if spark_type.startswith("array"):
        return [f"{name}-{n}"]
    if name.endswith("_score"):
        return 1 + n % 5
    if name == "months_since_first":
        return n % 4
    return rng.randint(1, 500) * (100 if name.endswith("_cents") else 1)


def gold_rows(table: Table, days: int, per_day: int, today: date) -> list[dict[str, Any]]:
    """`per_day` rows for each of the last `days` days, every column filled."""
    rng = random.Random(table.name)
    rows = []
    for d in range(days):
        day = today - timedelta(days=days - 1 - d)
        for k in range(per_day):
            n = d * per_day + k
            rows.append({c.name: _value(c.name, c.type, n, day, rng) for c in table.columns})
    return rows


# Tables whose rows must make sense together for the pages that chart them.
Adjust = Callable[[list[dict[str, Any]]], None]


def _funnel(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["sessions"] = sessions = 200 + row["sessions"] % 50
        row["view_sessions"] = sessions * 8 // 10
        row["cart_sessions"] = sessions * 3 // 10
        row["checkout_sessions"] = sessions * 15 // 100
        row["paid_sessions"] = sessions // 10
        row["conversion_rate"] = row["paid_sessions"] / sessions


def _sales(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        row["discount_cents"] = row["gross_cents"] // 10
        row["net_cents"] = row["gross_cents"] - row["discount_cents"]


ADJUSTMENTS: dict[str, Adjust] = {"gold.funnel_daily": _funnel, "gold.sales_daily": _sales}


def write_gold_tables(lake_root: str, *, days: int = 30, per_day: int = 3) -> date:
    """Every gold table, `per_day` rows a day for `days` days up to today (one a day where the
    day is the key); returns today's date."""
    today = datetime.now(UTC).date()
    for table in GOLD_TABLES:
        by_day = table.keys[0] in ("date_day", "order_date")  # one row a day: the day is the key
        rows = gold_rows(table, days, 1 if by_day else per_day, today)
        adjust = ADJUSTMENTS.get(table.name)
        if adjust is not None:
            adjust(rows)
        if table.keys and len(table.keys) == 1:
            key = table.keys[0]
            for n, row in enumerate(rows):
                if key != "date_day" and isinstance(row[key], str):
                    row[key] = f"{key}-{n:05d}"
        schema = pa.schema(
            [pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in table.columns]
        )
        write_deltalake(
            table.path(lake_root), pa.Table.from_pylist(rows, schema=schema), mode="overwrite"
        )
    return today
