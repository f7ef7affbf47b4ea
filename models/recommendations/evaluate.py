"""The time-based holdout: fit on everything before the last N days, judge on what each shopper
wanted in them (a wishlist or cart add, a purchase) that they had not already bought."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.features import RecsData
from models.recommendations.baselines import (
    CategoryPopularity,
    GlobalPopularity,
    ItemNeighbours,
    Recommender,
    baskets,
    cooccurrence,
    item_categories,
)
from models.recommendations.factorization import FactorParams, ImplicitFactors
from models.recommendations.hybrid import BlendParams, Hybrid
from models.recommendations.matrix import (
    STRONG_KINDS,
    Index,
    kind_matrix,
    positions,
    weighted_matrix,
)
from models.recommendations.metrics import RankingMetrics, ranking_metrics

K = 20
BASELINE = "popularity"
DEFAULT_BLEND = BlendParams()


@dataclass(frozen=True)
class Holdout:
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp


def split(interactions: pd.DataFrame, holdout_days: int) -> Holdout:
    """Everything before `max(event_time) - holdout_days` trains; the rest is held out."""
    cutoff = interactions.event_time.max() - pd.Timedelta(days=holdout_days)
    return Holdout(
        interactions[interactions.event_time < cutoff],
        interactions[interactions.event_time >= cutoff],
        cutoff,
    )


def validation(data: RecsData, holdout_days: int) -> RecsData:
    """The training period alone: its own last `holdout_days` become the holdout when tuning,
    so choices are never made on the days the reported figures are judged on."""
    return RecsData(split(data.interactions, holdout_days).train, data.products)


@dataclass
class Fitted:
    """What the holdout needs from the training part: matrices and the index."""

    index: Index
    weighted: sp.csr_matrix
    bought: sp.csr_matrix
    rows: np.ndarray
    relevant: list[set[int]]


def prepare(data: RecsData, holdout: Holdout, half_life_days: float) -> Fitted:
    index = Index.build(holdout.train, data.products.sku)
    weighted = weighted_matrix(holdout.train, index, holdout.cutoff, half_life_days)
    bought = kind_matrix(holdout.train, index, ("purchase",))
    strong = holdout.test[holdout.test.kind.isin(STRONG_KINDS)]
    rows, cols, known = positions(index, strong)
    wanted: dict[int, set[int]] = {}
    for r, c in zip(rows[known], cols[known], strict=True):
        if not bought[r, c]:
            wanted.setdefault(int(r), set()).add(int(c))
    users = np.array(sorted(wanted), dtype=np.int64)
    return Fitted(index, weighted, bought, users, [wanted[int(u)] for u in users])


@dataclass
class Evaluation:
    metrics: dict[str, RankingMetrics] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    cutoff: pd.Timestamp | None = None

    def ratio(self, model: str, metric: str, baseline: str = BASELINE) -> float:
        base = getattr(self.metrics[baseline], metric)
        return float("inf") if base == 0 else getattr(self.metrics[model], metric) / base


def score(recommender: Recommender, fitted: Fitted) -> RankingMetrics:
    lists = recommender.recommend(fitted.rows, K, fitted.bought)
    clean = [[int(i) for i in row if i >= 0] for row in lists]
    return ranking_metrics(clean, fitted.relevant, len(fitted.index.items))


def evaluate(
    data: RecsData,
    params: FactorParams,
    *,
    holdout_days: int,
    half_life_days: float,
    blend: BlendParams | None = DEFAULT_BLEND,
    extra: dict[str, Callable[[sp.csr_matrix], Recommender]] | None = None,
) -> Evaluation:
    """The baselines, co-occurrence, the factorisation and the hybrid (unless `blend` is None)
    side by side on one holdout; `extra` adds models fitted from the same weighted matrix
    (Spark ALS). Every model gets the same exclusions: nothing bought before the cutoff."""
    holdout = split(data.interactions, holdout_days)
    fitted = prepare(data, holdout, half_life_days)
    result = Evaluation(cutoff=holdout.cutoff)
    # Co-occurrence and the factorisation are built once, for themselves and for the hybrid.
    neighbours = cache(lambda: cooccurrence(sessions_or_orders(holdout.train, fitted.index)))
    factorise = cache(lambda: ImplicitFactors.fit(fitted.weighted, params))
    builders: dict[str, Callable[[], Recommender]] = {
        "popularity": lambda: GlobalPopularity(fitted.weighted),
        "category_popularity": lambda: CategoryPopularity(
            fitted.weighted, item_categories(fitted.index, data.products)
        ),
        "cooccurrence": lambda: ItemNeighbours(fitted.weighted, neighbours()),
        params.algorithm_name: factorise,
    }
    if blend is not None:
        builders[hybrid_name(params)] = lambda: Hybrid.fit(
            factorise(),
            fitted.weighted,
            weighted_matrix(
                holdout.train,
                fitted.index,
                holdout.cutoff,
                blend.interest_half_life_days,
                blend.interest_kinds,
            ),
            neighbours(),
            blend,
        )
    for name, make in (extra or {}).items():
        builders[name] = lambda make=make: make(fitted.weighted)  # type: ignore[misc]
    for name, build in builders.items():
        began = time.perf_counter()
        model = build()
        result.metrics[name] = score(model, fitted)
        result.seconds[name] = time.perf_counter() - began
    return result


def hybrid_name(params: FactorParams) -> str:
    return f"hybrid_{params.algorithm}"


def sessions_or_orders(interactions: pd.DataFrame, index: Index) -> sp.csr_matrix:
    """Baskets for co-occurrence: each order and each browsing session."""
    orders = baskets(interactions[interactions.kind == "purchase"], "order_id", index)
    sessions = baskets(interactions[interactions.kind == "view"], "session_id", index)
    return sp.vstack([orders, sessions]).tocsr()
