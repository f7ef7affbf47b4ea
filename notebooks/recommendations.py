# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec: {display_name: Python 3 (ipykernel), language: python, name: python3}
# ---
# %% [markdown]
# # Recommendations: features from the lake, a variant, and the champion
# Reads interactions from the lake (delta-rs), compares models on the 14-day holdout, logs a
# variant to MLflow and sets it beside the registered champion.

# %% tags=["parameters"]
lake_root = ""  # empty: the stack's lake (SHOPLAKE_LAKE_ROOT)
factors = 32
log_to_mlflow = True

# %%
import matplotlib.pyplot as plt

from models import tracking
from models.features import recs_data
from models.recommendations.evaluate import evaluate
from models.recommendations.factorization import FactorParams
from models.recommendations.train import MODEL_NAME, train
from shoplake.config import get_settings

settings = get_settings()
data = recs_data(lake_root or settings.lake_path)
data.interactions.kind.value_counts()

# %%
daily = data.interactions.set_index("event_time").resample("D").size()
daily.plot(title="interactions per day")
plt.show()

# %%
result = evaluate(data, FactorParams(factors=factors), holdout_days=14, half_life_days=30)
table = {name: m.as_dict() for name, m in result.metrics.items()}
table

# %%
if log_to_mlflow:
    run = train(settings, data, FactorParams(factors=factors), register=False)
    held = tracking.champion(tracking.client(settings), MODEL_NAME)
    print("variant ndcg@10", run.evaluation.metrics[run.candidate].ndcg_at_10)
    print("champion ndcg@10", None if held is None else held.metrics.get("ndcg_at_10"))
