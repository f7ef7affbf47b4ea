"""The benchmark report's logic: ratios, verdicts on a figure or on its ratio, the table, the
summary and the README block rebuilt from it. Pure: no benchmark runs."""

from __future__ import annotations

import json

import pytest

from benchmarks.__main__ import dig, select
from benchmarks.readme_table import END, START, render
from benchmarks.report import (
    Goal,
    Row,
    Run,
    Verdict,
    kept_runs,
    markdown,
    replace_block,
    rows_of,
    summary,
    table,
)


def test_a_goal_on_the_figure_is_judged_on_the_figure() -> None:
    assert Row("b", "attempts/s", 1200, goal=Goal(">=", 1000)).verdict is Verdict.MET
    assert Row("b", "attempts/s", 999, goal=Goal(">=", 1000)).verdict is Verdict.MISSED
    assert Row("b", "p99", 249.9, "ms", goal=Goal("<", 250)).verdict is Verdict.MET
    assert Row("b", "p99", 250, "ms", goal=Goal("<", 250)).verdict is Verdict.MISSED
    assert Row("b", "oversold", 0, goal=Goal("==", 0)).verdict is Verdict.MET
    assert Row("b", "oversold", 1, goal=Goal("==", 0)).verdict is Verdict.MISSED


def test_a_goal_on_the_ratio_is_judged_against_the_in_run_baseline() -> None:
    row = Row("f", "GET", 600, baseline=1000, baseline_name="floor", goal=Goal(">=", 0.5, "ratio"))
    assert row.ratio == pytest.approx(0.6)
    assert row.verdict is Verdict.MET
    worse = Row("f", "GET", 230, baseline=1000, goal=Goal(">=", 0.5, "ratio"))
    assert worse.verdict is Verdict.MISSED
    # Lower is better for latency ratios.
    search = Row("s", "p99", 180, baseline=100, goal=Goal("<=", 1.5, "ratio"))
    assert search.verdict is Verdict.MISSED


def test_a_missing_figure_or_baseline_is_not_measured_never_met() -> None:
    assert Row("b", "x", None, goal=Goal(">=", 1)).verdict is Verdict.NOT_MEASURED
    assert Row("b", "x", 5, goal=Goal(">=", 0.5, "ratio")).verdict is Verdict.NOT_MEASURED
    assert Row("b", "x", 5, baseline=0, goal=Goal(">=", 0.5, "ratio")).ratio is None
    assert Row("b", "x", 5).verdict is Verdict.NO_GOAL
    assert Row("b", "x", None).verdict is Verdict.NOT_MEASURED


def test_the_table_has_one_line_per_row_with_every_column() -> None:
    rows = [
        Row(
            "api_floor", "GET", 620.4, "req/s", 1240.8, "minimal FastAPI", Goal(">=", 0.5, "ratio")
        ),
        Row("flash_sale", "oversold", 0, goal=Goal("==", 0)),
    ]
    lines = table(rows).splitlines()
    assert len(lines) == 4  # header, rule, two rows
    assert lines[0].split() == [
        "benchmark",
        "figure",
        "value",
        "in-run",
        "baseline",
        "ratio",
        "goal",
        "verdict",
    ]
    assert "620 req/s" in lines[2] and "1,241 (minimal FastAPI)" in lines[2]
    assert "0.50" in lines[2] and "ratio >= 0.5" in lines[2] and lines[2].rstrip().endswith("met")
    assert markdown(rows).count("\n") == 3


def test_the_summary_counts_verdicts_and_gives_its_rows_back() -> None:
    rows = [
        Row("a", "x", 2, goal=Goal(">=", 1)),
        Row("a", "y", 0, goal=Goal(">", 1)),
        Row("b", "z", None, goal=Goal("<", 250)),
        Row("b", "w", 3, baseline=6, baseline_name="floor", goal=Goal(">=", 0.5, "ratio")),
    ]
    runs = [Run("a", True, 1.0, rows[:2]), Run("b", False, 2.0, rows[2:], error="exit 1")]
    report = summary(runs, size="quick", machine={"cpus": 2}, at="2026-12-01T12:00:00+00:00")
    assert report["goals"] == {"met": 2, "missed": 1, "not_measured": 1}
    assert [r["verdict"] for r in report["rows"]] == ["met", "missed", "not measured", "met"]
    assert report["runs"][1] == {
        "benchmark": "b",
        "ok": False,
        "seconds": 2.0,
        "error": "exit 1",
        "result_file": "",
    }
    back = rows_of(json.loads(json.dumps(report)))
    assert back == rows


def test_the_readme_block_is_replaced_between_its_markers_only() -> None:
    report = summary(
        [Run("a", True, 1.0, [Row("a", "x", 2, goal=Goal(">=", 1))])],
        size="full",
        machine={"cpus": 2, "load_average": [3.0, 2.0, 1.0]},
        at="2026-12-01T12:00:00+00:00",
    )
    readme = f"# title\n\nbefore\n{START}\nold table\n{END}\nafter\n"
    new = replace_block(readme, render(report), START, END)
    assert new.startswith("# title\n\nbefore\n") and new.endswith(f"{END}\nafter\n")
    assert "old table" not in new and "| a | x | 2 |" in new and "met 1" in new
    with pytest.raises(ValueError):
        replace_block("no markers", "x", START, END)


def test_figures_are_dug_out_of_results_or_none() -> None:
    result = {"api": {"requests_per_s": 612.5}, "runs": [{"bronze_events_per_s": 9000}], "ok": True}
    assert dig(result, "api", "requests_per_s") == 612.5
    assert dig(result, "runs", 0, "bronze_events_per_s") == 9000
    assert dig(result, "runs", 3, "bronze_events_per_s") is None
    assert dig(result, "missing") is None
    assert dig(result, "ok") is None  # a boolean is not a figure


def test_outages_run_only_when_named_and_unknown_names_are_refused() -> None:
    assert "outages" not in [b.name for b in select([], [])]
    assert [b.name for b in select(["outages"], [])] == ["outages"]
    assert "flash_sale" not in [b.name for b in select([], ["flash_sale"])]
    with pytest.raises(SystemExit):
        select(["no_such_benchmark"], [])


def test_a_merge_keeps_the_rows_of_the_benchmarks_not_run_again() -> None:
    earlier = [
        Run("baselines", True, 5.0, [Row("baselines", "Redis GET", 5000, "/s")]),
        Run("gold", True, 900.0, [Row("gold", "full dbt build", 700, "s", goal=Goal("<", 600))]),
    ]
    previous = json.loads(json.dumps(summary(earlier, size="full", machine={}, at="t0")))
    faster = Row("gold", "full dbt build", 500, "s", goal=Goal("<", 600))
    fresh = [Run("gold", True, 800.0, [faster])]
    merged = kept_runs(previous, fresh) + fresh
    assert [r.benchmark for r in merged] == ["baselines", "gold"]
    assert [row.value for run in merged for row in run.rows] == [5000, 500]
    assert summary(merged, size="full", machine={}, at="t1")["goals"]["met"] == 1
