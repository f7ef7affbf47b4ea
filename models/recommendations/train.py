"""`shoplake recs train`: evaluate on the holdout, fit on the whole history, log to MLflow,
register a version of `shoplake-recommendations`, and move `champion` if it earned it.

The candidate is the hybrid (the factorisation blended with recent interest and
co-occurrence, see `hybrid.py`); the factorisation alone is evaluated beside it."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models import tracking
from models.champion import Decision
from models.features import RecsData
from models.recommendations.artifact import Bundle, RecommenderModel
from models.recommendations.baselines import cooccurrence
from models.recommendations.evaluate import (
    BASELINE,
    Evaluation,
    evaluate,
    hybrid_name,
    sessions_or_orders,
)
from models.recommendations.factorization import FactorParams, ImplicitFactors
from models.recommendations.hybrid import BlendParams, Hybrid
from models.recommendations.matrix import Index, kind_matrix, top_n, weighted_matrix
from shoplake.config import Settings

MODEL_NAME = "shoplake-recommendations"
EXPERIMENT = "shoplake-recommendations"
PRIMARY = "ndcg_at_10"


@dataclass(frozen=True)
class RecsRun:
    run_id: str
    version: str
    decision: Decision
    evaluation: Evaluation
    candidate: str


def blend_params(settings: Settings) -> BlendParams:
    return BlendParams(
        interest_weight=settings.recs_interest_weight,
        neighbour_weight=settings.recs_neighbour_weight,
        interest_half_life_days=settings.recs_interest_half_life_days,
    )


def fit_full(
    data: RecsData,
    params: FactorParams,
    half_life_days: float,
    blend: BlendParams | None = None,
) -> Bundle:
    """The model that gets registered: fitted on the whole history."""
    index = Index.build(data.interactions, data.products.sku)
    weighted = weighted_matrix(data.interactions, index, data.as_of, half_life_days)
    factors = ImplicitFactors.fit(weighted, params)
    hybrid = None
    if blend is not None:
        hybrid = Hybrid.fit(
            factors,
            weighted,
            weighted_matrix(
                data.interactions,
                index,
                data.as_of,
                blend.interest_half_life_days,
                blend.interest_kinds,
            ),
            cooccurrence(sessions_or_orders(data.interactions, index)),
            blend,
        )
    return Bundle(
        factors,
        index.users,
        index.items,
        {
            **asdict(params),
            **(asdict(blend) if blend is not None else {}),
            "model": params.algorithm,
            "half_life_days": half_life_days,
            "as_of": data.as_of.isoformat(),
        },
        hybrid,
    )


def sample_lists(
    bundle: Bundle, data: RecsData, users: int = 20, n: int = 10
) -> dict[str, list[str]]:
    """A few users' top items, logged beside the model so a reader sees what it recommends."""
    index = Index(bundle.users, bundle.items)
    rows = np.arange(min(users, len(bundle.users)))
    bought = kind_matrix(data.interactions, index, ("purchase",))
    best = top_n(bundle.scores(rows), n, bought[rows])
    return {
        str(bundle.users[r]): [str(bundle.items[c]) for c in best[i] if c >= 0]
        for i, r in enumerate(rows)
    }


def train(
    settings: Settings,
    data: RecsData,
    params: FactorParams | None = None,
    *,
    blend: BlendParams | None = None,
    register: bool = True,
    model_name: str = MODEL_NAME,
) -> RecsRun:
    """The candidate is the hybrid around `params`; its blend comes from the settings unless
    `blend` is given."""
    params = params or FactorParams()
    chosen = blend or blend_params(settings)
    if data.interactions.empty:
        raise ValueError("no interactions in the lake: nothing to learn from")
    evaluation = evaluate(
        data,
        params,
        holdout_days=settings.recs_holdout_days,
        half_life_days=settings.recs_half_life_days,
        blend=chosen,
    )
    candidate = hybrid_name(params)
    bundle = fit_full(data, params, settings.recs_half_life_days, chosen)

    import mlflow

    experiment_id = tracking.experiment(settings, EXPERIMENT)
    mlflow_client = tracking.client(settings)
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow.start_run(
            experiment_id=experiment_id, run_name=f"{candidate}-{data.as_of:%Y%m%d}"
        ) as run,
    ):
        mlflow.log_params(
            {
                **asdict(params),
                **asdict(chosen),
                "holdout_days": settings.recs_holdout_days,
                "half_life_days": settings.recs_half_life_days,
                "interactions": len(data.interactions),
                "users": len(bundle.users),
                "items": len(bundle.items),
                "cutoff": str(evaluation.cutoff),
            }
        )
        for name, metrics in evaluation.metrics.items():
            tracking.log_metrics(metrics.as_dict(prefix=f"{name}."))
        tracking.log_metrics(evaluation.metrics[candidate].as_dict())
        tracking.log_metrics(evaluation.metrics[BASELINE].as_dict(prefix="baseline_"))
        tracking.log_metrics({f"{name}.seconds": s for name, s in evaluation.seconds.items()})
        mlflow.log_dict(sample_lists(bundle, data), "sample_lists.json")
        mlflow.log_text(
            json.dumps({k: v.as_dict() for k, v in evaluation.metrics.items()}, indent=2),
            "evaluation.json",
        )
        folder = bundle.save(Path(tmp) / "bundle")
        mlflow.pyfunc.log_model(
            name="model",
            python_model=RecommenderModel(),
            artifacts={"bundle": str(folder)},
            registered_model_name=model_name if register else None,
            pip_requirements=tracking.pip_requirements(
                "mlflow-skinny", "numpy", "pandas", "scipy", "implicit"
            ),
        )
        run_id = run.info.run_id
    if not register:
        return RecsRun(run_id, "", Decision(False, "not registered"), evaluation, candidate)
    version = tracking.registered_version(mlflow_client, model_name, run_id)
    decision = tracking.promote_if_better(
        mlflow_client,
        model_name,
        version,
        candidate=getattr(evaluation.metrics[candidate], PRIMARY),
        baseline=getattr(evaluation.metrics[BASELINE], PRIMARY),
        metric=PRIMARY,
        higher_is_better=True,
    )
    return RecsRun(run_id, version, decision, evaluation, candidate)


def load_champion(settings: Settings, model_name: str = MODEL_NAME) -> tuple[Bundle, str, str]:
    """The champion's bundle, its version and its run id (downloaded from the server)."""
    mlflow_client = tracking.client(settings)
    held = tracking.champion(mlflow_client, model_name)
    if held is None:
        raise LookupError(f"{model_name} has no champion yet: run `shoplake recs train` first")
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{model_name}/{held.version}", dst_path=tmp
        )
        found = next(Path(local).rglob(Path(INDEX_NAME).name))
        bundle = Bundle.load(found.parent)
    return bundle, held.version, held.run_id


INDEX_NAME = "index.json"
