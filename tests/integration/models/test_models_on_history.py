"""The models find what the simulated history plants: taste segments (the factorisation beats
popularity) and complement pairs (bought together)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.features import interactions, products, recs_data
from models.recommendations.baselines import (
    baskets,
    cooccurrence,
    cooccurrence_counts,
    neighbours,
)
from models.recommendations.evaluate import evaluate, split
from models.recommendations.factorization import FactorParams
from models.recommendations.matrix import Index, kind_matrix, top_n, weighted_matrix
from tests.support.histories import LANDING_TIMEOUT, HistoryLake

pytestmark = LANDING_TIMEOUT


def test_the_factorisation_and_the_blend_beat_popularity_on_planted_segments(
    history_lake: HistoryLake,
) -> None:
    result = evaluate(
        recs_data(history_lake.root), FactorParams(factors=16), holdout_days=14, half_life_days=30
    )
    popular = result.metrics["popularity"]
    # On this small history (about 150 shoppers judged) both land 1.4-1.6x popularity's NDCG,
    # varying with the weekday the history ends on; on the default one the blend is 2.2x
    # (`benchmarks.models`). The test holds the margin the planted segments always give.
    for name in ("implicit_als", "hybrid_als"):
        model = result.metrics[name]
        assert model.users > 50
        assert model.ndcg_at_10 > 1.25 * popular.ndcg_at_10, name
        assert model.recall_at_20 > popular.recall_at_20, name
        assert model.coverage > popular.coverage, name


def test_bought_together_finds_the_planted_complements(history_lake: HistoryLake) -> None:
    root = history_lake.root
    data = interactions(root)
    index = Index.build(data, products(root).sku)
    orders = baskets(data[data.kind == "purchase"], "order_id", index)
    found = neighbours(cooccurrence(orders), 3)
    pos = index.item_pos
    # Judged only where the purchases show the pair together in two orders or more: the
    # simulator plants a complement on products that may sell four times in ten weeks, never
    # beside it, and no method finds what the data does not hold. Over 200 simulated ends of
    # this history (its calendar moves every draw), judging all planted pairs failed 4% of
    # them; the evidenced pairs (2 to 7 of them) never went below 0.4 first and 0.8 among the
    # first three, where chance gives 6% among three of 49 neighbours.
    together = cooccurrence_counts(orders)
    evidenced = {
        a: c
        for a, c in history_lake.complements.items()
        if a in pos and c in pos and together[pos[a], pos[c]] >= 2
    }
    ranked = {a: [str(index.items[j]) for j, _ in found.get(pos[a], [])] for a in evidenced}
    first = [ranked[a][:1] == [evidenced[a]] for a in ranked]
    top3 = [evidenced[a] in ranked[a] for a in ranked]
    assert len(ranked) >= 2, f"the purchases show too few planted pairs together: {evidenced}"
    assert np.mean(first) >= 0.4 and np.mean(top3) >= 0.75, (first, top3)


def test_the_holdout_is_the_last_days_and_decay_favours_recent_interactions(
    history_lake: HistoryLake,
) -> None:
    data = interactions(history_lake.root)
    holdout = split(data, 14)
    assert holdout.train.event_time.max() < holdout.cutoff <= holdout.test.event_time.min()
    index = Index(np.array(["u"], dtype=object), np.array(["a", "b"], dtype=object))
    now = pd.Timestamp("2026-11-30", tz="UTC")
    two = pd.DataFrame(
        {
            "user_id": ["u", "u"],
            "sku": ["a", "b"],
            "kind": ["view", "view"],
            "event_time": [now, now - pd.Timedelta(days=30)],
        }
    )
    weights = weighted_matrix(two, index, now, half_life_days=30).toarray()[0]
    assert weights[0] == 1.0 and abs(weights[1] - 0.5) < 1e-6
    bought = kind_matrix(two.assign(kind="purchase"), index, ("purchase",))
    assert top_n(np.array([[2.0, 1.0]]), 2, bought).tolist() == [[-1, -1]]
