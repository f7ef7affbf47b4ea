"""Implicit-feedback matrix factorisation with the `implicit` library (ALS or BPR).

BLAS is held to one thread around every call: implicit parallelises itself, and OpenBLAS
threads on top of it make batch `recommend` about 5x slower (and implicit warns).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class FactorParams:
    algorithm: str = "als"  # als | bpr
    # Few factors: the history's tastes are a handful of segments, and 16 factors beat 32 and
    # 64 on the validation split (recall most), besides fitting faster.
    factors: int = 16
    regularization: float = 0.05
    # Confidence = 1 + alpha x weight; 5 beat 2 on the validation split (NDCG@10 and recall).
    alpha: float = 5.0
    iterations: int = 15
    learning_rate: float = 0.01
    seed: int = 7

    @property
    def algorithm_name(self) -> str:
        return f"implicit_{self.algorithm}"


class ImplicitFactors:
    """A fitted factorisation: users x factors and items x factors."""

    name = "implicit_als"

    def __init__(self, user_factors: np.ndarray, item_factors: np.ndarray, name: str) -> None:
        self.user_factors = np.asarray(user_factors, dtype=np.float32)
        self.item_factors = np.asarray(item_factors, dtype=np.float32)
        self.name = name

    @classmethod
    def fit(cls, weighted: sp.csr_matrix, params: FactorParams) -> ImplicitFactors:
        """Fit on a users x items confidence matrix (implicit ≥ 0.7 takes users x items)."""
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        matrix = sp.csr_matrix(weighted, dtype=np.float32)
        with threadpool_limits(1, "blas"):
            if params.algorithm == "bpr":
                bpr = BayesianPersonalizedRanking(
                    factors=params.factors,
                    learning_rate=params.learning_rate,
                    regularization=params.regularization,
                    iterations=params.iterations,
                    random_state=params.seed,
                )
                bpr.fit(matrix, show_progress=False)
                return cls(bpr.user_factors, bpr.item_factors, "implicit_bpr")
            als = AlternatingLeastSquares(
                factors=params.factors,
                regularization=params.regularization,
                alpha=params.alpha,
                iterations=params.iterations,
                random_state=params.seed,
            )
            als.fit(matrix, show_progress=False)
            return cls(als.user_factors, als.item_factors, "implicit_als")

    def scores(self, rows: np.ndarray) -> np.ndarray:
        with threadpool_limits(1, "blas"):
            scores: np.ndarray = self.user_factors[rows] @ self.item_factors.T
            return scores

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        from models.recommendations.matrix import top_n_by_chunks

        return top_n_by_chunks(self.scores, rows, n, exclude)

    def similar_items(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per item, the n items whose factors point the same way (cosine), and the cosines."""
        norms = np.linalg.norm(self.item_factors, axis=1)
        norms[norms == 0] = 1.0
        unit = self.item_factors / norms[:, None]
        n = min(n, len(unit) - 1)
        if n <= 0:
            empty = np.zeros((len(unit), 0))
            return empty.astype(np.int64), empty
        with threadpool_limits(1, "blas"):
            cosine = unit @ unit.T
        np.fill_diagonal(cosine, -np.inf)
        part = np.argpartition(-cosine, n - 1, axis=1)[:, :n]
        order = np.argsort(-np.take_along_axis(cosine, part, 1), axis=1)
        best = np.take_along_axis(part, order, 1)
        return best, np.take_along_axis(cosine, best, 1)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, user_factors=self.user_factors, item_factors=self.item_factors)

    @classmethod
    def load(cls, path: Path, name: str = "implicit_als") -> ImplicitFactors:
        with np.load(path) as data:
            return cls(data["user_factors"], data["item_factors"], name)
