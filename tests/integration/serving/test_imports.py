"""Bulk imports on the real stack: a file with one bad row applies nothing and reports that row;
`partial` applies the rest; rows go through the catalog's and inventory's own rules; the
command line shows the same report."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from serving.catalog.tables import products
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.outbox import outbox
from shoplake_cli.main import app
from tests.support.callers import Caller
from tests.support.factories import create_product


def _products_csv(prefix: str, count: int, bad_at: int | None = None) -> str:
    lines = ["sku,name,brand,category_path,price_cents,attributes"]
    for n in range(count):
        price = "12,50" if n == bad_at else str(1_000 + n)
        lines.append(
            f'{prefix}-{n:04d},Import mug {n},Acme,kitchen/mugs,"{price}","{{""n"": {n}}}"'
        )
    return "\n".join(lines) + "\n"


def _existing(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(products)
                .where(products.c.sku.like(f"{prefix}-%"))
            ).scalar_one()
        )


def _events(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(outbox.c.key.like(f"{prefix}-%"))
            ).scalar_one()
        )


def _upload(client: TestClient, admin: Caller, name: str, text: str, **params: Any) -> Any:
    return client.post(
        "/v1/admin/imports",
        headers=admin.headers,
        params=params,
        files={"file": (name, text.encode(), "text/csv")},
    )


def test_one_bad_row_applies_nothing_and_reports_that_row(
    client: TestClient, admin: Caller, api_settings: Settings
) -> None:
    prefix = f"IMP{uuid.uuid4().hex[:6]}"
    engine = make_engine(api_settings, pool_size=1)
    try:
        refused = _upload(
            client, admin, "products.csv", _products_csv(prefix, 60, bad_at=37), kind="products"
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "IMPORT_REFUSED"
        report = error["details"]
        assert (report["rows"], report["accepted"], report["refused"], report["applied"]) == (
            60,
            59,
            1,
            False,
        )
        (row,) = report["errors"]
        # Line 39: the header is line 1, so the 38th data row (index 37) starts there.
        assert (row["line"], row["column"], row["value"]) == (39, "price_cents", "12,50")
        assert _existing(engine, prefix) == 0 and _events(engine, prefix) == 0

        partial = _upload(
            client,
            admin,
            "products.csv",
            _products_csv(prefix, 60, bad_at=37),
            kind="products",
            partial=True,
        )
        assert partial.status_code == 200, partial.text
        assert (partial.json()["accepted"], partial.json()["applied"]) == (59, True)
        assert _existing(engine, prefix) == 59
        assert _events(engine, prefix) == 59  # one ProductCreated each, through the catalog
    finally:
        engine.dispose()


def test_an_import_replaces_existing_products_and_counts_stock_by_the_apis_rules(
    client: TestClient, admin: Caller, api_settings: Settings
) -> None:
    kept = create_product(client, admin, price_cents=5_000)
    changed = {
        **{k: kept[k] for k in ("sku", "name", "brand", "category_path", "currency")},
        "price_cents": 4_000,
    }
    jsonl = json.dumps(changed) + "\n" + json.dumps({**changed, "sku": f"{kept['sku']}-NEW"}) + "\n"
    done = _upload(client, admin, "products.jsonl", jsonl, kind="products")
    assert done.status_code == 200 and done.json()["accepted"] == 2
    assert client.get(f"/v1/products/{kept['sku']}").json()["price_cents"] == 4_000

    stock = (
        f'{{"sku": "{kept["sku"]}", "warehouse_id": "WH-IMP", "on_hand": 7}}\n'
        '{"sku": "NO-SUCH-SKU-IMPORT", "warehouse_id": "WH-IMP", "on_hand": 1}\n'
    )
    refused = _upload(client, admin, "stock.ndjson", stock, kind="stock")
    assert refused.status_code == 422
    (row,) = refused.json()["error"]["details"]["errors"]
    assert row["line"] == 2 and "NOT_FOUND" in row["reason"]  # the catalog's own check
    assert client.get(f"/v1/inventory/{kept['sku']}").json()["tracked"] is False

    applied = _upload(client, admin, "stock.ndjson", stock, kind="stock", partial=True)
    assert applied.status_code == 200
    assert client.get(f"/v1/inventory/{kept['sku']}").json()["available"] == 7
    movements = client.get(
        f"/v1/admin/inventory/{kept['sku']}/movements", headers=admin.headers
    ).json()
    assert [(m["reason"], m["on_hand_delta"]) for m in movements["items"]] == [("adjustment", 7)]

    unknown = _upload(client, admin, "stock.txt", stock, kind="stock")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "UNKNOWN_FORMAT"


def test_the_command_line_imports_with_a_report(api_settings: Settings, tmp_path: Path) -> None:
    prefix = f"CLI{uuid.uuid4().hex[:6]}"
    bad = tmp_path / "products.csv"
    bad.write_text(_products_csv(prefix, 30, bad_at=3), encoding="utf-8-sig")  # with a BOM

    refused = CliRunner().invoke(app, ["import", "products", str(bad)])
    assert refused.exit_code == 1, refused.output
    assert (
        "30 rows" in refused.output
        and "1 refused" in refused.output
        and "nothing applied" in refused.output
    )
    assert "price_cents" in refused.output

    partial = CliRunner().invoke(app, ["import", "products", str(bad), "--partial"])
    assert partial.exit_code == 0, partial.output
    assert "29 accepted" in partial.output and "applied" in partial.output
    engine = make_engine(api_settings, pool_size=1)
    try:
        assert _existing(engine, prefix) == 29
    finally:
        engine.dispose()
