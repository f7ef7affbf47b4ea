"""The Recall@20 ceiling on a history small enough to work out by hand: two taste segments over
30 items, three shoppers, one day of training and one of holdout. Pure: no lake, no stack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.recs_ceiling import Taste, TasteOracle, ceiling_of, champion_share
from demo.history.world import HistoryParams, build_world
from models.features import RecsData
from models.recommendations.evaluate import prepare, split
from models.recommendations.matrix import Index

TRAINED = pd.Timestamp("2026-11-01 10:00", tz="UTC")
WANTED = pd.Timestamp("2026-11-20 10:00", tz="UTC")
HOLDOUT_DAYS = 5
FILLERS = [f"F{n:02d}" for n in range(20)]
OTHERS = [f"G{n}" for n in range(5)]
CATALOG = ["A", "B", "C", "D", "Q", *FILLERS, *OTHERS]  # 30 items: a top 20 can miss


def _taste() -> Taste:
    """Segment 0 likes A then B, segment 1 C then D; Q is segment 1's least liked item.
    The SKU order is not the index's (sorted), and one SKU is unknown to the catalog."""
    skus = ["Z-not-in-catalog", *reversed(CATALOG)]
    pdf = np.full((2, len(skus)), 0.01)
    column = {s: j for j, s in enumerate(skus)}
    pdf[0, column["A"]], pdf[0, column["B"]] = 0.3, 0.2
    pdf[1, column["C"]], pdf[1, column["D"]], pdf[1, column["Q"]] = 0.3, 0.2, 0.0001
    return Taste({"u1": 0, "u2": 1}, skus, pdf)


def _event(user: str, sku: str, kind: str, at: pd.Timestamp) -> dict[str, object]:
    order = f"o-{user}-{sku}" if kind == "purchase" else None
    return {
        "user_id": user,
        "sku": sku,
        "kind": kind,
        "event_time": at,
        "session_id": None,
        "order_id": order,
    }


def _data() -> RecsData:
    """u1 bought A (their favourite) before the cutoff and carts B after it; u2 carted Q before
    and buys D and Q after; u3 (no segment) views D and the fillers, so popularity ranks D
    first and the 20 fillers next, and wants nothing in the holdout."""
    events = [
        _event("u1", "A", "purchase", TRAINED),
        _event("u2", "Q", "cart", TRAINED),
        *(_event("u3", "D", "view", TRAINED) for _ in range(20)),
        *(_event("u3", sku, "view", TRAINED) for sku in FILLERS for _ in range(10)),
        _event("u1", "B", "cart", WANTED),
        _event("u2", "D", "purchase", WANTED),
        _event("u2", "Q", "purchase", WANTED),
    ]
    products = pd.DataFrame(
        {
            "sku": CATALOG,
            "name": CATALOG,
            "category": "x",
            "brand": "b",
            "price_cents": 100,
            "status": "active",
        }
    )
    return RecsData(pd.DataFrame(events), products)


def test_the_taste_lands_on_the_index_columns_by_sku_and_unknown_shoppers_score_zero() -> None:
    index = Index(np.array(["u1", "u3"], dtype=object), np.array(["A", "B", "new"], dtype=object))
    by_segment, rows = _taste().on(index)
    np.testing.assert_allclose(by_segment[rows[0]], [0.3, 0.2, 0.0])  # "new": not in the world
    np.testing.assert_allclose(by_segment[rows[1]], [0.0, 0.0, 0.0])  # u3: no segment


def test_the_oracle_ranks_the_planted_taste_first_and_never_what_was_bought() -> None:
    data = _data()
    fitted = prepare(data, split(data.interactions, HOLDOUT_DAYS), 14.0)
    by_segment, segment_rows = _taste().on(fitted.index)
    users = list(fitted.index.users)
    assert [users[r] for r in fitted.rows] == ["u1", "u2"]
    best = TasteOracle(by_segment, segment_rows).recommend(fitted.rows, 3, fitted.bought)
    items = [[str(fitted.index.items[c]) for c in row] for row in best]
    assert items[0][0] == "B"  # A is u1's favourite, but bought already
    assert "A" not in items[0]
    assert items[1][:2] == ["C", "D"]


def test_the_ceiling_is_recall_of_the_oracle_on_the_holdout_with_interest_lifting_it() -> None:
    ceiling = ceiling_of(_data(), _taste(), holdout_days=HOLDOUT_DAYS, half_life_days=14.0)
    assert ceiling["users"] == 2
    # Popularity: D, then the 20 fillers; u1's B is not in its top 20, u2's D is and Q is not.
    assert ceiling["popularity"]["recall_at_20"] == pytest.approx((0 + 1 / 2) / 2)
    # Taste alone: u1's B first; u2's D second and Q, the least liked of 30, outside the top 20.
    assert ceiling["taste"]["recall_at_20"] == pytest.approx((1 + 1 / 2) / 2)
    u2_ndcg = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert ceiling["taste"]["ndcg_at_10"] == pytest.approx((1 + u2_ndcg) / 2)
    # u2 carted Q before the cutoff: their interest brings it into the top 20 at any weight,
    # and first (ahead of C) from weight 1 on, which NDCG rewards.
    assert ceiling["recall_by_interest_weight"] == {"0.25": 1.0, "0.5": 1.0, "1.0": 1.0, "2.0": 1.0}
    assert ceiling["taste_and_interest"]["recall_at_20"] == pytest.approx(1.0)
    assert ceiling["taste_and_interest"]["interest_weight"] == 1.0
    assert ceiling["best_recall_at_20"] == pytest.approx(1.0)
    assert ceiling["recall_ratio"] == pytest.approx(1.0 / 0.25)
    assert champion_share(ceiling, 0.5) == pytest.approx(0.5)


def test_the_taste_of_a_built_world_is_each_segments_view_distribution() -> None:
    world = build_world(HistoryParams(days=2, users=12, products=24, seed=3))
    taste = Taste.of_world(world)
    np.testing.assert_allclose(taste.pdf.sum(axis=1), 1.0)
    assert (taste.pdf > 0).all()
    assert taste.skus == [p.sku for p in world.products]
    assert taste.segment_of == {s.user_id: s.segment for s in world.shoppers}
