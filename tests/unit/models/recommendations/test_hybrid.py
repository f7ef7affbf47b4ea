"""The blend's pure parts on matrices small enough to check by hand, its bundle round trip, and
the validation split it is tuned on."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.features import RecsData
from models.recommendations.artifact import Bundle
from models.recommendations.evaluate import evaluate, split, validation
from models.recommendations.factorization import FactorParams, ImplicitFactors
from models.recommendations.hybrid import BlendParams, Hybrid, keep_top, scale_rows
from models.recommendations.matrix import Index, weighted_matrix
from models.recommendations.publish import build_lists
from models.recommendations.train import fit_full
from shoplake.recommendations import Reason


def test_scale_rows_divides_each_row_by_its_largest_magnitude() -> None:
    scaled = scale_rows(np.array([[2.0, 1.0, 0.0], [-4.0, 2.0, 1.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(scaled, [[1.0, 0.5, 0.0], [-1.0, 0.5, 0.25], [0.0, 0.0, 0.0]])


def test_keep_top_keeps_the_k_largest_of_each_row_ties_by_column() -> None:
    similarity = sp.csr_matrix(np.array([[0.0, 0.2, 0.9, 0.2], [0.5, 0.0, 0.0, 0.0]]))
    kept = keep_top(similarity, 2).toarray()
    np.testing.assert_allclose(kept, [[0.0, 0.2, 0.9, 0.0], [0.5, 0.0, 0.0, 0.0]])


def _hybrid(params: BlendParams) -> Hybrid:
    # 2 users x 3 items; the factorisation prefers item 0 for both users.
    factors = ImplicitFactors(np.array([[1.0], [2.0]]), np.array([[1.0], [0.5], [0.0]]), "x")
    weighted = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    interest = sp.csr_matrix(np.array([[0.0, 0.0, 4.0], [0.0, 2.0, 1.0]]))
    similarity = sp.csr_matrix(np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    return Hybrid.fit(factors, weighted, interest, similarity, params)


def test_the_hybrid_adds_the_scaled_parts_by_their_weights() -> None:
    hybrid = _hybrid(BlendParams(interest_weight=2.0, neighbour_weight=0.5))
    scores = hybrid.scores(np.array([0, 1]))
    # user 0: factors [1, .5, 0] + 2 x interest [0, 0, 1] + .5 x neighbours [0, 0, 1]
    # user 1: factors [1, .5, 0] + 2 x interest [0, 1, .5] + .5 x neighbours (none) [0, 0, 0]
    np.testing.assert_allclose(scores, [[1.0, 0.5, 2.5], [1.0, 2.5, 1.0]])
    best = hybrid.recommend(np.array([0, 1]), 2, sp.csr_matrix((2, 3)))
    assert best.tolist() == [[2, 0], [1, 0]]


def test_the_hybrid_never_recommends_an_excluded_item() -> None:
    hybrid = _hybrid(BlendParams(interest_weight=2.0, neighbour_weight=0.5))
    exclude = sp.csr_matrix(np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]))
    best = hybrid.recommend(np.array([0, 1]), 3, exclude)
    assert best.tolist() == [[0, 1, -1], [-1, -1, -1]]


def test_with_no_weights_the_hybrid_ranks_as_the_factorisation() -> None:
    hybrid = _hybrid(BlendParams(interest_weight=0.0, neighbour_weight=0.0))
    rows = np.array([0, 1])
    np.testing.assert_allclose(hybrid.scores(rows), scale_rows(hybrid.factors.scores(rows)))


def test_a_bundle_keeps_its_blend_through_save_and_load(tmp_path: Path) -> None:
    params = BlendParams(interest_weight=2.0, neighbour_weight=0.5, interest_kinds={"cart": 7.0})
    hybrid = _hybrid(params)
    items = np.array(["a", "b", "c"], dtype=object)
    users = np.array(["u", "v"], dtype=object)
    bundle = Bundle(hybrid.factors, users, items, {"model": "als", **asdict(params)}, hybrid)
    loaded = Bundle.load(bundle.save(tmp_path / "b"))
    assert loaded.blend is not None and loaded.blend.params == params
    np.testing.assert_allclose(loaded.scores(np.array([0, 1])), bundle.scores(np.array([0, 1])))
    alone = Bundle(hybrid.factors, bundle.users, items, {})
    reloaded = Bundle.load(alone.save(tmp_path / "alone"))
    assert reloaded.blend is None
    np.testing.assert_allclose(reloaded.scores(np.array([1])), hybrid.factors.scores(np.array([1])))


def _frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "sku", "kind", "event_time"])
    frame["event_time"] = pd.to_datetime(frame.event_time, utc=True)
    frame["session_id"] = "s-" + frame.user_id + frame.event_time.dt.strftime("%d")
    frame["order_id"] = None
    return frame


def test_kind_weights_leave_out_the_kinds_weighted_zero() -> None:
    frame = _frame(
        [
            ("u", "a", "view", "2026-01-10"),
            ("u", "a", "cart", "2026-01-10"),
            ("u", "b", "purchase", "2026-01-10"),
            ("u", "c", "view", "2026-01-08"),
        ]
    )
    index = Index.build(frame)
    as_of = pd.Timestamp("2026-01-10", tz="UTC")
    kinds = {"view": 1.0, "cart": 10.0, "purchase": 0.0}
    matrix = weighted_matrix(frame, index, as_of, 2.0, kinds)
    # a: view 1 + cart 10, both today; b: a purchase, left out; c: a view 2 days (a half-life) ago
    np.testing.assert_allclose(matrix.toarray(), [[11.0, 0.0, 0.5]])
    assert matrix.nnz == 2


def _history() -> RecsData:
    """Two tastes of 8 items each over 20 days, twice as many shoppers with the first: the
    popular items are all of the first taste, and each shopper keeps to their own."""
    skus = [f"{taste}{n}" for taste in "ab" for n in range(8)]
    rows = []
    for u in range(12):
        mine = skus[:8] if u % 3 else skus[8:]
        for day in range(1, 21):
            rows.append((f"u{u}", mine[(day + u) % 8], "view", f"2026-01-{day:02d}"))
            rows.append((f"u{u}", mine[(day * 3 + u) % 8], "cart", f"2026-01-{day:02d}"))
    products = pd.DataFrame(
        {
            "sku": skus,
            "name": skus,
            "category": [s[0] for s in skus],
            "brand": "b",
            "price_cents": 100,
            "status": "active",
        }
    )
    return RecsData(_frame(rows), products)


def test_validation_is_the_training_period_alone() -> None:
    data = _history()
    tuning = validation(data, 5)
    cutoff = split(data.interactions, 5).cutoff
    assert len(tuning.interactions) < len(data.interactions)
    assert tuning.interactions.event_time.max() < cutoff
    assert tuning.products is data.products


def test_evaluate_judges_the_hybrid_beside_the_others_on_the_same_shoppers() -> None:
    result = evaluate(_history(), FactorParams(factors=2), holdout_days=5, half_life_days=7)
    assert {"popularity", "implicit_als", "hybrid_als"} <= set(result.metrics)
    assert len({m.users for m in result.metrics.values()}) == 1
    hybrid, popular = result.metrics["hybrid_als"], result.metrics["popularity"]
    assert hybrid.users > 0
    assert hybrid.ndcg_at_10 > popular.ndcg_at_10  # it knows whose taste is whose
    without = evaluate(
        _history(), FactorParams(factors=2), holdout_days=5, half_life_days=7, blend=None
    )
    assert "hybrid_als" not in without.metrics


def test_lists_longer_than_the_catalogue_are_padded() -> None:
    hybrid = _hybrid(BlendParams())
    for model in (hybrid, hybrid.factors):
        best = model.recommend(np.array([0]), 5, sp.csr_matrix((2, 3)))
        assert best.shape == (1, 5) and best[0, 3:].tolist() == [-1, -1]
        assert sorted(best[0, :3].tolist()) == [0, 1, 2]


def test_an_item_of_the_shoppers_own_interest_says_so_not_because_of_itself() -> None:
    data = _history()
    bundle = fit_full(data, FactorParams(factors=2), 7.0, BlendParams())
    lists = build_lists(bundle, data, top_n_items=6, active_days=30, half_life_days=7.0)
    seen = data.interactions.groupby("user_id").sku.agg(set)
    shown = [(user, item) for user, items in lists.users.items() for item in items]
    assert shown
    for user, item in shown:
        assert item.about != item.sku  # never "because you viewed X" on X
        assert (item.reason == Reason.YOU_LOOKED_AT) == (item.sku in seen[user])
