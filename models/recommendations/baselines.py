"""The baselines: global popularity and popularity in the shopper's favourite category, and
item-item co-occurrence ("bought together", "viewed together")."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.recommendations.matrix import Index, top_n


class Recommender(Protocol):
    name: str

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        """Item columns of the top n for each user row (excluded items never), -1 padded."""
        ...


class GlobalPopularity:
    """Everyone gets the most wanted items (decayed interaction weight summed over users)."""

    name = "popularity"

    def __init__(self, weighted: sp.csr_matrix) -> None:
        self.scores = np.asarray(weighted.sum(axis=0)).ravel()

    def ranking(self, n: int) -> np.ndarray:
        order = np.argsort(-self.scores, kind="stable")[:n]
        return np.asarray(order, dtype=np.int64)

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        scores = np.tile(self.scores, (len(rows), 1))
        return top_n(scores, n, exclude[rows])


def item_categories(index: Index, products: pd.DataFrame) -> np.ndarray:
    """The category code of each item column (-1 when the catalog does not know it)."""
    category_of = dict(zip(products.sku.astype(str), products.category.astype(str), strict=True))
    labels = np.array([category_of.get(s, "") for s in index.items], dtype=object)
    return np.asarray(pd.Categorical(labels).codes, dtype=np.int64)


class CategoryPopularity:
    """Popular items of the user's favourite category first, then popular items anywhere."""

    name = "category_popularity"

    def __init__(self, weighted: sp.csr_matrix, categories: np.ndarray) -> None:
        self.weighted = weighted
        self.scores = np.asarray(weighted.sum(axis=0)).ravel()
        self.categories = categories
        n_cat = int(categories.max()) + 1 if len(categories) else 0
        self.item_to_cat = sp.csr_matrix(
            (np.ones(len(categories)), (np.arange(len(categories)), np.clip(categories, 0, None))),
            shape=(len(categories), max(n_cat, 1)),
        )

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        affinity = (self.weighted[rows] @ self.item_to_cat).toarray()
        favourite = affinity.argmax(axis=1)
        normalised = self.scores / (self.scores.max() or 1.0)
        in_favourite = self.categories[None, :] == favourite[:, None]
        return top_n(normalised[None, :] + in_favourite * 1.0, n, exclude[rows])


def cooccurrence_counts(baskets: sp.csr_matrix) -> sp.csr_matrix:
    """Item x item: in how many baskets both occur; the diagonal is each item's basket count."""
    binary = baskets.copy().astype(np.float32)
    binary.data[:] = 1.0
    return (binary.T @ binary).tocsr()


def cooccurrence(baskets: sp.csr_matrix) -> sp.csr_matrix:
    """Item x item cosine of co-occurrence in baskets (orders, sessions); zero diagonal."""
    counts = cooccurrence_counts(baskets)
    norms = np.sqrt(counts.diagonal())
    counts.setdiag(0)
    counts.eliminate_zeros()
    norms[norms == 0] = 1.0
    inverse = sp.diags(1.0 / norms)
    return (inverse @ counts @ inverse).tocsr()


def baskets(frame: pd.DataFrame, key: str, index: Index) -> sp.csr_matrix:
    """Baskets x items: 1 where an item is in the basket (an order, a session)."""
    frame = frame.dropna(subset=[key])
    cols = pd.Categorical(frame.sku.astype(str), categories=index.items).codes
    codes = pd.Categorical(frame[key].astype(str)).codes
    known = cols >= 0
    matrix = sp.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.float32), (codes[known], cols[known])),
        shape=(int(codes.max()) + 1 if len(codes) else 0, len(index.items)),
    )
    matrix.sum_duplicates()
    return matrix


def neighbours(similarity: sp.csr_matrix, k: int) -> dict[int, list[tuple[int, float]]]:
    """The k most similar items of each item that has any, best first."""
    out: dict[int, list[tuple[int, float]]] = {}
    for item in range(similarity.shape[0]):
        start, end = similarity.indptr[item], similarity.indptr[item + 1]
        if start == end:
            continue
        cols, vals = similarity.indices[start:end], similarity.data[start:end]
        order = np.argsort(-vals, kind="stable")[:k]
        out[item] = [(int(cols[i]), float(vals[i])) for i in order]
    return out


class ItemNeighbours:
    """Item-kNN on co-occurrence: a user's items vote for what occurs with them."""

    name = "cooccurrence"

    def __init__(self, weighted: sp.csr_matrix, similarity: sp.csr_matrix) -> None:
        self.weighted = weighted
        self.similarity = similarity
        self.popularity = np.asarray(weighted.sum(axis=0)).ravel()

    def recommend(self, rows: np.ndarray, n: int, exclude: sp.csr_matrix) -> np.ndarray:
        scores = (self.weighted[rows] @ self.similarity).toarray()
        # Ties (users with nothing co-occurring) are broken by popularity.
        scores += 1e-6 * self.popularity[None, :] / (self.popularity.max() or 1.0)
        return top_n(scores, n, exclude[rows])
