"""The forecasters, each answering the same long frame: unique_id, ds, model, units and the
80% / 95% interval bounds.

- seasonal naive (the baseline): last week's same weekday (statsforecast);
- AutoETS per series (statsforecast), weekly season;
- one global LightGBM (mlforecast) over every series: lags, rolling means, calendar features,
  and the price and promotion of the day as exogenous features (the future assumes the list
  price and no promotion); conformal intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = [80, 95]
SEASON = 7
MODELS = ("seasonal_naive", "auto_ets", "lightgbm")
OUT = ["unique_id", "ds", "model", "units", "lo_80", "hi_80", "lo_95", "hi_95"]


def _long(frame: pd.DataFrame, column: str, model: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "unique_id": frame.unique_id.astype(str),
            "ds": pd.to_datetime(frame.ds),
            "model": model,
            "units": frame[column].clip(lower=0),
        }
    )
    for level in LEVELS:
        lo, hi = f"{column}-lo-{level}", f"{column}-hi-{level}"
        out[f"lo_{level}"] = frame[lo].clip(lower=0) if lo in frame else out.units
        out[f"hi_{level}"] = frame[hi].clip(lower=0) if hi in frame else out.units
    return out[OUT]


def statistical(train: pd.DataFrame, h: int, *, ets: bool = True) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS, SeasonalNaive

    models: list[object] = [SeasonalNaive(season_length=SEASON)]
    if ets:
        models.append(AutoETS(season_length=SEASON))
    sf = StatsForecast(models=models, freq="D", n_jobs=1)
    fc = sf.forecast(df=train[["unique_id", "ds", "y"]], h=h, level=LEVELS).reset_index()
    frames = [_long(fc, "SeasonalNaive", "seasonal_naive")]
    if ets:
        frames.append(_long(fc, "AutoETS", "auto_ets"))
    return pd.concat(frames, ignore_index=True)


def _future_exog(train: pd.DataFrame, h: int) -> pd.DataFrame:
    last = train.ds.max()
    days = pd.date_range(last + pd.Timedelta(days=1), periods=h, freq="D")
    ids = train.unique_id.unique()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h),
            "ds": np.tile(days, len(ids)),
            "price_ratio": 1.0,
            "promo": 0.0,
        }
    )


def lightgbm(train: pd.DataFrame, h: int, seed: int = 7) -> pd.DataFrame:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.utils import PredictionIntervals

    # Conformal intervals need two windows of h days beyond the longest lag; shorter histories
    # get a Poisson approximation around the point forecast instead.
    shortest = int(train.groupby("unique_id").size().min())
    conformal = shortest > 2 * h + 35
    forecaster = MLForecast(
        models={
            "lightgbm": lgb.LGBMRegressor(
                n_estimators=200,
                learning_rate=0.05,
                num_leaves=31,
                min_child_samples=20,
                objective="tweedie",
                random_state=seed,
                n_jobs=1,
                verbose=-1,
            )
        },
        freq="D",
        lags=[7, 14, 28],
        lag_transforms={7: [RollingMean(window_size=7), RollingMean(window_size=28)]},
        date_features=["dayofweek", "day", "month"],
    )
    columns = ["unique_id", "ds", "y", "price_ratio", "promo"]
    forecaster.fit(
        train[columns],
        static_features=[],
        prediction_intervals=PredictionIntervals(n_windows=2, h=h) if conformal else None,
    )
    levels = [float(v) for v in LEVELS] if conformal else None
    fc = forecaster.predict(h, level=levels, X_df=_future_exog(train, h))
    if not conformal:
        spread = np.sqrt(fc.lightgbm.clip(lower=0))
        for level, z in ((80, 1.2816), (95, 1.96)):
            fc[f"lightgbm-lo-{level}"] = fc.lightgbm - z * spread
            fc[f"lightgbm-hi-{level}"] = fc.lightgbm + z * spread
    return _long(fc, "lightgbm", "lightgbm")


def forecast(train: pd.DataFrame, h: int, models: tuple[str, ...] = MODELS) -> pd.DataFrame:
    """Every requested model's forecast for the h days after the training data."""
    frames = [statistical(train, h, ets="auto_ets" in models)]
    if "lightgbm" in models:
        frames.append(lightgbm(train, h))
    out = pd.concat(frames, ignore_index=True)
    return out[out.model.isin(models)].reset_index(drop=True)
