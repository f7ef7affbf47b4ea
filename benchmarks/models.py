"""The models' targets on a simulated shopper history (`shoplake simulate history`'s default
size: 180 days, 5,000 shoppers, 2,000 products, seed 7, ~1M interactions): recommendations
(the champion against the popularity baseline, catalogue coverage, end-to-end training time,
implicit vs Spark ALS side by side, and the ceiling: the simulator's own taste, in
`benchmarks.recs_ceiling`) and forecasts (the champion's MASE and WRMSSE against seasonal naive
on the held-out 4 weeks, with the all-zero and hindsight references).

The history goes into a scratch database and topics of its own and lands in a scratch lake by
the normal path (`demo.history.scratch`), so the stack's own data is left alone. The lake is
deleted at the end unless `--keep DIR` keeps it (DIR/lake, with DIR/history.json holding the
history's parameters); `--lake DIR` measures such a kept history again without simulating.

    .venv/bin/python -m benchmarks.models [--quick] [--no-spark] [--no-forecast]
                                          [--keep DIR | --lake DIR]

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
from pathlib import Path
from typing import Any

from benchmarks.harness import write_result
from benchmarks.recs_ceiling import champion_share, recs_ceiling
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
# A kept history: DIR/lake is its lake root, DIR/history.json its HistoryParams.
KEPT_LAKE = "lake"
KEPT_PARAMS = "history.json"


def _recommendations(settings: Settings, root: str, params: HistoryParams) -> dict[str, Any]:
    """End to end as `shoplake recs train` + `publish` run it: read the lake, evaluate every
    model on the holdout, fit on everything, register, publish to Redis. Then, outside the
    timing, the ceiling on the same holdout."""
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
    began = time.perf_counter()
    ceiling = recs_ceiling(params, data, settings)
    ceiling["champion_share"] = champion_share(ceiling, champion["recall_at_20"])
    ceiling["seconds"] = round(time.perf_counter() - began, 1)
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
        "ceiling": ceiling,
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
    from models.calendar import known_ahead
    from models.forecasting.train import train

    began = time.perf_counter()
    run = train(
        settings.model_copy(update={"forecast_horizon_days": 28, "forecast_backtest_windows": 1}),
        daily_demand(root),
        model_name=f"bench-forecast-{uuid.uuid4().hex[:6]}",
        known=known_ahead(root),
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
        "champion_wrmsse": held.rmsse[champion],
        "seasonal_naive_wrmsse": held.rmsse["seasonal_naive"],
        "references": held.references,  # the all-zero and the hindsight forecasts
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small history (minutes)")
    parser.add_argument("--no-spark", action="store_true", help="leave Spark ALS out")
    parser.add_argument("--no-forecast", action="store_true")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help=f"simulate into DIR/{KEPT_LAKE} and keep it, with DIR/{KEPT_PARAMS} (for --lake)",
    )
    where.add_argument(
        "--lake",
        type=Path,
        metavar="DIR",
        help="no simulation: measure the history a --keep run left in DIR, at its own size "
        "(--quick does not apply); DIR is never deleted",
    )
    return parser


def keep_history(folder: Path, params: HistoryParams) -> None:
    """Write down the parameters of the history landed in folder/lake, for `--lake`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / KEPT_PARAMS).write_text(json.dumps(params.as_dict(), indent=2) + "\n")


def kept_history(folder: Path) -> tuple[HistoryParams, str]:
    """The parameters and the lake root of a history `--keep` left in `folder`."""
    params_file, lake = folder / KEPT_PARAMS, folder / KEPT_LAKE
    if not params_file.is_file() or not lake.is_dir():
        raise SystemExit(f"{folder} holds no kept history: {params_file} and {lake}/ are needed")
    return HistoryParams.from_dict(json.loads(params_file.read_text())), str(lake)


def _simulate(settings: Settings, params: HistoryParams, root: str) -> dict[str, Any]:
    """The history simulated and landed under `root`; what it made and how long it took."""
    began = time.perf_counter()
    with scratch_history(settings, get_spark(settings), params, root) as history:
        return {
            "interactions": history.run.counts.interactions,
            "orders": history.run.counts.orders,
            "events": history.run.events,
            "simulate_and_land_seconds": round(time.perf_counter() - began, 1),
        }


def _measure(
    settings: Settings, params: HistoryParams, root: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Every figure on the history landed under `root`, printed as it comes."""
    out: dict[str, Any] = {}
    out["recommendations"] = _recommendations(settings, root, params)
    print("recommendations", json.dumps(out["recommendations"], indent=1), flush=True)
    if not args.no_spark:
        out["side_by_side"] = _side_by_side(settings, root)
        print("implicit vs Spark ALS", json.dumps(out["side_by_side"], indent=1), flush=True)
    if not args.no_forecast:
        out["forecasts"] = _forecasts(settings, root)
        print("forecasts", json.dumps(out["forecasts"], indent=1), flush=True)
    return out


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    settings = get_settings()
    if args.lake is not None:
        params, root = kept_history(args.lake)
        history = params.as_dict() | {"reused": True, "lake": root}
        work = None  # the kept lake is never deleted
    else:
        size = QUICK if args.quick else FULL
        params = replace(size, end=datetime.now(UTC).replace(microsecond=0))
        work = args.keep or settings.state_dir / "bench-models" / uuid.uuid4().hex[:8]
        root = str(work / KEPT_LAKE)
        if args.keep is not None and (work / KEPT_LAKE).exists():
            # Landing a second history on top of the first would mix the two.
            parser.error(f"{root} exists already: --keep needs a new directory")
        history = params.as_dict() | {"reused": False}
    try:
        if args.lake is None:
            history |= _simulate(settings, params, root)
            if args.keep is not None:
                # Right after landing, so a failure further on leaves a history to reuse.
                keep_history(args.keep, params)
                history["kept"] = str(args.keep)
        print("history", history, flush=True)
        out = {"history": history, **_measure(settings, params, root, args)}
        out["load_average"] = [round(x, 2) for x in os.getloadavg()]
        write_result("models", out)
    finally:
        if work is not None and args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
