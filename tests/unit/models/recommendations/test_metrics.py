"""Each ranking metric on lists small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from models.recommendations.metrics import (
    average_precision_at_k,
    catalog_coverage,
    ndcg_at_k,
    ranking_metrics,
    recall_at_k,
)


def test_recall_counts_the_relevant_items_found_in_the_top_k() -> None:
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert recall_at_k(["a"], set(), 10) == 0.0


def test_ndcg_discounts_hits_by_their_rank_against_the_ideal_list() -> None:
    # hits at ranks 2 and 3: 1/log2(3) + 1/log2(4); ideal for 2 relevant: 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / 2) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 3) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b", "x"], {"a", "b"}, 3) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0


def test_average_precision_averages_precision_at_each_hit() -> None:
    # hits at ranks 1 and 3: (1/1 + 2/3) / min(3 relevant, k=3)
    assert average_precision_at_k(["a", "x", "b"], {"a", "b", "c"}, 3) == pytest.approx(
        (1 + 2 / 3) / 3
    )
    # one relevant item found first: perfect whatever k is
    assert average_precision_at_k(["a", "x"], {"a"}, 10) == pytest.approx(1.0)


def test_coverage_is_the_share_of_the_catalog_in_any_list() -> None:
    assert catalog_coverage([["a", "b"], ["b", "c"]], 10) == pytest.approx(0.3)
    assert catalog_coverage([], 0) == 0.0


def test_ranking_metrics_average_over_users() -> None:
    metrics = ranking_metrics([["a", "b"], ["c", "d"]], [{"a"}, {"x"}], catalog_size=8)
    assert metrics.recall_at_20 == pytest.approx(0.5)
    assert metrics.ndcg_at_10 == pytest.approx(0.5)
    assert metrics.map_at_10 == pytest.approx(0.5)
    assert metrics.coverage == pytest.approx(0.5)
    assert metrics.users == 2
