"""Forecasts on the real stack: train (backtest, MLflow, champion) → publish to gold → reorder,
with open purchase orders counted as inbound and DRAFT purchase orders written once."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pandas as pd
import redis
from deltalake import DeltaTable
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from models import features, lake_io
from models.calendar import known_ahead
from models.forecasting.publish import publish
from models.forecasting.reorder import suggestions
from models.forecasting.train import champion_forecasts, train
from serving.catalog import service as catalog
from serving.catalog.schemas import ProductCreate
from serving.inbound import service as inbound
from serving.inbound.domain import PoStatus
from serving.inbound.schemas import PurchaseOrderPublic, SupplierCreate
from serving.unit_of_work import SqlUnitOfWork
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.lake import DEMAND_FORECASTS, REORDER_SUGGESTIONS
from shoplake.stack import Stack
from shoplake_cli.main import app
from tests.support.factories import outbox_events
from tests.support.histories import LANDING_TIMEOUT, HistoryLake

pytestmark = LANDING_TIMEOUT


def test_train_publish_and_reorder(
    stack: Stack, settings: Settings, history_lake: HistoryLake, tmp_path: Path
) -> None:
    root = str(tmp_path / "lake")
    shutil.copytree(history_lake.root, root)  # the forecasts are published into it
    demand = features.daily_demand(root)
    small = settings.model_copy(
        update={"forecast_horizon_days": 14, "forecast_backtest_windows": 2}
    )
    name = f"test-forecast-{uuid.uuid4().hex[:8]}"
    known = known_ahead(root)
    # The simulated history plans its promotions ahead; the calendar finds them in silver.
    assert len(known.promotions) and known.promotions.discount.between(0.05, 0.5).all()
    run = train(small, demand, model_name=name, known=known)
    held = run.backtest.held_out
    assert set(held.mase) == set(held.rmsse) == {"seasonal_naive", "auto_ets", "lightgbm"}
    assert set(held.references) == {"zero", "hindsight"}
    # The champion is the candidate with the lowest WRMSSE, promoted only below the baseline's.
    assert run.champion_model == min(("auto_ets", "lightgbm"), key=held.rmsse.__getitem__)
    assert run.decision.promote == (held.rmsse[run.champion_model] < held.rmsse["seasonal_naive"])
    fc = run.forecasts
    assert (fc.lo_95 <= fc.units + 1e-9).all() and (fc.units <= fc.hi_95 + 1e-9).all()
    assert {"ALL", "WH-1"} <= set(fc.warehouse_id)
    if not run.decision.promote:
        return
    frame, version, _ = champion_forecasts(small, name)
    assert version == run.version
    rows = publish(frame, root, version, run.run_id)
    gold = lake_io.read(DEMAND_FORECASTS, root)
    assert len(gold) == rows and gold.horizon_day.between(1, 14).all()
    plan = suggestions(
        gold, features.stock_levels(root), lead_time_days=7, review_days=7, service_level=0.95
    )
    assert (plan.suggested_units >= 0).all()
    assert (plan[plan.needs_reorder].projected_stock < plan[plan.needs_reorder].safety_stock).all()


def _forecast(series: list[tuple[str, str]], units: float = 5.0) -> pd.DataFrame:
    """`units` a day of each SKU x warehouse, 14 days on."""
    return pd.concat(
        pd.DataFrame(
            {
                "sku": [sku] * 14,
                "warehouse_id": [warehouse_id] * 14,
                "ds": pd.date_range("2026-12-01", periods=14),
                "origin_date": pd.Timestamp("2026-12-01"),
                "model": "auto_ets",
                "units": units,
                "lo_80": units - 2,
                "hi_80": units + 2,
                "lo_95": units - 3,
                "hi_95": units + 3,
            }
        )
        for sku, warehouse_id in series
    )


def _unit(engine: Engine, settings: Settings) -> SqlUnitOfWork:
    return SqlUnitOfWork(engine, settings=settings)


def _orders_of(engine: Engine, settings: Settings, supplier_id: str) -> list[PurchaseOrderPublic]:
    page = inbound.list_orders(
        _unit(engine, settings), supplier_id=supplier_id, status=None, limit=50, cursor=None
    )
    return [inbound.get_order(_unit(engine, settings), po.id) for po in reversed(page.items)]


def _reorder(*args: str) -> Result:
    return CliRunner().invoke(app, ["forecast", "reorder", *args])


def test_reorder_drafts_one_purchase_order_per_warehouse_once(
    settings: Settings, tmp_path: Path, unique: str
) -> None:
    engine = make_engine(settings, pool_size=1)
    client = redis.Redis.from_url(settings.redis_endpoint, decode_responses=True)
    costed, uncosted, gone = (f"RO-{unique}-{n}" for n in ("A", "B", "GONE"))
    try:
        with engine.begin() as conn:
            for sku, attributes in ((costed, {"unit_cost_cents": 875}), (uncosted, {})):
                catalog.create_product(
                    conn,
                    client,
                    ProductCreate(
                        sku=sku,
                        name=f"Product {sku}",
                        brand="Acme",
                        category_path=["kitchen"],
                        price_cents=1_999,
                        attributes=attributes,
                    ),
                )
        code = f"RO{unique.upper()}"
        supplier = inbound.create_supplier(
            _unit(engine, settings),
            SupplierCreate(code=code, name="Reorder Ltd", contact_email="reorder@example.com"),
        )
        root = str(tmp_path)
        series = [(costed, "WH-1"), (uncosted, "WH-1"), (costed, "WH-2"), (gone, "WH-1")]
        publish(_forecast(series), root, "7", "run")

        unknown = _reorder("--lake", root, "--draft-pos", "--supplier", f"NO{unique.upper()}")
        assert unknown.exit_code == 2 and "no supplier" in unknown.output, unknown.output
        assert not DeltaTable.is_deltatable(REORDER_SUGGESTIONS.path(root))  # nothing written
        assert _orders_of(engine, settings, supplier.id) == []
        idle = inbound.create_supplier(
            _unit(engine, settings),
            SupplierCreate(code=f"{code}X", name="Idle Ltd", contact_email="idle@example.com"),
        )
        inbound.deactivate_supplier(_unit(engine, settings), idle.id)
        inactive = _reorder("--lake", root, "--draft-pos", "--supplier", idle.code)
        assert inactive.exit_code == 2 and "inactive" in inactive.output, inactive.output
        assert not DeltaTable.is_deltatable(REORDER_SUGGESTIONS.path(root))

        first = _reorder("--lake", root, "--draft-pos", "--supplier", code.lower())
        assert first.exit_code == 0, first.output
        assert f"no longer in the catalog: {gone}" in first.output
        assert "2 draft purchase orders written" in first.output
        orders = _orders_of(engine, settings, supplier.id)
        assert [(po.warehouse_id, po.status) for po in orders] == [
            ("WH-1", PoStatus.DRAFT),
            ("WH-2", PoStatus.DRAFT),
        ]
        suggested = lake_io.read(REORDER_SUGGESTIONS, root).set_index(["sku", "warehouse_id"])
        assert suggested.inbound_units.sum() == 0
        for po in orders:
            assert "model version 7" in po.notes
            assert {line.sku: line.quantity_ordered for line in po.lines} == {
                sku: int(suggested.suggested_units[(sku, wh)])
                for sku, wh in series
                if wh == po.warehouse_id and sku != gone
            }
            assert [type(e).__name__ for e in outbox_events(engine, key=po.id)] == [
                "PurchaseOrderCreated"
            ]
        costs = {line.sku: line.unit_cost_cents for line in orders[0].lines}
        assert costs == {costed: 875, uncosted: 0} and uncosted in orders[0].notes

        again = _reorder("--lake", root, "--draft-pos", "--supplier", supplier.id)
        assert again.exit_code == 0, again.output
        assert "0 draft purchase orders written" in again.output
        assert len(_orders_of(engine, settings, supplier.id)) == 2
        rerun = lake_io.read(REORDER_SUGGESTIONS, root).set_index(["sku", "warehouse_id"])
        drafted = [(s, wh) for s, wh in series if s != gone]
        for key in drafted:  # what is on order is inbound stock now: nothing left to suggest
            assert rerun.inbound_units[key] == suggested.suggested_units[key] > 0
            assert rerun.suggested_units[key] == 0 and not rerun.needs_reorder[key]
        assert rerun.suggested_units[(gone, "WH-1")] > 0  # never drafted, still suggested
    finally:
        client.close()
        engine.dispose()


def test_reorder_without_drafts_and_its_refused_options(tmp_path: Path) -> None:
    root = str(tmp_path)
    publish(_forecast([(f"S-{uuid.uuid4().hex[:8]}", "WH-1")]), root, "1", "run")
    result = _reorder("--lake", root)
    assert result.exit_code == 0, result.output
    assert "1 to reorder" in result.output  # no stock at all: 35 units over the lead time
    lake_only = _reorder("--lake", root, "--ignore-open-orders")
    assert lake_only.exit_code == 0 and "1 to reorder" in lake_only.output
    for refused in (
        ["--draft-pos"],
        ["--supplier", "ACME"],
        ["--draft-pos", "--supplier", "ACME", "--ignore-open-orders"],
    ):
        answer = _reorder("--lake", root, *refused)
        assert answer.exit_code == 2, (refused, answer.output)
