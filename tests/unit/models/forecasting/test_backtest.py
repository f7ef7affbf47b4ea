"""The series the forecasters learn from, the backtest's references, and LightGBM's use of what
is known ahead (a planned promotion)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.calendar import KnownAhead
from models.features import ALL_WAREHOUSES
from models.forecasting.backtest import references, score, series
from models.forecasting.models import lightgbm


def demand(days: int, units: float = 2.0) -> pd.DataFrame:
    dates = pd.date_range("2026-10-01", periods=days)
    return pd.DataFrame(
        {
            "sku": "SKU-1",
            "warehouse_id": ALL_WAREHOUSES,
            "date": dates,
            "units": units,
            "list_price_cents": 1000,
            "paid_price_cents": 1000,
            "promotion_active": False,
            "stocked_out": False,
        }
    )


def test_the_series_leave_out_the_lakes_latest_day_which_is_not_over() -> None:
    frame = demand(10)
    frame.loc[frame.index[-1], "units"] = 0.3  # today so far
    out = series(frame)
    assert out.ds.max() == pd.Timestamp("2026-10-09")
    assert len(out) == 9 and (out.y == 2.0).all()


def test_the_references_are_zero_and_each_days_total_split_by_training_share() -> None:
    train = pd.DataFrame(
        {
            "unique_id": ["A"] * 3 + ["B"] * 3,
            "ds": list(pd.date_range("2026-10-01", periods=3)) * 2,
            "y": [3.0, 3.0, 3.0, 1.0, 1.0, 1.0],
        }
    )
    test = pd.DataFrame(
        {
            "unique_id": ["A", "A", "B", "B"],
            "ds": list(pd.date_range("2026-10-04", periods=2)) * 2,
            "y": [10.0, 2.0, 6.0, 2.0],
        }
    )
    ref = references(train, test)
    assert (ref[ref.model == "zero"].units == 0).all()
    hindsight = ref[ref.model == "hindsight"].set_index(["unique_id", "ds"]).units
    assert hindsight[("A", pd.Timestamp("2026-10-04"))] == 12.0  # 3/4 of 16
    assert hindsight[("B", pd.Timestamp("2026-10-05"))] == 1.0  # 1/4 of 4
    mase, _ = score(ref, test, train.assign(price_ratio=1.0))
    assert set(mase) == {"zero", "hindsight"}


def test_lightgbm_forecasts_a_planned_promotion_and_ignores_it_without_the_calendar() -> None:
    # 30 series sell ~2 a day and ~6 on the days of a promotion planned ahead; the last three
    # of the 14 days forecast carry a promotion too.
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-05-01", periods=150)
    future = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=14)
    promo_days = set(rng.choice(days, 20, replace=False)) | set(future[-3:])
    ids = [f"SKU-{n}" for n in range(30)]
    calendar = pd.DataFrame(
        [(sku, day, 0.2) for sku in ids for day in sorted(promo_days)],
        columns=["sku", "date", "discount"],
    )
    known = KnownAhead(calendar, pd.DataFrame(columns=["date"]))
    train = pd.DataFrame(
        [
            (sku, day, float(rng.poisson(6.0 if day in promo_days else 2.0)))
            for sku in ids
            for day in days
        ],
        columns=["unique_id", "ds", "y"],
    )

    def mean_on(fc: pd.DataFrame, promo: bool) -> float:
        on = fc.ds.isin(future[-3:])
        return float(fc[on if promo else ~on].units.mean())

    informed = lightgbm(train, 14, known)
    assert mean_on(informed, True) > 2 * mean_on(informed, False)
    blind = lightgbm(train, 14)
    assert mean_on(blind, True) < 1.5 * mean_on(blind, False)
