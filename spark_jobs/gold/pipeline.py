"""The gold layer's steps, each a plain function: `build`, `run_tests`, `gate`, `docs`.

- build: name the lake's tables in the endpoint, gate silver, `dbt build` (seeds, models,
  snapshot, tests in dependency order), gate gold. A failed gate raises GateFailed and nothing
  after it runs; a failed dbt node raises DbtFailed (dbt itself skips what depends on it).
- run_tests (`gold test`): `dbt test`, `dbt source freshness`, and the finance reconciliation
  against Postgres.
- gate: one layer's quality gate on its own.
- docs: `dbt docs generate` (lineage, columns, tests) and the quality gates' Data Docs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shoplake.config import Settings
from shoplake.sql_endpoint import Registration, cursor, register_tables
from spark_jobs.gold import state
from spark_jobs.gold.dbt import (
    DbtRun,
    FreshnessRun,
    GoldTarget,
    run_dbt,
    source_freshness,
    target_dir,
)
from spark_jobs.gold.gates import GateResult, Layer, run_gate
from spark_jobs.gold.reconcile import RevenueReconciliation, reconcile_revenue

Note = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


def register(settings: Settings, target: GoldTarget) -> Registration:
    """Name every silver and gold table of the target's lake in the endpoint (idempotent)."""
    with cursor(settings) as cur:
        return register_tables(cur, target.lake_root, prefix=target.schema_prefix)


@dataclass(frozen=True)
class BuildReport:
    silver_gate: GateResult | None
    dbt: DbtRun
    gold_gate: GateResult | None


def build(
    settings: Settings,
    target: GoldTarget | None = None,
    *,
    select: Sequence[str] = (),
    full_refresh: bool = False,
    gates: bool = True,
    note: Note = _quiet,
) -> BuildReport:
    """Gate silver, build the marts (with their tests), gate gold."""
    target = target or GoldTarget.of(settings)
    register(settings, target)
    silver = None
    if gates:
        note("quality gate: silver")
        silver = run_gate(settings, "silver", lake_root=target.lake_root)
    note("dbt build")
    # With a selection, only the tests whose every parent is built in this run ("cautious"):
    # dbt's default also runs a test one of whose parents was left out and is stale, such as
    # sales adding up to the orders when the orders moved on and the sales mart was not rebuilt.
    selection = ["--select", *select, "--indirect-selection", "cautious"] if select else []
    if not select and not full_refresh:  # after new data: unchanged seeds and views stay
        selection = state.new_data_args(settings, target, state.endpoint_relations(settings)) or []
    args = ["build", *selection, *(["--full-refresh"] * full_refresh)]
    dbt = run_dbt(settings, target, args)
    if not select:
        state.keep(settings, target)
    gold = None
    if gates:
        note("quality gate: gold")
        gold = run_gate(settings, "gold", lake_root=target.lake_root)
    return BuildReport(silver, dbt, gold)


@dataclass(frozen=True)
class MartTestsReport:
    dbt: DbtRun
    freshness: FreshnessRun
    revenue: RevenueReconciliation

    @property
    def ok(self) -> bool:
        return self.dbt.ok and self.freshness.ok and self.revenue.ok


def run_tests(
    settings: Settings,
    target: GoldTarget | None = None,
    *,
    select: Sequence[str] = (),
    check: bool = True,
    note: Note = _quiet,
) -> MartTestsReport:
    """The marts' tests, the sources' freshness, and revenue against Postgres."""
    target = target or GoldTarget.of(settings)
    register(settings, target)
    note("dbt test")
    tests = run_dbt(
        settings, target, ["test", *(["--select", *select] if select else [])], check=check
    )
    note("dbt source freshness")
    freshness = source_freshness(settings, target)
    note("revenue: the marts against Postgres")
    revenue = reconcile_revenue(settings, lake_root=target.lake_root)
    return MartTestsReport(tests, freshness, revenue)


def gate(
    settings: Settings,
    layer: Layer,
    target: GoldTarget | None = None,
    *,
    raise_on_failure: bool = True,
) -> GateResult:
    target = target or GoldTarget.of(settings)
    return run_gate(settings, layer, lake_root=target.lake_root, raise_on_failure=raise_on_failure)


@dataclass(frozen=True)
class DocsReport:
    dbt: DbtRun
    dbt_site: Path
    quality_site: str | None


def docs(settings: Settings, target: GoldTarget | None = None) -> DocsReport:
    """dbt's documentation site (models, columns, tests, lineage) and the gates' Data Docs."""
    from spark_jobs.gold.gates import _Context

    target = target or GoldTarget.of(settings)
    register(settings, target)
    generated = run_dbt(settings, target, ["docs", "generate"])
    return DocsReport(
        generated, target_dir(settings, target) / "index.html", _Context(settings).docs()
    )
