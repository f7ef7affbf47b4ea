"""`shoplake recs train|evaluate|publish` and `shoplake forecast train|publish`, and the
function behind `shoplake forecast reorder` (the command is the composition root's: it joins
the suggestions to serving's purchase orders, see `shoplake_cli/drafts.py`).

Each command wires settings to a plain function of `models`; heavy imports stay inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from shoplake.commands.common import console, fail
from shoplake.config import Settings, get_settings
from shoplake.lake import DEMAND_FORECASTS, REORDER_SUGGESTIONS
from shoplake.lake import Table as LakeTable

if TYPE_CHECKING:  # pandas stays out of `shoplake --help`
    from models.forecasting.reorder import DraftPurchaseOrders, UnitsOnOrder

recs_app = typer.Typer(help="Recommendations: train, evaluate, publish to Redis.")
forecast_app = typer.Typer(help="Demand forecasts: train, publish to gold, reorder.")
# `forecast reorder` is attached by the composition root (shoplake_cli/main.py).

LakeOption = typer.Option(None, help="read the lake here instead of SHOPLAKE_LAKE_ROOT")


def _lake(settings: Settings, lake: Path | None) -> str:
    return str(lake) if lake is not None else settings.lake_path


def _name_in_endpoint(settings: Settings, root: str, table: LakeTable) -> None:
    """A table written into the stack's lake is named in the SQL endpoint at once; a scratch
    lake (`--lake`) is nobody's metastore's business."""
    from shoplake.sql_endpoint import name_written_tables

    if root != settings.lake_path:
        return
    if name_written_tables(settings, (table,)) is None:
        console.print(
            f"the SQL endpoint is not answering: it names {table.name} when it next starts",
            highlight=False,
        )


def metrics_table(title: str, rows: dict[str, dict[str, float]], columns: list[str]) -> Table:
    table = Table(title=title)
    table.add_column("model")
    for column in columns:
        table.add_column(column, justify="right")
    for name, values in rows.items():
        table.add_row(name, *(f"{values.get(c, float('nan')):.4f}" for c in columns))
    return table


RECS_COLUMNS = ["recall_at_20", "ndcg_at_10", "map_at_10", "coverage"]


@recs_app.command("evaluate")
def recs_evaluate(
    lake: Path | None = LakeOption,
    spark: bool = typer.Option(False, help="Spark MLlib ALS beside implicit"),
) -> None:
    """Every model on the time-based holdout, beside the popularity baseline (logs nothing)."""
    from models.features import recs_data
    from models.recommendations.evaluate import evaluate
    from models.recommendations.factorization import FactorParams

    settings = get_settings()
    data = recs_data(_lake(settings, lake))
    if data.interactions.empty:
        raise fail("no interactions in the lake")
    extra = {}
    if spark:
        from models.recommendations.spark_als import SparkALS
        from shoplake.spark import get_spark

        session = get_spark(settings)
        extra["spark_als"] = lambda weighted: SparkALS.fit(session, weighted, FactorParams())
    result = evaluate(
        data,
        FactorParams(),
        holdout_days=settings.recs_holdout_days,
        half_life_days=settings.recs_half_life_days,
        extra=extra,  # type: ignore[arg-type]
    )
    rows = {
        name: {**m.as_dict(), "seconds": result.seconds[name]} for name, m in result.metrics.items()
    }
    console.print(metrics_table("holdout: last days", rows, [*RECS_COLUMNS, "seconds"]))


@recs_app.command("train")
def recs_train(lake: Path | None = LakeOption) -> None:
    """Evaluate, fit on the whole history, register in MLflow; champion only if it is better."""
    from models.features import recs_data
    from models.recommendations.train import MODEL_NAME, train
    from models.tracking import TrackingUnavailable

    settings = get_settings()
    try:
        run = train(settings, recs_data(_lake(settings, lake)))
    except (TrackingUnavailable, ValueError) as exc:
        raise fail(str(exc)) from None
    rows = {name: m.as_dict() for name, m in run.evaluation.metrics.items()}
    console.print(metrics_table("recommendations on the holdout", rows, RECS_COLUMNS))
    verdict = "[green]champion[/]" if run.decision.promote else "[yellow]kept out[/]"
    console.print(f"{MODEL_NAME} v{run.version}: {verdict} ({run.decision.reason})")
    console.print(f"MLflow: {settings.mlflow_uri}/#/models/{MODEL_NAME}")


@recs_app.command("publish")
def recs_publish(lake: Path | None = LakeOption) -> None:
    """The champion's lists into Redis (a new key space, switched atomically)."""
    from models.features import recs_data
    from models.recommendations.publish import publish
    from models.recommendations.train import MODEL_NAME, load_champion
    from models.tracking import TrackingUnavailable

    settings = get_settings()
    try:
        bundle, version, run_id = load_champion(settings)
    except (TrackingUnavailable, LookupError) as exc:
        raise fail(str(exc)) from None
    done = publish(
        settings,
        recs_data(_lake(settings, lake)),
        bundle,
        model_name=MODEL_NAME,
        model_version=version,
        run_id=run_id,
    )
    console.print(
        f"published {done.publication}: {done.users} users, {done.items} items, "
        f"{done.categories} categories ({done.keys} keys, TTL {settings.recs_ttl_s}s); "
        f"event {'sent' if done.event_sent else 'NOT sent'}"
    )


# WRMSSE first: it picks the champion (models/forecasting/train.py says why).
FORECAST_COLUMNS = ["wrmsse", "mase", "mase_rolling"]


@forecast_app.command("train")
def forecast_train(lake: Path | None = LakeOption) -> None:
    """Backtest every model, register the best in MLflow; champion only if it is better."""
    from models.calendar import known_ahead
    from models.features import daily_demand
    from models.forecasting.train import MODEL_NAME, train
    from models.tracking import TrackingUnavailable

    settings = get_settings()
    root = _lake(settings, lake)
    try:
        run = train(settings, daily_demand(root), known=known_ahead(root))
    except (TrackingUnavailable, ValueError) as exc:
        raise fail(str(exc)) from None
    held = run.backtest.held_out
    rows = {
        m: {
            "mase": held.mase[m],
            "wrmsse": held.rmsse[m],
            "mase_rolling": run.backtest.mean("mase", m),
        }
        for m in held.mase
    }
    console.print(metrics_table(f"held-out {run.backtest.horizon} days", rows, FORECAST_COLUMNS))
    verdict = "[green]champion[/]" if run.decision.promote else "[yellow]kept out[/]"
    console.print(
        f"{MODEL_NAME} v{run.version} ({run.champion_model}): {verdict} ({run.decision.reason})"
    )


@forecast_app.command("publish")
def forecast_publish(lake: Path | None = LakeOption) -> None:
    """The champion's forecasts into gold.demand_forecasts."""
    from models.forecasting.publish import publish
    from models.forecasting.train import champion_forecasts
    from models.tracking import TrackingUnavailable

    settings = get_settings()
    try:
        frame, version, run_id = champion_forecasts(settings)
    except (TrackingUnavailable, LookupError) as exc:
        raise fail(str(exc)) from None
    root = _lake(settings, lake)
    rows = publish(frame, root, version, run_id)
    console.print(f"gold.demand_forecasts: {rows} rows from version {version}")
    _name_in_endpoint(settings, root, DEMAND_FORECASTS)


@dataclass(frozen=True)
class ReorderRun:
    rows: int
    to_reorder: int
    units: int
    inbound_units: int
    drafts: list[str]


def reorder(
    settings: Settings,
    lake: Path | None,
    *,
    units_on_order: UnitsOnOrder | None = None,
    draft: DraftPurchaseOrders | None = None,
) -> ReorderRun:
    """Reorder suggestions into gold.reorder_suggestions, counting the units still on order as
    inbound; then, with a drafter, draft purchase orders for them. `shoplake forecast reorder`
    is assembled by the composition root (`shoplake_cli/drafts.py`), which owns both seams."""
    from models import features
    from models.forecasting.reorder import read_forecasts, stamp, suggestions, write_stamped

    root = _lake(settings, lake)
    forecasts = read_forecasts(root)
    if forecasts.empty:
        raise fail("gold.demand_forecasts is empty: run `shoplake forecast publish` first")
    inbound = units_on_order() if units_on_order is not None else None
    frame = suggestions(
        forecasts,
        features.stock_levels(root),
        lead_time_days=settings.forecast_lead_time_days,
        review_days=settings.forecast_review_days,
        service_level=settings.forecast_service_level,
        inbound=inbound,
    )
    version = str(forecasts.model_version.dropna().iloc[0]) if len(forecasts) else None
    stamped = stamp(frame, datetime.now(UTC), version)
    rows = write_stamped(stamped, root)
    _name_in_endpoint(settings, root, REORDER_SUGGESTIONS)
    due = frame[frame.needs_reorder]
    console.print(
        f"gold.reorder_suggestions: {rows} rows, {len(due)} to reorder "
        f"({int(due.suggested_units.sum())} units; {int(frame.inbound_units.sum())} "
        "already on order)",
        highlight=False,
    )
    drafts = draft(stamped) if draft is not None else []
    return ReorderRun(
        rows=rows,
        to_reorder=len(due),
        units=int(due.suggested_units.sum()),
        inbound_units=int(frame.inbound_units.sum()),
        drafts=drafts,
    )
