# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec: {display_name: Python 3 (ipykernel), language: python, name: python3}
# ---
# %% [markdown]
# # Demand forecasts: daily demand, a backtest, and the champion
# Reads daily demand from the lake, backtests seasonal naive, AutoETS and LightGBM, logs a
# variant to MLflow and sets it beside the registered champion.

# %% tags=["parameters"]
lake_root = ""  # empty: the stack's lake (SHOPLAKE_LAKE_ROOT)
horizon = 14
log_to_mlflow = True

# %%
import matplotlib.pyplot as plt

from models import tracking
from models.calendar import known_ahead
from models.features import daily_demand
from models.forecasting.backtest import backtest, series
from models.forecasting.train import MODEL_NAME, train
from shoplake.config import get_settings

settings = get_settings()
root = lake_root or settings.lake_path
demand = daily_demand(root)
known = known_ahead(root)  # the planned promotions and the shopping holidays
frame = series(demand)
frame.groupby("ds").y.sum().plot(title="units per day, all SKUs")
plt.show()

# %%
result = backtest(frame, horizon, 1, known=known)
result.held_out.rmsse, result.held_out.mase, result.held_out.references

# %%
if log_to_mlflow:
    variant = settings.model_copy(update={"forecast_horizon_days": horizon})
    run = train(variant, demand, register=False, known=known)
    held = tracking.champion(tracking.client(settings), MODEL_NAME)
    print("variant wrmsse", run.backtest.held_out.rmsse[run.champion_model])
    print("champion wrmsse", None if held is None else held.metrics.get("wrmsse"))
