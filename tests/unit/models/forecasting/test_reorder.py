"""Reorder suggestions with units on order, and the reorder run's two seams (units on order in,
drafts out) on a lake in a temporary directory, with in-memory stand-ins for serving."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from models import lake_io
from models.commands import reorder
from models.forecasting.publish import publish
from models.forecasting.reorder import suggestions
from shoplake.config import Settings
from shoplake.lake import DEMAND_FORECASTS, REORDER_SUGGESTIONS

DAYS = 14
NO_STOCK = pd.DataFrame(
    {
        "sku": pd.Series(dtype=str),
        "warehouse_id": pd.Series(dtype=str),
        "on_hand": pd.Series(dtype="int64"),
        "reserved": pd.Series(dtype="int64"),
    }
)


def _forecast() -> pd.DataFrame:
    """5 units a day of S1 in WH-1, 14 days on."""
    return pd.DataFrame(
        {
            "sku": ["S1"] * DAYS,
            "warehouse_id": ["WH-1"] * DAYS,
            "ds": pd.date_range("2026-12-01", periods=DAYS),
            "origin_date": pd.Timestamp("2026-12-01"),
            "model": "auto_ets",
            "units": 5.0,
            "lo_80": 3.0,
            "hi_80": 7.0,
            "lo_95": 2.0,
            "hi_95": 8.0,
        }
    )


def _on_order(units: int) -> pd.DataFrame:
    return pd.DataFrame({"sku": ["S1"], "warehouse_id": ["WH-1"], "units": [units]})


def _suggest(root: str, inbound: pd.DataFrame | None) -> pd.Series:
    frame = suggestions(
        lake_io.read(DEMAND_FORECASTS, root),
        NO_STOCK,
        lead_time_days=7,
        review_days=7,
        service_level=0.95,
        inbound=inbound,
    )
    row: pd.Series = frame.set_index(["sku", "warehouse_id"]).loc[("S1", "WH-1")]
    return row


def test_units_on_order_lower_the_suggestion_and_enough_of_them_stop_it(tmp_path: Path) -> None:
    root = str(tmp_path)
    publish(_forecast(), root, "3", "run")
    alone = _suggest(root, None)
    assert alone.needs_reorder and alone.suggested_units > 30  # 70 units over 14 days, no stock
    partly = _suggest(root, _on_order(20))
    assert partly.inbound_units == 20
    assert partly.suggested_units == alone.suggested_units - 20
    covered = _suggest(root, _on_order(int(alone.suggested_units)))
    assert not covered.needs_reorder and covered.suggested_units == 0


def test_the_run_counts_units_on_order_and_hands_the_stamped_suggestions_to_the_drafter(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lake"
    publish(_forecast(), str(root), "3", "run")
    settings = Settings(_env_file=None, forecast_lead_time_days=7, forecast_review_days=7)
    handed: list[pd.DataFrame] = []

    def draft(stamped: pd.DataFrame) -> list[str]:
        handed.append(stamped)
        return ["po-1"]

    run = reorder(settings, root, units_on_order=lambda: _on_order(20), draft=draft)
    assert run.drafts == ["po-1"] and run.inbound_units == 20 and run.to_reorder == 1
    (stamped,) = handed
    assert set(stamped.model_version) == {"3"} and stamped.generated_at.notna().all()
    gold = lake_io.read(REORDER_SUGGESTIONS, str(root))
    assert gold.inbound_units.tolist() == [20]
    assert gold.suggested_units.tolist() == stamped.suggested_units.tolist() == [run.units]


def test_the_run_without_seams_only_writes_suggestions(tmp_path: Path) -> None:
    publish(_forecast(), str(tmp_path), "3", "run")
    run = reorder(Settings(_env_file=None), tmp_path)
    assert run.drafts == [] and run.inbound_units == 0 and run.rows == 1
