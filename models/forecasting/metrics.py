"""Forecast accuracy, scaled so that series of any size count alike; pure functions.

MASE divides the forecast's mean absolute error by the in-sample mean absolute error of the
seasonal naive forecast (season 7); RMSSE divides the root mean squared error by the in-sample
one-step naive's (the M5 definition), and the catalogue's weighted RMSSE weights each series by
its share of recent revenue. Series whose scale is zero (constant history) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def mase(
    actual: Sequence[float], forecast: Sequence[float], history: Sequence[float], season: int = 7
) -> float | None:
    y, f, h = np.asarray(actual, float), np.asarray(forecast, float), np.asarray(history, float)
    if len(h) <= season:
        return None
    scale = np.mean(np.abs(h[season:] - h[:-season]))
    if scale == 0:
        return None
    return float(np.mean(np.abs(y - f)) / scale)


def rmsse(
    actual: Sequence[float], forecast: Sequence[float], history: Sequence[float]
) -> float | None:
    y, f, h = np.asarray(actual, float), np.asarray(forecast, float), np.asarray(history, float)
    if len(h) < 2:
        return None
    scale = np.mean((h[1:] - h[:-1]) ** 2)
    if scale == 0:
        return None
    return float(np.sqrt(np.mean((y - f) ** 2) / scale))


def mean_mase(scores: Mapping[str, float | None]) -> float:
    kept = [s for s in scores.values() if s is not None]
    return float(np.mean(kept)) if kept else float("nan")


def weighted_rmsse(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> float:
    """sum(w_i RMSSE_i) / sum(w_i) over the series that have a score."""
    kept = {k: s for k, s in scores.items() if s is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in kept)
    if total == 0:
        return float("nan")
    return float(sum(weights[k] * s for k, s in kept.items()) / total)
