"""The models benchmark's rows in the one table, from a result shaped like `benchmarks.models`
writes, and the history a `--keep` run leaves for `--lake`. Pure: no benchmark runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import _models
from benchmarks.models import KEPT_LAKE, keep_history, kept_history
from benchmarks.report import Row, Verdict, table
from demo.history.world import HistoryParams

CEILING = "recs Recall@20 ceiling (the simulator's own taste + recent interest)"
WRMSSE = "forecast champion WRMSSE, held-out 4 weeks"
ZERO = "forecast MASE of the all-zero forecast (reference)"
HINDSIGHT = "forecast MASE of a hindsight oracle (knows each held-out day's total)"


def _result() -> dict[str, Any]:
    popularity = {"ndcg_at_10": 0.1, "recall_at_20": 0.2}
    return {
        "history": {"interactions": 1000},
        "recommendations": {
            "end_to_end_seconds": 100.0,
            "metrics": {"popularity": popularity},
            "champion": {"ndcg_at_10": 0.18, "recall_at_20": 0.34, "coverage": 0.4},
            "ceiling": {
                "taste": {"recall_at_20": 0.35, "ndcg_at_10": 0.2},
                "taste_and_interest": {
                    "recall_at_20": 0.38,
                    "ndcg_at_10": 0.22,
                    "interest_weight": 0.5,
                },
                "best_recall_at_20": 0.38,
                "recall_ratio": 1.9,
                "champion_share": 0.89,
            },
        },
        "forecasts": {
            "champion_mase": 0.7,
            "seasonal_naive_mase": 1.0,
            "champion_wrmsse": 0.6,
            "seasonal_naive_wrmsse": 0.8,
            "references": {
                "zero": {"mase": 1.3, "wrmsse": 1.1},
                "hindsight": {"mase": 0.4, "wrmsse": 0.3},
            },
        },
    }


def _by_figure(rows: list[Row]) -> dict[str, Row]:
    return {row.figure: row for row in rows}


def test_the_ceiling_and_the_forecast_references_get_rows_without_goals() -> None:
    rows = _by_figure(_models(_result(), {}, False))
    ceiling = rows[CEILING]
    assert (ceiling.value, ceiling.baseline, ceiling.baseline_name) == (0.38, 0.2, "popularity")
    assert ceiling.ratio == pytest.approx(1.9)
    assert (rows[WRMSSE].value, rows[WRMSSE].baseline) == (0.6, 0.8)
    assert (rows[ZERO].value, rows[ZERO].baseline) == (1.3, 1.0)
    assert (rows[HINDSIGHT].value, rows[HINDSIGHT].baseline) == (0.4, 1.0)
    for figure in (CEILING, WRMSSE, ZERO, HINDSIGHT):
        assert rows[figure].goal is None and rows[figure].verdict is Verdict.NO_GOAL
    # The MASE goal is untouched: 0.7 of seasonal naive meets "ratio <= 0.8".
    assert rows["forecast champion MASE, held-out 4 weeks"].verdict is Verdict.MET
    assert CEILING in table(list(rows.values()))


def test_a_result_from_before_the_ceiling_and_references_reads_as_not_measured() -> None:
    old = _result()
    del old["recommendations"]["ceiling"]
    for key in ("champion_wrmsse", "seasonal_naive_wrmsse", "references"):
        del old["forecasts"][key]
    rows = _by_figure(_models(old, {}, False))
    for figure in (CEILING, WRMSSE, ZERO, HINDSIGHT):
        assert rows[figure].verdict is Verdict.NOT_MEASURED
    assert rows["forecast champion MASE, held-out 4 weeks"].verdict is Verdict.MET


def test_a_kept_history_gives_back_its_params_and_lake(tmp_path: Path) -> None:
    params = HistoryParams(
        days=30, users=50, products=40, seed=11, end=datetime(2026, 12, 1, tzinfo=UTC)
    )
    (tmp_path / KEPT_LAKE).mkdir()
    keep_history(tmp_path, params)
    assert kept_history(tmp_path) == (params, str(tmp_path / KEPT_LAKE))


def test_a_folder_without_a_kept_history_is_refused(tmp_path: Path) -> None:
    keep_history(tmp_path, HistoryParams())  # the parameters, but no lake beside them
    with pytest.raises(SystemExit):
        kept_history(tmp_path)
