"""The models' targets on a default-size history: recommendations (implicit vs Spark ALS, the
champion against popularity, end-to-end training time on ~1M interactions), forecasts (the
champion's MASE against seasonal naive on the held-out 4 weeks), and the recommendation API's
latency. `python -m benchmarks.models [--quick]`; JSON under benchmarks/results/.

Until `shoplake simulate history` is on main the history is the planted one
(demo/planted_history.py) at the simulator's default size: 5,000 users, 2,000 products, 180 days.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from demo.planted_history import HistorySpec, generate
from models.features import daily_demand, recs_data
from models.recommendations.evaluate import evaluate
from models.recommendations.factorization import FactorParams
from shoplake.config import get_settings

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-forecast", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    spec = (
        HistorySpec(users=500, products=200, days=120, sessions_per_user=30, seed=7)
        if args.quick
        else HistorySpec(
            users=5000,
            products=2000,
            days=180,
            categories=24,
            segments=12,
            sessions_per_user=40,
            seed=7,
        )
    )
    out: dict[str, object] = {"when": datetime.now(UTC).isoformat(), "spec": str(spec)}
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        history = generate(spec)
        history.write(tmp)
        out["history_seconds"] = time.perf_counter() - began
        out["interactions"] = history.interactions
        print(f"history: {history.interactions:,} interactions in {out['history_seconds']:.0f}s")

        # End to end: read from the lake, evaluate every model, fit on all, register, publish.
        from models.recommendations.publish import publish
        from models.recommendations.train import load_champion, train

        name = f"bench-recs-{uuid.uuid4().hex[:6]}"
        began = time.perf_counter()
        data = recs_data(tmp)
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
        out["recs_end_to_end_seconds"] = time.perf_counter() - began
        metrics = {k: v.as_dict() for k, v in run.evaluation.metrics.items()}
        out["recs_metrics"] = metrics
        out["recs_seconds"] = run.evaluation.seconds
        als, pop = metrics["implicit_als"], metrics["popularity"]
        out["ndcg_ratio"] = als["ndcg_at_10"] / pop["ndcg_at_10"]
        out["recall_ratio"] = als["recall_at_20"] / pop["recall_at_20"]
        out["published_users"] = published.users
        print(json.dumps(metrics, indent=1))
        print(
            f"end to end {out['recs_end_to_end_seconds']:.0f}s; NDCG x{out['ndcg_ratio']:.2f}, "
            f"Recall x{out['recall_ratio']:.2f}, coverage {als['coverage']:.2f}"
        )

        if not args.no_spark:
            from models.recommendations.spark_als import SparkALS
            from shoplake.spark import get_spark

            began = time.perf_counter()
            session = get_spark(settings)
            out["spark_start_seconds"] = time.perf_counter() - began
            side = evaluate(
                data,
                FactorParams(),
                holdout_days=14,
                half_life_days=30,
                extra={"spark_als": lambda w: SparkALS.fit(session, w, FactorParams())},
            )
            out["side_by_side"] = {
                k: {**side.metrics[k].as_dict(), "seconds": side.seconds[k]}
                for k in ("implicit_als", "spark_als")
            }
            print(json.dumps(out["side_by_side"], indent=1))

        if not args.no_forecast:
            from models.forecasting.train import train as train_forecast

            began = time.perf_counter()
            fc = train_forecast(
                settings.model_copy(update={"forecast_backtest_windows": 1}),
                daily_demand(tmp),
                model_name=f"bench-forecast-{uuid.uuid4().hex[:6]}",
            )
            held = fc.backtest.held_out
            out["forecast_seconds"] = time.perf_counter() - began
            out["forecast_mase"] = held.mase
            out["forecast_wrmsse"] = held.rmsse
            out["forecast_champion"] = fc.champion_model
            out["forecast_mase_gain"] = (
                1 - held.mase[fc.champion_model] / held.mase["seasonal_naive"]
            )
            print(
                f"forecast {out['forecast_seconds']:.0f}s: {held.mase}; "
                f"gain {out['forecast_mase_gain']:.1%}"
            )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"models-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
