"""Forecasts on the real stack: train (backtest, MLflow, champion) → publish to gold → reorder."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from demo.planted_history import HistorySpec
from models import features, lake_io
from models.forecasting.publish import publish
from models.forecasting.reorder import suggestions
from models.forecasting.train import champion_forecasts, train
from shoplake.config import Settings
from shoplake.lake import DEMAND_FORECASTS
from shoplake.stack import Stack
from shoplake_cli.main import app
from tests.support.histories import planted_lake

SPEC = HistorySpec(users=600, products=20, categories=4, segments=2, days=100, seed=5)


def test_train_publish_and_reorder(stack: Stack, settings: Settings, tmp_path: Path) -> None:
    root, _ = planted_lake(tmp_path, SPEC)
    demand = features.daily_demand(root)
    small = settings.model_copy(
        update={"forecast_horizon_days": 14, "forecast_backtest_windows": 2}
    )
    name = f"test-forecast-{uuid.uuid4().hex[:8]}"
    run = train(small, demand, model_name=name)
    held = run.backtest.held_out
    assert set(held.mase) == {"seasonal_naive", "auto_ets", "lightgbm"}
    assert run.decision.promote == (held.mase[run.champion_model] < held.mase["seasonal_naive"])
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


def test_reorder_command_writes_suggestions_and_says_draft_pos_need_inbound_orders(
    tmp_path: Path,
) -> None:
    root = str(tmp_path)
    forecast = pd.DataFrame(
        {
            "sku": ["S1"] * 14,
            "warehouse_id": ["WH-1"] * 14,
            "ds": pd.date_range("2026-12-01", periods=14),
            "origin_date": pd.Timestamp("2026-12-01"),
            "model": "auto_ets",
            "units": 5.0,
            "lo_80": 3.0,
            "hi_80": 7.0,
            "lo_95": 2.0,
            "hi_95": 8.0,
        }
    )
    publish(forecast, root, "1", "run")
    result = CliRunner().invoke(app, ["forecast", "reorder", "--lake", root])
    assert result.exit_code == 0, result.output
    assert "1 to reorder" in result.output  # no stock at all: 35 units over the lead time
    drafted = CliRunner().invoke(app, ["forecast", "reorder", "--lake", root, "--draft-pos"])
    assert drafted.exit_code == 2 and "inbound purchase orders" in drafted.output
