"""The demo's models chapter: on the stack's lake, where the demo's shopper history
(`demo/history_story.py`) landed with the story's events, both models are trained and
registered in MLflow, their metrics printed beside the baselines, the lists published, and one
of the history's shoppers signs in and asks the API for personal recommendations.

The lake may hold other histories too (a `shoplake simulate history` of your own), which the
models learn from as well.
"""

from __future__ import annotations

import httpx
from rich.console import Console

from demo.history.world import build_world
from demo.history.writer import HISTORY_PASSWORD
from demo.history_story import DEMO_HISTORY
from models.calendar import known_ahead
from models.commands import FORECAST_COLUMNS, RECS_COLUMNS, metrics_table
from models.features import daily_demand, recs_data
from models.forecasting.publish import publish as publish_forecasts
from models.forecasting.train import train as train_forecasts
from models.recommendations.publish import publish as publish_recs
from models.recommendations.train import MODEL_NAME, load_champion
from models.recommendations.train import train as train_recs
from shoplake.config import Settings
from shoplake.lake import DEMAND_FORECASTS
from shoplake.sql_endpoint import name_written_tables


def models_demo(settings: Settings, console: Console) -> None:
    from demo.story import running_api

    lake = str(settings.lake_path)
    data = recs_data(lake)
    console.print(
        f"   the lake holds {len(data.interactions):,} signed-in interactions "
        f"with {len(data.products):,} products"
    )
    recs = train_recs(settings, data)
    rows = {name: m.as_dict() for name, m in recs.evaluation.metrics.items()}
    console.print(
        metrics_table(
            f"recommendations, {settings.recs_holdout_days}-day holdout", rows, RECS_COLUMNS
        )
    )
    console.print(f"   {MODEL_NAME} v{recs.version}: {recs.decision.reason}")

    small = settings.model_copy(
        update={"forecast_horizon_days": 14, "forecast_backtest_windows": 1}
    )
    forecasts = train_forecasts(small, daily_demand(lake), known=known_ahead(lake))
    held = forecasts.backtest.held_out
    console.print(
        metrics_table(
            "demand forecasts, held-out 14 days",
            {m: {"mase": held.mase[m], "wrmsse": held.rmsse[m]} for m in held.mase},
            FORECAST_COLUMNS[:2],
        )
    )
    console.print(f"   shoplake-demand-forecast v{forecasts.version}: {forecasts.decision.reason}")
    written = publish_forecasts(forecasts.forecasts, lake, forecasts.version, forecasts.run_id)
    named = name_written_tables(settings, (DEMAND_FORECASTS,))  # analysts query it at once
    where = "named in the SQL endpoint" if named is not None else "the SQL endpoint is down"
    console.print(f"   {DEMAND_FORECASTS.name}: {written:,} rows ({where})", highlight=False)

    bundle, version, run_id = load_champion(settings)
    done = publish_recs(
        settings, data, bundle, model_name=MODEL_NAME, model_version=version, run_id=run_id
    )
    console.print(f"   published {done.publication}: {done.users} shoppers' lists")

    # The history's busiest shopper signs in (every simulated account has the same password).
    emails = {s.user_id: s.email for s in build_world(DEMO_HISTORY).shoppers}
    mine = data.interactions[data.interactions.user_id.isin(emails.keys())]
    shopper = emails[mine.user_id.value_counts().index[0]]
    with running_api(settings) as base, httpx.Client(base_url=base, timeout=30) as api:
        token = api.post("/v1/auth/token", data={"username": shopper, "password": HISTORY_PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = api.get(
            "/v1/recommendations", params={"context": "home", "limit": 5}, headers=headers
        ).json()
    console.print(f"… {shopper} asks the API ({answer['strategy']}):", highlight=False)
    for item in answer["items"]:
        console.print(f"   {item['sku']:>12}  {item['reason_text']}", highlight=False)
    console.print(f"MLflow UI: {settings.mlflow_uri} (models: #/models)")
