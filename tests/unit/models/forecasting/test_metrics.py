"""MASE, RMSSE and the weighted RMSSE on series small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from models.forecasting.metrics import mase, mean_mase, rmsse, weighted_rmsse


def test_mase_scales_the_error_by_the_seasonal_naive_in_sample() -> None:
    history = [1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9]  # |y_t - y_t-7| = 2 everywhere
    assert mase([10, 10], [9, 12], history) == pytest.approx(((1 + 2) / 2) / 2)
    assert mase([1], [1], [5] * 10) is None  # a constant history has no scale
    assert mase([1], [1], [1, 2]) is None  # too short for a season


def test_rmsse_scales_by_the_one_step_naive() -> None:
    history = [0, 2, 0, 2]  # squared one-step differences: 4 each
    assert rmsse([3, 1], [1, 1], history) == pytest.approx(math.sqrt((4 + 0) / 2 / 4))


def test_weights_favour_the_series_that_sell_more() -> None:
    assert weighted_rmsse({"a": 1.0, "b": 3.0, "c": None}, {"a": 3, "b": 1, "c": 5}) == (
        pytest.approx((3 * 1.0 + 1 * 3.0) / 4)
    )
    assert mean_mase({"a": 1.0, "b": None, "c": 0.5}) == pytest.approx(0.75)
