"""The champion: the factorisation blended with the shopper's own recent interest and with
item-item co-occurrence, each scaled per shopper to at most 1 before they are added.

Why a blend: a good share of what shoppers go on to want (a wishlist or cart add, a purchase)
is something they looked at lately and did not buy yet, and the factorisation smooths that
away into taste segments; the interest term brings it back. Co-occurrence adds the items
browsed and bought with the shopper's own (complements). Per-shopper scaling makes the
weights mean the same for a shopper with 5 interactions and one with 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from models.recommendations.factorization import ImplicitFactors
from models.recommendations.matrix import top_n_by_chunks

WEIGHTED = "weighted.npz"
INTEREST = "interest.npz"
SIMILARITY = "similarity.npz"
INTEREST_KINDS = {"view": 1.0, "wishlist": 3.0, "cart": 10.0, "purchase": 0.0}


@dataclass(frozen=True)
class BlendParams:
    # Weights relative to the factorisation's 1.0 (chosen on a validation split taken from
    # the training period, never on the holdout).
    interest_weight: float = 2.0
    neighbour_weight: float = 0.3
    # How fast interest fades; 14 days edged 7 on the validation split.
    interest_half_life_days: float = 14.0
    # A cart add is the strongest sign of what comes next (bought items are never
    # recommended, so what counts is the carts not checked out yet). Purchases count 0: they
    # would only set the per-shopper scale of items that can still be recommended.
    interest_kinds: dict[str, float] = field(default_factory=lambda: dict(INTEREST_KINDS))
    # Neighbours kept per item: keeps the saved bundle small (every neighbour scored no
    # better on the validation split).
    neighbours: int = 50


def scale_rows(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (rows of zeros stay zeros)."""
    scores = np.asarray(scores, dtype=np.float64)
    if not scores.size:
        return scores
    peak = np.abs(scores).max(axis=1, keepdims=True)
    scaled: np.ndarray = np.divide(scores, peak, out=np.zeros_like(scores), where=peak > 0)
    return scaled


def keep_top(similarity: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The k largest entries of each row (ties broken by column), the rest dropped."""
    similarity = sp.csr_matrix(similarity)
    rows, cols, vals = [], [], []
    for row in range(similarity.shape[0]):
        start, end = similarity.indptr[row], similarity.indptr[row + 1]
        here_cols, here_vals = similarity.indices[start:end], similarity.data[start:end]
        order = np.lexsort((here_cols, -here_vals))[:k]
        rows.append(np.full(len(order), row, dtype=np.int64))
        cols.append(here_cols[order])
        vals.append(here_vals[order])
    if not rows:
        return sp.csr_matrix(similarity.shape, dtype=np.float32)
    return sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=similarity.shape,
    )


class Hybrid:
    """Scores = scaled(factors) + w_i x scaled(recent interest) + w_n x scaled(neighbours)."""

    def __init__(
        self,
        factors: ImplicitFactors,
        weighted: sp.csr_matrix,
        interest: sp.csr_matrix,
        similarity: sp.csr_matrix,
        params: BlendParams,
    ) -> None:
        self.factors = factors
        self.weighted = sp.csr_matrix(weighted, dtype=np.float32)
        self.interest = sp.csr_matrix(interest, dtype=np.float32)
        self.similarity = sp.csr_matrix(similarity, dtype=np.float32)
        self.params = params
        self.name = f"hybrid_{factors.name.removeprefix('implicit_')}"

    @classmethod
    def fit(
        cls,
        factors: ImplicitFactors,
        weighted: sp.csr_matrix,
        interest: sp.csr_matrix,
        similarity: sp.csr_matrix,
        params: BlendParams,
    ) -> Hybrid:
        """The factorisation is fitted already; only the neighbour lists are pruned here."""
        return cls(factors, weighted, interest, keep_top(similarity, params.neighbours), params)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        blended = scale_rows(self.factors.scores(rows))
        if self.params.interest_weight:
            interest = self.interest[rows].toarray()
            blended += self.params.interest_weight * scale_rows(interest)
        if self.params.neighbour_weight:
            votes = (self.weighted[rows] @ self.similarity).toarray()
            blended += self.params.neighbour_weight * scale_rows(votes)
        return blended

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        return top_n_by_chunks(self.scores, rows, n, exclude)

    def save(self, folder: Path) -> None:
        sp.save_npz(folder / WEIGHTED, self.weighted)
        sp.save_npz(folder / INTEREST, self.interest)
        sp.save_npz(folder / SIMILARITY, self.similarity)

    @classmethod
    def load(cls, folder: Path, factors: ImplicitFactors, params: BlendParams) -> Hybrid | None:
        """The blend saved beside the factors, or None for a bundle of factors alone."""
        if not (folder / SIMILARITY).exists():
            return None
        return cls(
            factors,
            sp.load_npz(folder / WEIGHTED).tocsr(),
            sp.load_npz(folder / INTEREST).tocsr(),
            sp.load_npz(folder / SIMILARITY).tocsr(),
            params,
        )
