"""A small simulated shopper history for the models' tests and notebooks: simulated into a
scratch database and topics of its own, landed by the normal path into a lake root of its own,
with the structure it planted (`ground_truth.json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from demo.history.scratch import scratch_history
from demo.history.world import HistoryParams
from shoplake.config import Settings

# Ten weeks: a 14-day holdout, two 14-day backtest windows and their lags fit in it. Landing
# it (simulate, relay, bronze, ten silver MERGEs) takes minutes on a busy machine: the modules
# that use it carry `LANDING_TIMEOUT`.
LANDING_TIMEOUT = pytest.mark.timeout(1800)
DAYS, USERS, PRODUCTS, SEED = 70, 300, 50, 11


@dataclass(frozen=True)
class HistoryLake:
    root: str
    truth: dict[str, Any]

    @property
    def complements(self) -> dict[str, str]:
        return {c["sku"]: c["complement"] for c in self.truth["complements"]}


def simulated_lake(settings: Settings, spark: SparkSession, root: Path) -> HistoryLake:
    params = HistoryParams(
        days=DAYS,
        users=USERS,
        products=PRODUCTS,
        seed=SEED,
        end=datetime.now(UTC).replace(microsecond=0),
    )
    with scratch_history(settings, spark, params, str(root)) as history:
        assert history.run.directory is not None
        truth = json.loads((history.run.directory / "ground_truth.json").read_text())
    return HistoryLake(str(root), truth)
