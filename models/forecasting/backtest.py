"""Series from the lake's daily demand, and a rolling-origin backtest of the forecasters.

Models learn from SKU-level series (all warehouses together); a warehouse's forecast is the
SKU's times the warehouse's share of the SKU's recent sales (top-down), which keeps the number
of per-series fits (AutoETS: ~0.1 s each) at the catalogue's size.

Each held-out window also scores two references that are not candidates, so that a score can
be read against what the metric itself rewards: the all-zero forecast (on series that mostly
sell nothing, an absolute-error metric such as MASE rewards it) and a hindsight oracle that
knows each held-out day's total over the catalogue and splits it by each series' share of the
training units (no forecast made ahead can know the level better).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.calendar import KnownAhead
from models.features import ALL_WAREHOUSES
from models.forecasting.metrics import mase, mean_mase, rmsse, weighted_rmsse
from models.forecasting.models import MODELS, OUT, forecast

BASELINE = "seasonal_naive"
REFERENCES = ("zero", "hindsight")


def series(demand: pd.DataFrame) -> pd.DataFrame:
    """SKU-level series (unique_id = SKU) of whole days: y and the price ratio paid/list (the
    scores' revenue weights).

    The lake's latest day is left out: in a live lake it is today, and in a simulated history
    the day the simulation stopped, so its units so far would read as a slump (a backtest would
    judge every model on it, and the lags would start from it)."""
    sku = demand[demand.warehouse_id == ALL_WAREHOUSES]
    days = pd.to_datetime(sku.date)
    sku, days = sku[days < days.max()], days[days < days.max()]
    ratio = (sku.paid_price_cents / sku.list_price_cents).replace([np.inf, -np.inf], np.nan)
    return pd.DataFrame(
        {
            "unique_id": sku.sku.astype(str),
            "ds": days,
            "y": sku.units.astype(float),
            "price_ratio": ratio.fillna(1.0).clip(0.1, 2.0).astype(float),
        }
    ).sort_values(["unique_id", "ds"], ignore_index=True)


def warehouse_shares(demand: pd.DataFrame, days: int = 56) -> pd.DataFrame:
    """Each warehouse's share of each SKU's units over the last `days` days."""
    per_wh = demand[demand.warehouse_id != ALL_WAREHOUSES]
    if per_wh.empty:
        return pd.DataFrame(columns=["sku", "warehouse_id", "share"])
    recent = per_wh[
        pd.to_datetime(per_wh.date) > pd.to_datetime(per_wh.date).max() - pd.Timedelta(days=days)
    ]
    units = recent.groupby(["sku", "warehouse_id"], as_index=False).units.sum()
    totals = units.groupby("sku").units.transform("sum")
    units["share"] = np.where(totals > 0, units.units / totals.where(totals > 0, 1), 0.0)
    return units[units.share > 0][["sku", "warehouse_id", "share"]]


@dataclass
class Window:
    origin: pd.Timestamp
    mase: dict[str, float] = field(default_factory=dict)
    rmsse: dict[str, float] = field(default_factory=dict)
    # The references' scores (not candidates): {"zero": {"mase": .., "wrmsse": ..}, ...}.
    references: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class Backtest:
    windows: list[Window]
    horizon: int
    series: int

    @property
    def held_out(self) -> Window:
        """The last window: the most recent `horizon` days."""
        return self.windows[-1]

    def mean(self, metric: str, model: str) -> float:
        return float(np.mean([getattr(w, metric)[model] for w in self.windows]))


def score(
    fc: pd.DataFrame, actual: pd.DataFrame, train: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean MASE and revenue-weighted RMSSE of each model in `fc` against `actual`."""
    history = {k: g.y.to_numpy() for k, g in train.groupby("unique_id")}
    last = train[train.ds > train.ds.max() - pd.Timedelta(days=28)]
    weights = (last.y * last.price_ratio).groupby(last.unique_id).sum().to_dict()
    joined = fc.merge(actual[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
    mases, rmsses = {}, {}
    for model, rows in joined.groupby("model"):
        per_mase, per_rmsse = {}, {}
        for uid, g in rows.groupby("unique_id"):
            per_mase[str(uid)] = mase(g.y, g.units, history.get(uid, []))
            per_rmsse[str(uid)] = rmsse(g.y, g.units, history.get(uid, []))
        mases[str(model)] = mean_mase(per_mase)
        rmsses[str(model)] = weighted_rmsse(per_rmsse, weights)
    return mases, rmsses


def references(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The two references' forecasts for the test days (see the module's docstring)."""
    ids = train.unique_id.unique()
    days = np.sort(test.ds.unique())
    grid = pd.DataFrame({"unique_id": np.repeat(ids, len(days)), "ds": np.tile(days, len(ids))})
    total = train.y.sum()
    share = train.groupby("unique_id").y.sum() / (total if total > 0 else 1.0)
    per_day = test.groupby("ds").y.sum()
    hindsight = grid.unique_id.map(share).to_numpy() * grid.ds.map(per_day).fillna(0).to_numpy()
    zero, oracle = REFERENCES
    return pd.concat(
        [grid.assign(model=zero, units=0.0), grid.assign(model=oracle, units=hindsight)],
        ignore_index=True,
    )


def backtest(
    frame: pd.DataFrame,
    horizon: int,
    windows: int,
    models: tuple[str, ...] = MODELS,
    known: KnownAhead | None = None,
) -> Backtest:
    """Fit at `windows` origins `horizon` days apart, the last one `horizon` days before the
    end, and score each model on the days that followed its origin."""
    end = frame.ds.max()
    result = []
    for i in range(windows, 0, -1):
        origin = end - pd.Timedelta(days=horizon * i - 1)
        train = frame[frame.ds < origin]
        test = frame[(frame.ds >= origin) & (frame.ds < origin + pd.Timedelta(days=horizon))]
        keep = train.groupby("unique_id").y.transform("size") > 2 * 7
        train = train[keep]
        if train.empty or test.empty:
            continue
        fc = pd.concat([forecast(train, horizon, models, known), references(train, test)])
        m, r = score(fc, test, train)
        refs = {k: {"mase": m.pop(k), "wrmsse": r.pop(k)} for k in REFERENCES}
        result.append(Window(origin, m, r, refs))
    if not result:
        raise ValueError(f"not enough history for a {horizon}-day backtest")
    return Backtest(result, horizon, int(frame.unique_id.nunique()))


def by_warehouse(fc: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """SKU forecasts split onto warehouses by their shares; the SKU rows as warehouse 'ALL'."""
    sku = fc.assign(sku=fc.unique_id, warehouse_id=ALL_WAREHOUSES)
    split = fc.merge(shares, left_on="unique_id", right_on="sku", how="inner")
    for column in ("units", "lo_80", "hi_80", "lo_95", "hi_95"):
        split[column] = split[column] * split.share
    return pd.concat([sku, split.drop(columns="share")], ignore_index=True)[
        ["sku", "warehouse_id", *[c for c in OUT if c != "unique_id"]]
    ]
