"""MLflow: the tracking server of the stack, runs, the registry and the champion alias.

Only the skinny client is installed beside the project; the server runs from its own venv.
Telemetry is turned off before MLflow is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from models.champion import Decision, decide
from shoplake.config import Settings, disable_telemetry

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHAMPION = "champion"


class TrackingUnavailable(RuntimeError):
    """The tracking server does not answer; the message says how to start it."""


def client(settings: Settings) -> MlflowClient:
    """The MLflow client on the stack's tracking server (checked to answer first)."""
    disable_telemetry()
    uri = settings.mlflow_uri
    if uri.startswith("http"):
        try:
            httpx.get(f"{uri}/health", timeout=3.0).raise_for_status()
        except httpx.HTTPError as exc:
            raise TrackingUnavailable(
                f"the MLflow tracking server at {uri} does not answer ({exc}): start it with "
                "`shoplake stack up` or point SHOPLAKE_MLFLOW_TRACKING_URI at one"
            ) from exc
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    return MlflowClient(uri)


def experiment(settings: Settings, name: str) -> str:
    """The experiment's id, created on first use."""
    import mlflow

    client(settings)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(mlflow.create_experiment(name))


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    metrics: dict[str, float]


def champion(mlflow_client: MlflowClient, model_name: str) -> Champion | None:
    """The version under the `champion` alias, with its run's metrics, or None."""
    from mlflow.exceptions import MlflowException

    try:
        version = mlflow_client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None
    run = mlflow_client.get_run(str(version.run_id))
    return Champion(str(version.version), str(version.run_id), dict(run.data.metrics))


def promote_if_better(
    mlflow_client: MlflowClient,
    model_name: str,
    version: str,
    *,
    candidate: float,
    baseline: float,
    metric: str,
    higher_is_better: bool,
) -> Decision:
    """Move `champion` to `version` when the rule says so; the decision is tagged on it."""
    current = champion(mlflow_client, model_name)
    held = None if current is None else current.metrics.get(metric)
    decision = decide(candidate, baseline, held, higher_is_better=higher_is_better, metric=metric)
    if decision.promote:
        mlflow_client.set_registered_model_alias(model_name, CHAMPION, version)
    mlflow_client.set_model_version_tag(model_name, version, "champion_decision", decision.reason)
    return decision


def registered_version(mlflow_client: MlflowClient, model_name: str, run_id: str) -> str:
    """The version of `model_name` that the run registered (as a string: REST gives str)."""
    versions = mlflow_client.search_model_versions(f"name='{model_name}' and run_id='{run_id}'")
    if not versions:
        raise LookupError(f"run {run_id} registered no version of {model_name}")
    return str(max(int(v.version) for v in versions))


def pip_requirements(*packages: str) -> list[str]:
    """Pinned requirements of the logged model (inferring them runs a slow subprocess)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in packages]


def log_metrics(metrics: dict[str, Any]) -> None:
    import mlflow

    mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
