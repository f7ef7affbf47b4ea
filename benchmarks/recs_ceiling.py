"""How high can Recall@20 go on a simulated history? An in-run ceiling for the recommendations.

The simulator draws every product a shopper views from their taste segment's distribution
alone (segment categories x brand x price band x popularity: `_pick` in
demo/history/simulate.py, `_view_cdf` in demo/history/world.py): a shopper has no taste of
their own beyond the segment. So no model can rank better, on taste, than one told each
shopper's segment and that segment's view distribution. Two references are computed:

- "oracle taste": the segment's view probabilities as the scores;
- "oracle taste + recent interest": those, scaled per shopper, plus the shopper's own recent
  interest (the champion's interest term, same kinds and half-life), since what a shopper
  goes on to want is often what they carted or wished for lately.

Both are judged exactly as `models.recommendations.evaluate` judges the models: the same
split, the same relevant items, nothing bought before the cutoff recommended. A reference, not
a proof: what a shopper carts or buys also moves with prices, promotions and complements, which
the oracle ignores, so a model could edge past it, but not by much on taste.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from demo.history.world import HistoryParams, World, build_world
from models.features import RecsData
from models.recommendations.baselines import GlobalPopularity
from models.recommendations.evaluate import (
    DEFAULT_BLEND,
    Fitted,
    Holdout,
    prepare,
    score,
    split,
)
from models.recommendations.hybrid import scale_rows
from models.recommendations.matrix import Index, top_n_by_chunks, weighted_matrix
from models.recommendations.metrics import RankingMetrics
from shoplake.config import Settings

# The interest weights tried, relative to the scaled taste's 1.0.
INTEREST_WEIGHTS = (0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Taste:
    """What the simulator draws views from: each shopper's segment, and per segment the
    probability of viewing each SKU (`pdf[segment, j]` is for `skus[j]`)."""

    segment_of: Mapping[str, int]
    skus: Sequence[str]
    pdf: np.ndarray

    @classmethod
    def of_world(cls, world: World) -> Taste:
        # view_cdf is cumulative over `world.products`: differencing gives back each product's
        # own probability.
        pdf = np.diff(world.view_cdf, axis=1, prepend=0.0)
        segments = {s.user_id: s.segment for s in world.shoppers}
        return cls(segments, [p.sku for p in world.products], pdf)

    def on(self, index: Index) -> tuple[np.ndarray, np.ndarray]:
        """The pdf on the index's item columns, one row per segment plus a last row of zeros,
        and the row of each index user: a SKU or shopper the world does not know scores 0."""
        column = index.item_pos
        known = [(j, column[s]) for j, s in enumerate(self.skus) if s in column]
        by_segment = np.zeros((self.pdf.shape[0] + 1, len(index.items)))
        if known:
            source, target = (np.array(k, dtype=np.int64) for k in zip(*known, strict=True))
            by_segment[: self.pdf.shape[0], target] = self.pdf[:, source]
        nobody = self.pdf.shape[0]
        rows = np.array([self.segment_of.get(str(u), nobody) for u in index.users], dtype=np.int64)
        return by_segment, rows


class TasteOracle:
    """A recommender that knows each shopper's segment: the segment's view probabilities,
    plus `interest_weight` x the shopper's recent interest, each scaled per shopper to at
    most 1 (as the champion blends its terms)."""

    name = "oracle_taste"

    def __init__(
        self,
        by_segment: np.ndarray,
        segment_rows: np.ndarray,
        interest: sp.csr_matrix | None = None,
        interest_weight: float = 0.0,
    ) -> None:
        self.by_segment = by_segment
        self.segment_rows = segment_rows
        self.interest = interest
        self.interest_weight = interest_weight

    def scores(self, rows: np.ndarray) -> np.ndarray:
        taste: np.ndarray = self.by_segment[self.segment_rows[rows]]
        if self.interest is None or not self.interest_weight:
            return taste
        recent = self.interest[rows].toarray()
        blended: np.ndarray = scale_rows(taste) + self.interest_weight * scale_rows(recent)
        return blended

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        return top_n_by_chunks(self.scores, rows, n, exclude)


def _figures(metrics: RankingMetrics) -> dict[str, float]:
    return {"recall_at_20": metrics.recall_at_20, "ndcg_at_10": metrics.ndcg_at_10}


def _interest(holdout: Holdout, fitted: Fitted, half_life_days: float) -> sp.csr_matrix:
    """The champion's interest term (its kinds), on the same training part."""
    return weighted_matrix(
        holdout.train, fitted.index, holdout.cutoff, half_life_days, DEFAULT_BLEND.interest_kinds
    )


def ceiling_of(
    data: RecsData,
    taste: Taste,
    *,
    holdout_days: int,
    half_life_days: float,
    interest_half_life_days: float = DEFAULT_BLEND.interest_half_life_days,
    weights: Sequence[float] = INTEREST_WEIGHTS,
) -> dict[str, Any]:
    """The oracle's figures on `evaluate`'s holdout, with popularity on the same holdout."""
    holdout = split(data.interactions, holdout_days)
    fitted = prepare(data, holdout, half_life_days)
    by_segment, segment_rows = taste.on(fitted.index)
    interest = _interest(holdout, fitted, interest_half_life_days)
    popularity = score(GlobalPopularity(fitted.weighted), fitted)
    alone = score(TasteOracle(by_segment, segment_rows), fitted)
    blended = {
        w: score(TasteOracle(by_segment, segment_rows, interest, w), fitted) for w in weights
    }
    # The weight is chosen on the holdout itself: fine for a ceiling, which it can only raise
    # (recall first, NDCG to break ties; the first weight wins an exact tie).
    weight = max(blended, key=lambda w: (blended[w].recall_at_20, blended[w].ndcg_at_10))
    best = max(alone.recall_at_20, blended[weight].recall_at_20)
    return {
        "users": alone.users,
        "popularity": _figures(popularity),
        "taste": _figures(alone),
        "taste_and_interest": {**_figures(blended[weight]), "interest_weight": weight},
        "recall_by_interest_weight": {str(w): m.recall_at_20 for w, m in blended.items()},
        "best_recall_at_20": best,
        "recall_ratio": _ratio(best, popularity.recall_at_20),
    }


def _ratio(value: float, base: float) -> float | None:
    return value / base if base else None


def recs_ceiling(params: HistoryParams, data: RecsData, settings: Settings) -> dict[str, Any]:
    """The ceiling of the history `params` describe (its world is rebuilt from the seed),
    judged on the holdout the settings give `evaluate`."""
    return ceiling_of(
        data,
        Taste.of_world(build_world(params)),
        holdout_days=settings.recs_holdout_days,
        half_life_days=settings.recs_half_life_days,
        # The champion's own interest half-life (`train.blend_params`).
        interest_half_life_days=settings.recs_interest_half_life_days,
    )


def champion_share(ceiling: Mapping[str, Any], champion_recall: float) -> float | None:
    """How much of the ceiling's Recall@20 the champion reaches."""
    return _ratio(champion_recall, float(ceiling["best_recall_at_20"]))
