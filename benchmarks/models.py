"""The models' targets on a simulated shopper history (`shoplake simulate history`'s default
size: 180 days, 5,000 shoppers, 2,000 products, seed 7, ~1M interactions): recommendations
(the champion against the popularity baseline, catalogue coverage, end-to-end training time,
implicit vs Spark ALS side by side) and forecasts (the champion's MASE against seasonal naive
on the held-out 4 weeks).

The history goes into a scratch database and topics of its own and lands in a scratch lake by
the normal path (`demo.history.scratch`), so the stack's own data is left alone.

    .venv/bin/python -m benchmarks.models [--quick] [--no-spark] [--no-forecast]

Prints the figures and writes JSON to benchmarks/results/models-<utc>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from benchmarks.harness import write_result
from demo.history.scratch import scratch_history
from demo.history.world import HistoryParams
from models.features import daily_demand, recs_data
from models.recommendations.evaluate import BASELINE, evaluate
from models.recommendations.factorization import FactorParams
from shoplake.config import Settings, get_settings
from shoplake.spark import get_spark

FULL = HistoryParams(days=180, users=5000, products=2000, seed=7)
QUICK = HistoryParams(days=70, users=400, products=150, seed=7)
CHAMPION = "hybrid_als"


def _recommendations(settings: Settings, root: str) -> dict[str, Any]:
    """End to end as `shoplake recs train` + `publish` run it: read the lake, evaluate every
    model on the holdout, fit on everything, register, publish to Redis."""
    from models.recommendations.publish import publish
    from models.recommendations.train import load_champion, train

    name = f"bench-recs-{uuid.uuid4().hex[:6]}"
    began = time.perf_counter()
    data = recs_data(root)
    run = train(settings, data, model_name=name)
    bundle, version, run_id = load_champion(settings, name)
    published = publish(
        settings,
        data,
        bundle,
        model_name=name,
        model_version=version,
        run_id=run_id,
        send_event=False,
    )
    seconds = time.perf_counter() - began
    metrics = {k: v.as_dict() for k, v in run.evaluation.metrics.items()}
    champion, popular = metrics[CHAMPION], metrics[BASELINE]
    return {
        "interactions": len(data.interactions),
        "catalog": len(data.products),
        "end_to_end_seconds": round(seconds, 1),
        "evaluate_seconds": run.evaluation.seconds,
        "metrics": metrics,
        "champion": {
            "model": CHAMPION,
            "ndcg_at_10": champion["ndcg_at_10"],
            "recall_at_20": champion["recall_at_20"],
            "coverage": champion["coverage"],
            "ndcg_ratio": champion["ndcg_at_10"] / popular["ndcg_at_10"],
            "recall_ratio": champion["recall_at_20"] / popular["recall_at_20"],
            "promoted": run.decision.promote,
        },
        "published_users": published.users,
    }


def _side_by_side(settings: Settings, root: str) -> dict[str, Any]:
    from models.recommendations.spark_als import SparkALS

    session = get_spark(settings)
    params = FactorParams()
    side = evaluate(
        recs_data(root),
        params,
        holdout_days=settings.recs_holdout_days,
        half_life_days=settings.recs_half_life_days,
        extra={"spark_als": lambda w: SparkALS.fit(session, w, params)},
    )
    return {
        k: {**side.metrics[k].as_dict(), "seconds": side.seconds[k]}
        for k in ("implicit_als", "spark_als")
    }


def _forecasts(settings: Settings, root: str) -> dict[str, Any]:
    from models.forecasting.train import train

    began = time.perf_counter()
    run = train(
        settings.model_copy(update={"forecast_horizon_days": 28, "forecast_backtest_windows": 1}),
        daily_demand(root),
        model_name=f"bench-forecast-{uuid.uuid4().hex[:6]}",
    )
    held = run.backtest.held_out
    champion = run.champion_model
    return {
        "seconds": round(time.perf_counter() - began, 1),
        "horizon_days": 28,
        "mase": held.mase,
        "rmsse": held.rmsse,
        "champion": champion,
        "champion_mase": held.mase[champion],
        "seasonal_naive_mase": held.mase["seasonal_naive"],
        "mase_gain": 1 - held.mase[champion] / held.mase["seasonal_naive"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small history (minutes)")
    parser.add_argument("--no-spark", action="store_true", help="leave Spark ALS out")
    parser.add_argument("--no-forecast", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    size = QUICK if args.quick else FULL
    params = replace(size, end=datetime.now(UTC).replace(microsecond=0))
    work = settings.state_dir / "bench-models" / uuid.uuid4().hex[:8]
    root = str(work / "lake")
    out: dict[str, Any] = {"history": params.as_dict()}
    began = time.perf_counter()
    try:
        with scratch_history(settings, get_spark(settings), params, root) as history:
            out["history"] |= {
                "interactions": history.run.counts.interactions,
                "orders": history.run.counts.orders,
                "events": history.run.events,
                "simulate_and_land_seconds": round(time.perf_counter() - began, 1),
            }
            print("history", out["history"], flush=True)
        out["recommendations"] = _recommendations(settings, root)
        print("recommendations", json.dumps(out["recommendations"], indent=1), flush=True)
        if not args.no_spark:
            out["side_by_side"] = _side_by_side(settings, root)
            print("implicit vs Spark ALS", json.dumps(out["side_by_side"], indent=1), flush=True)
        if not args.no_forecast:
            out["forecasts"] = _forecasts(settings, root)
            print("forecasts", json.dumps(out["forecasts"], indent=1), flush=True)
        out["load_average"] = [round(x, 2) for x in os.getloadavg()]
        write_result("models", out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
