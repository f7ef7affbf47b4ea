"""Ranking metrics of one user's list against the items they went on to want; pure functions.

Gains are binary (an item is relevant or not). NDCG@k divides by the DCG of an ideal list of
min(|relevant|, k) hits; MAP@k averages the precision at each hit over min(|relevant|, k), so a
perfect list scores 1 whether the user has 1 or 50 relevant items.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass


def recall_at_k(recommended: Sequence[object], relevant: Collection[object], k: int) -> float:
    if not relevant:
        return 0.0
    hits = sum(1 for item in recommended[:k] if item in relevant)
    return hits / len(relevant)


def ndcg_at_k(recommended: Sequence[object], relevant: Collection[object], k: int) -> float:
    if not relevant:
        return 0.0
    dcg = sum(
        1.0 / math.log2(rank + 2) for rank, item in enumerate(recommended[:k]) if item in relevant
    )
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal


def average_precision_at_k(
    recommended: Sequence[object], relevant: Collection[object], k: int
) -> float:
    if not relevant:
        return 0.0
    hits, total = 0, 0.0
    for rank, item in enumerate(recommended[:k]):
        if item in relevant:
            hits += 1
            total += hits / (rank + 1)
    return total / min(len(relevant), k)


def catalog_coverage(lists: Iterable[Sequence[object]], catalog_size: int) -> float:
    """The share of the catalog that appears in at least one list."""
    if catalog_size <= 0:
        return 0.0
    shown = {item for items in lists for item in items}
    return len(shown) / catalog_size


@dataclass(frozen=True)
class RankingMetrics:
    recall_at_20: float
    ndcg_at_10: float
    map_at_10: float
    coverage: float
    users: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{name}": float(value) for name, value in asdict(self).items()}


def ranking_metrics(
    lists: Sequence[Sequence[object]],
    relevant: Sequence[Collection[object]],
    catalog_size: int,
) -> RankingMetrics:
    """The mean of each metric over users (lists[i] is for relevant[i]) and the coverage of
    their top-20 lists."""
    n = len(lists)
    if n == 0:
        return RankingMetrics(0.0, 0.0, 0.0, 0.0, 0)
    return RankingMetrics(
        recall_at_20=sum(recall_at_k(r, t, 20) for r, t in zip(lists, relevant, strict=True)) / n,
        ndcg_at_10=sum(ndcg_at_k(r, t, 10) for r, t in zip(lists, relevant, strict=True)) / n,
        map_at_10=sum(
            average_precision_at_k(r, t, 10) for r, t in zip(lists, relevant, strict=True)
        )
        / n,
        coverage=catalog_coverage((r[:20] for r in lists), catalog_size),
        users=n,
    )
