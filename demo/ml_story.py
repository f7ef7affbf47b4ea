"""The demo's models chapter: a small history, both models trained and registered in MLflow,
their metrics beside the baselines, the lists published, and the chapter's shopper asking the
API for personal recommendations.

The history is the planted one (`demo/planted_history.py`) on the demo catalog, written into a
lake of its own under the state dir, until `shoplake simulate history` is on main.
"""

from __future__ import annotations

import uuid

import httpx
from rich.console import Console

from demo.catalog import generate as demo_catalog
from demo.planted_history import HistorySpec
from demo.planted_history import generate as plant
from demo.story import DEMO_PRODUCTS, running_api
from models.commands import FORECAST_COLUMNS, RECS_COLUMNS, metrics_table
from models.features import daily_demand, recs_data
from models.forecasting.publish import publish as publish_forecasts
from models.forecasting.train import train as train_forecasts
from models.recommendations.publish import publish as publish_recs
from models.recommendations.train import MODEL_NAME, load_champion
from models.recommendations.train import train as train_recs
from shoplake.config import Settings


def models_demo(settings: Settings, console: Console) -> None:
    with running_api(settings) as base, httpx.Client(base_url=base, timeout=30) as api:
        email, password = f"ml-shopper-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex
        api.post("/v1/auth/register", json={"email": email, "password": password})
        token = api.post("/v1/auth/token", data={"username": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        user_id = api.get("/v1/users/me", headers=headers).json()["id"]

        catalog = tuple(
            (p.sku, p.name, "/".join(p.category_path)) for p in demo_catalog(DEMO_PRODUCTS)
        )
        lake = str(settings.state_dir / "demo-history" / "lake")
        history = plant(
            HistorySpec(users=400, days=90, catalog=catalog, known_users=(user_id,), seed=7)
        )
        history.write(lake)
        console.print(
            f"… models: a planted history of {history.interactions:,} interactions "
            f"(400 shoppers, {len(catalog)} products, 90 days) in {lake}"
        )
        data = recs_data(lake)
        recs = train_recs(settings, data)
        rows = {name: m.as_dict() for name, m in recs.evaluation.metrics.items()}
        console.print(metrics_table("recommendations, 14-day holdout", rows, RECS_COLUMNS))
        console.print(f"   {MODEL_NAME} v{recs.version}: {recs.decision.reason}")

        small = settings.model_copy(
            update={"forecast_horizon_days": 14, "forecast_backtest_windows": 1}
        )
        demand = daily_demand(lake)
        forecasts = train_forecasts(small, demand)
        held = forecasts.backtest.held_out
        console.print(
            metrics_table(
                "demand forecasts, held-out 14 days",
                {m: {"mase": held.mase[m], "wrmsse": held.rmsse[m]} for m in held.mase},
                FORECAST_COLUMNS[:2],
            )
        )
        console.print(
            f"   shoplake-demand-forecast v{forecasts.version}: {forecasts.decision.reason}"
        )
        publish_forecasts(forecasts.forecasts, lake, forecasts.version, forecasts.run_id)

        bundle, version, run_id = load_champion(settings)
        done = publish_recs(
            settings, data, bundle, model_name=MODEL_NAME, model_version=version, run_id=run_id
        )
        console.print(f"   published {done.publication}: {done.users} shoppers' lists")
        answer = api.get("/v1/recommendations", params={"limit": 5}, headers=headers).json()
        console.print(f"… {email} asks the API ({answer['strategy']}):")
        for item in answer["items"]:
            console.print(f"   {item['sku']:>12}  {item['reason_text']}")
    console.print(f"MLflow UI: {settings.mlflow_uri} (models: #/models)")
