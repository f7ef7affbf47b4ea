"""The champion rule: a new version wins only by beating the baseline and the champion."""

from __future__ import annotations

from models.champion import decide


def test_a_better_model_than_both_is_promoted() -> None:
    assert decide(0.30, 0.10, 0.25, higher_is_better=True, metric="ndcg").promote
    assert decide(0.30, 0.10, None, higher_is_better=True, metric="ndcg").promote


def test_a_worse_model_never_replaces_a_better_champion() -> None:
    decision = decide(0.20, 0.10, 0.25, higher_is_better=True, metric="ndcg")
    assert not decision.promote and "champion" in decision.reason
    # a tie is not a win either
    assert not decide(0.25, 0.10, 0.25, higher_is_better=True, metric="ndcg").promote


def test_a_model_that_does_not_beat_the_baseline_is_kept_out() -> None:
    decision = decide(0.09, 0.10, None, higher_is_better=True, metric="ndcg")
    assert not decision.promote and "baseline" in decision.reason


def test_lower_is_better_for_errors() -> None:
    assert decide(0.7, 1.0, 0.8, higher_is_better=False, metric="mase").promote
    assert not decide(0.9, 1.0, 0.8, higher_is_better=False, metric="mase").promote
    assert not decide(1.1, 1.0, None, higher_is_better=False, metric="mase").promote
