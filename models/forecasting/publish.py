"""`shoplake forecast publish`: the champion's forecasts into `gold.demand_forecasts`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from models import lake_io
from shoplake.lake import DEMAND_FORECASTS


def to_gold(forecasts: pd.DataFrame, version: str | None, run_id: str | None) -> pd.DataFrame:
    frame = forecasts.copy()
    frame["forecast_date"] = pd.to_datetime(frame.ds).dt.date
    origin = pd.to_datetime(frame.origin_date)
    frame["horizon_day"] = (pd.to_datetime(frame.ds) - origin).dt.days.astype("int32") + 1
    frame["origin_date"] = origin.dt.date
    frame["forecast_key"] = (
        frame.sku.astype(str)
        + "|"
        + frame.warehouse_id.astype(str)
        + "|"
        + frame.forecast_date.astype(str)
    )
    frame["model_version"] = version
    frame["run_id"] = run_id
    frame["generated_at"] = datetime.now(UTC)
    return frame


def publish(
    forecasts: pd.DataFrame, lake_root: str, version: str | None, run_id: str | None
) -> int:
    """Replace the table with the champion's latest forecasts; the rows written."""
    return lake_io.write(to_gold(forecasts, version, run_id), DEMAND_FORECASTS, lake_root)
