"""Interactions as a users x items matrix: weighted by kind and decayed by age."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

# What one interaction says about a shopper's interest, relative to a product view.
KIND_WEIGHTS: dict[str, float] = {"view": 1.0, "wishlist": 2.0, "cart": 3.0, "purchase": 5.0}
# The interactions a recommendation is judged on: a shopper wanting the item, not glancing.
STRONG_KINDS = ("wishlist", "cart", "purchase")


@dataclass(frozen=True)
class Index:
    """Row and column positions of users and items."""

    users: np.ndarray
    items: np.ndarray

    @cached_property
    def user_pos(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.users)}

    @cached_property
    def item_pos(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.items)}

    @classmethod
    def build(cls, interactions: pd.DataFrame, catalog: pd.Series | None = None) -> Index:
        users = np.array(sorted(interactions.user_id.astype(str).unique()), dtype=object)
        skus = set(interactions.sku.astype(str))
        if catalog is not None:
            skus |= set(catalog.astype(str))
        return cls(users, np.array(sorted(skus), dtype=object))


def positions(index: Index, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of each interaction the index knows, and the mask of those rows."""
    rows = pd.Categorical(frame.user_id.astype(str), categories=index.users).codes
    cols = pd.Categorical(frame.sku.astype(str), categories=index.items).codes
    known = (rows >= 0) & (cols >= 0)
    return rows, cols, known


def weighted_matrix(
    interactions: pd.DataFrame,
    index: Index,
    as_of: pd.Timestamp,
    half_life_days: float,
    kind_weights: Mapping[str, float] | None = None,
) -> sp.csr_matrix:
    """Sum over a user's interactions with an item of kind weight x 0.5^(age / half-life);
    kinds weighted 0 are left out."""
    weights_of = KIND_WEIGHTS if kind_weights is None else kind_weights
    rows, cols, known = positions(index, interactions)
    age_days = (as_of - interactions.event_time).dt.total_seconds().to_numpy() / 86_400.0
    decay = np.power(0.5, np.clip(age_days, 0, None) / half_life_days)
    weights = interactions.kind.map(weights_of).fillna(1.0).to_numpy() * decay
    known = known & (weights > 0)
    matrix = sp.csr_matrix(
        (weights[known].astype(np.float32), (rows[known], cols[known])),
        shape=(len(index.users), len(index.items)),
    )
    matrix.sum_duplicates()
    return matrix


def kind_matrix(interactions: pd.DataFrame, index: Index, kinds: tuple[str, ...]) -> sp.csr_matrix:
    """1 where the user had an interaction of one of these kinds with the item."""
    chosen = interactions[interactions.kind.isin(kinds)]
    rows, cols, known = positions(index, chosen)
    matrix = sp.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.float32), (rows[known], cols[known])),
        shape=(len(index.users), len(index.items)),
    )
    matrix.data[:] = 1.0
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def top_n(scores: np.ndarray, n: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """Per row, the columns of the n highest scores (excluded columns never), -1 padded."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None and exclude.nnz:
        coo = exclude.tocoo()
        scores[coo.row, coo.col] = -np.inf
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    ordered = np.take_along_axis(part, np.argsort(-np.take_along_axis(scores, part, 1), 1), 1)
    finite = np.isfinite(np.take_along_axis(scores, ordered, 1))
    return np.where(finite, ordered, -1)


# Rows scored at a time by `top_n_by_chunks`: a dense 2,048 x items block of scores at most.
CHUNK_ROWS = 2048


def top_n_by_chunks(
    scores: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, n: int, exclude: sp.csr_matrix
) -> np.ndarray:
    """`top_n` of `scores(chunk)` for the rows, a chunk at a time so that memory stays bounded
    at any number of users; -1 padded (narrower results when there are fewer than n items)."""
    out = np.full((len(rows), n), -1, dtype=np.int64)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        best = top_n(scores(chunk), n, exclude[chunk])
        out[start : start + len(chunk), : best.shape[1]] = best
    return out
