"""The registered model: the factorisation (and the blend around it) and its index, as an
MLflow pyfunc.

`predict` takes a frame with a `user_id` column and answers their top items, so a data
scientist can load `models:/shoplake-recommendations@champion` and ask it; serving never
does (it reads the lists published in Redis).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc.model import PythonModel

from models.recommendations.factorization import ImplicitFactors
from models.recommendations.hybrid import BlendParams, Hybrid
from models.recommendations.matrix import top_n

FACTORS = "factors.npz"
INDEX = "index.json"


@dataclass
class Bundle:
    factors: ImplicitFactors
    users: np.ndarray
    items: np.ndarray
    params: dict[str, Any]
    # The champion's blend; None for a bundle of factors alone (older versions, Spark ALS).
    blend: Hybrid | None = None

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """What the lists are ranked by: the blend when there is one."""
        return (self.blend or self.factors).scores(rows)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.factors.save(folder / FACTORS)
        if self.blend is not None:
            self.blend.save(folder)
        (folder / INDEX).write_text(
            json.dumps(
                {"users": list(self.users), "items": list(self.items), "params": self.params}
            )
        )
        return folder

    @classmethod
    def load(cls, folder: Path) -> Bundle:
        index = json.loads((folder / INDEX).read_text())
        params = index["params"]
        factors = ImplicitFactors.load(folder / FACTORS, params.get("model", "als"))
        blend = BlendParams(
            **{f.name: params[f.name] for f in fields(BlendParams) if f.name in params}
        )
        return cls(
            factors,
            np.array(index["users"], dtype=object),
            np.array(index["items"], dtype=object),
            params,
            Hybrid.load(folder, factors, blend),
        )


class RecommenderModel(PythonModel):
    def load_context(self, context: Any) -> None:
        self.bundle = Bundle.load(Path(context.artifacts["bundle"]))
        self.user_pos = {u: i for i, u in enumerate(self.bundle.users)}

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        n = int((params or {}).get("n", 10))
        known = [u for u in model_input["user_id"].astype(str) if u in self.user_pos]
        rows = np.array([self.user_pos[u] for u in known], dtype=np.int64)
        if not len(rows):
            return pd.DataFrame(columns=["user_id", "rank", "sku", "score"])
        scores = self.bundle.scores(rows)
        best = top_n(scores, n)
        records = [
            (user, rank + 1, self.bundle.items[col], float(scores[i, col]))
            for i, user in enumerate(known)
            for rank, col in enumerate(best[i])
            if col >= 0
        ]
        return pd.DataFrame(records, columns=["user_id", "rank", "sku", "score"])
