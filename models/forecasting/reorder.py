"""`shoplake forecast reorder`: reorder suggestions per SKU x warehouse from the forecasts.

Projected stock = available - forecast demand over the lead time (+ units already inbound: what
the open purchase orders still bring);
safety stock = z(service level) x sigma over the lead time, sigma per day read off the 95%
forecast interval; reorder when projected stock falls below the safety stock, for enough units
to cover the lead time and the review period plus the safety stock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from statistics import NormalDist

import numpy as np
import pandas as pd

from models import lake_io
from shoplake.lake import DEMAND_FORECASTS, REORDER_SUGGESTIONS

# Purchase orders are serving's, which models may not import: the composition root
# (`shoplake_cli/drafts.py`) hands in both ends. The drafter is given the stamped suggestions
# (every row, with `model_version` and `generated_at`) and answers the ids of the drafts it made.
DraftPurchaseOrders = Callable[[pd.DataFrame], list[str]]
# Units on open purchase orders not yet received: a frame of sku, warehouse_id, units.
UnitsOnOrder = Callable[[], pd.DataFrame]


def suggestions(
    forecasts: pd.DataFrame,
    stock: pd.DataFrame,
    *,
    lead_time_days: int,
    review_days: int,
    service_level: float,
    inbound: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per SKU x warehouse that holds stock or has a forecast."""
    z = NormalDist().inv_cdf(service_level)
    fc = forecasts[forecasts.warehouse_id != "ALL"].copy()
    fc["sigma"] = (fc.hi_95 - fc.units).clip(lower=0) / NormalDist().inv_cdf(0.975)
    lead = (
        fc[fc.horizon_day <= lead_time_days]
        .groupby(["sku", "warehouse_id"])
        .agg(demand_lead_time=("units", "sum"), var=("sigma", lambda s: float((s**2).sum())))
    )
    cover = (
        fc[fc.horizon_day <= lead_time_days + review_days]
        .groupby(["sku", "warehouse_id"])
        .units.sum()
        .rename("demand_cover")
    )
    frame = stock.set_index(["sku", "warehouse_id"]).join([lead, cover], how="outer").reset_index()
    frame[["on_hand", "reserved"]] = frame[["on_hand", "reserved"]].fillna(0).astype(np.int64)
    frame[["demand_lead_time", "demand_cover", "var"]] = frame[
        ["demand_lead_time", "demand_cover", "var"]
    ].fillna(0.0)
    incoming = (
        inbound.groupby(["sku", "warehouse_id"]).units.sum()
        if inbound is not None and not inbound.empty
        else pd.Series(dtype=float)
    )
    frame["inbound_units"] = [
        int(incoming.get((s, w), 0)) for s, w in zip(frame.sku, frame.warehouse_id, strict=True)
    ]
    frame["available"] = frame.on_hand - frame.reserved
    frame["sigma_lead_time"] = np.sqrt(frame["var"])
    frame["safety_stock"] = z * frame.sigma_lead_time
    frame["reorder_point"] = frame.demand_lead_time + frame.safety_stock
    frame["projected_stock"] = frame.available + frame.inbound_units - frame.demand_lead_time
    frame["needs_reorder"] = frame.projected_stock < frame.safety_stock
    wanted = frame.demand_cover + frame.safety_stock - frame.available - frame.inbound_units
    frame["suggested_units"] = np.where(
        frame.needs_reorder, np.ceil(wanted.clip(lower=0)), 0
    ).astype(np.int64)
    frame["lead_time_days"] = lead_time_days
    frame["review_days"] = review_days
    frame["service_level"] = service_level
    return frame.drop(columns="var")


def stamp(frame: pd.DataFrame, as_of: datetime, version: str | None) -> pd.DataFrame:
    """The suggestions as gold keeps them: keyed, dated, and named after the model version."""
    out = frame.copy()
    out["as_of_date"] = as_of.date()
    out["suggestion_key"] = out.sku.astype(str) + "|" + out.warehouse_id.astype(str)
    out["model_version"] = version
    out["generated_at"] = datetime.now(UTC)
    return out


def write(frame: pd.DataFrame, lake_root: str, as_of: datetime, version: str | None) -> int:
    return lake_io.write(stamp(frame, as_of, version), REORDER_SUGGESTIONS, lake_root)


def write_stamped(stamped: pd.DataFrame, lake_root: str) -> int:
    return lake_io.write(stamped, REORDER_SUGGESTIONS, lake_root)


def read_forecasts(lake_root: str) -> pd.DataFrame:
    return lake_io.read(DEMAND_FORECASTS, lake_root)
