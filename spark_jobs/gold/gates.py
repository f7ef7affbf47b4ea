"""Quality gates: Great Expectations suites on silver (before dbt) and on gold (after it).

Each table's suite runs on a pandas frame read from its Delta table with delta-rs (the columns
the suite needs only; referential checks add a column computed against the parent table, e.g.
"this line's order exists in silver.orders"). A gate fails when any expectation fails, and its
`GateFailed` says which expectation failed on which rows (their keys). Results are kept as JSON
for the data-health dashboard, and as Data Docs (HTML) in the gold folder.

Great Expectations is imported inside the functions: it takes seconds to import (it loads
pandas and pyspark's ML modules), which no other command should pay.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from shoplake.config import Settings
from shoplake.lake import TABLES, Table

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Layer = Literal["silver", "gold"]
# The currencies the shop sells in; anything else in the lake is a bug upstream.
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK")
MAX_CENTS = 2**53
ORDER_STATUSES = (
    "PENDING_PAYMENT",
    "CONFIRMED",
    "FULFILLING",
    "SHIPPED",
    "DELIVERED",
    "CANCELLED",
    "PAYMENT_FAILED",
    "RETURNED",
    "REFUNDED",
)
PAYMENT_STATUSES = ("AUTHORIZED", "DECLINED", "CAPTURED", "VOIDED", "REFUNDED")
SITE = "shoplake"
SAMPLE = 5


@dataclass(frozen=True)
class Check:
    """One expectation, in words a gate's report can print."""

    kind: str  # not_null | unique | between | in_set | not_in_future | exists_in | ...
    column: str | None = None
    columns: tuple[str, ...] = ()
    low: int | float | None = None
    high: int | float | None = None
    values: tuple[Any, ...] = ()
    parent: str | None = None  # exists_in: the table whose keys it must be among
    parent_column: str | None = None
    mostly: float = 1.0


@dataclass(frozen=True)
class Suite:
    table: str
    checks: tuple[Check, ...]

    @property
    def registry(self) -> Table:
        return TABLES[self.table]


def _money(*columns: str) -> tuple[Check, ...]:
    return tuple(Check("between", column=c, low=0, high=MAX_CENTS) for c in columns)


SILVER_SUITES = (
    Suite(
        "silver.orders",
        (
            Check("not_null", "order_id"),
            Check("unique", "order_id"),
            *_money("subtotal_cents", "discount_cents", "shipping_cents", "total_cents"),
            Check("in_set", "currency", values=CURRENCIES),
            Check("in_set", "status", values=ORDER_STATUSES),
            Check("not_in_future", "placed_at"),
            Check("not_in_future", "updated_at"),
        ),
    ),
    Suite(
        "silver.order_items",
        (
            Check("unique_together", columns=("order_id", "line_number")),
            Check("between", "quantity", low=1, high=2**31 - 1),
            *_money("unit_price_cents", "discount_cents", "line_total_cents"),
            Check("exists_in", "order_id", parent="silver.orders", parent_column="order_id"),
            Check("not_in_future", "event_time"),
        ),
    ),
    Suite(
        "silver.payments",
        (
            Check("not_null", "event_id"),
            Check("unique", "event_id"),
            *_money("amount_cents"),
            Check("in_set", "currency", values=CURRENCIES),
            Check("in_set", "status", values=PAYMENT_STATUSES),
            Check("exists_in", "order_id", parent="silver.orders", parent_column="order_id"),
            Check("not_in_future", "event_time"),
        ),
    ),
    Suite(
        "silver.inventory_movements",
        (
            Check("unique", "event_id"),
            Check("between", "on_hand", low=0, high=2**31 - 1),
            Check("between", "reserved", low=0, high=2**31 - 1),
            Check("a_at_least_b", columns=("on_hand", "reserved")),
            Check("exists_in", "sku", parent="silver.products", parent_column="sku"),
            Check("not_in_future", "event_time"),
        ),
    ),
    Suite(
        "silver.products",
        (
            Check("unique", "sku"),
            *_money("price_cents"),
            Check("in_set", "currency", values=CURRENCIES),
        ),
    ),
    Suite("silver.users", (Check("unique", "user_id"), Check("not_in_future", "event_time"))),
    Suite(
        "silver.cart_events",
        (Check("unique", "event_id"), Check("not_in_future", "event_time")),
    ),
    Suite(
        "silver.product_views",
        (Check("unique", "event_id"), Check("not_in_future", "event_time")),
    ),
    Suite("silver.searches", (Check("unique", "event_id"), Check("not_in_future", "event_time"))),
)

GOLD_SUITES = (
    Suite(
        "gold.fct_orders",
        (
            Check("unique", "order_id"),
            *_money("total_cents", "captured_cents", "refunded_cents", "net_revenue_cents"),
            Check("a_at_least_b", columns=("captured_cents", "refunded_cents")),
            Check(
                "exists_in", "customer_id", parent="gold.dim_customers", parent_column="customer_id"
            ),
        ),
    ),
    Suite(
        "gold.fct_order_lines",
        (
            Check("unique", "order_line_id"),
            *_money("net_cents", "allocated_order_discount_cents"),
            Check("exists_in", "order_id", parent="gold.fct_orders", parent_column="order_id"),
        ),
    ),
    Suite(
        "gold.sales_daily",
        (Check("unique", "sales_key"), *_money("gross_cents", "discount_cents", "net_cents")),
    ),
    Suite(
        "gold.funnel_daily",
        (
            Check("unique", "date_day"),
            Check("a_at_least_b", columns=("sessions", "view_sessions")),
            Check("a_at_least_b", columns=("checkout_sessions", "paid_sessions")),
            Check("between", "conversion_rate", low=0, high=1),
        ),
    ),
    Suite(
        "gold.finance_revenue_reconciliation",
        (Check("unique", "order_date"), Check("between", "difference_cents", low=0, high=0)),
    ),
    Suite("gold.stock_health", (Check("unique", "sku"), Check("between", "available", low=0))),
    Suite("gold.dim_products", (Check("unique", "sku"),)),
    Suite("gold.dim_customers", (Check("unique", "customer_id"),)),
)

SUITES: dict[Layer, tuple[Suite, ...]] = {"silver": SILVER_SUITES, "gold": GOLD_SUITES}


@dataclass(frozen=True)
class Failure:
    table: str
    expectation: str
    column: str | None
    unexpected: int
    rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)  # the failing rows' keys

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        shown = "; ".join(
            ", ".join(f"{k}={v}" for k, v in row.items()) for row in self.sample[:SAMPLE]
        )
        more = f" (and {self.unexpected - len(self.sample)} more)" if self.unexpected > 5 else ""
        return f"{self.expectation} failed on {where}: {self.unexpected} of {self.rows} rows" + (
            f" — {shown}{more}" if shown else ""
        )


@dataclass(frozen=True)
class TableResult:
    table: str
    rows: int
    expectations: int
    failures: tuple[Failure, ...]
    seconds: float
    missing: bool = False  # the table has no Delta log yet: nothing to check

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class GateResult:
    layer: Layer
    tables: tuple[TableResult, ...]
    at: str
    seconds: float
    docs: str | None = None

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def failures(self) -> list[Failure]:
        return [f for t in self.tables for f in t.failures]

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class GateFailed(RuntimeError):
    """A quality gate found rows that break an expectation; the step after it must not run."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        lines = [f"the {result.layer} quality gate failed:"]
        lines += [f"  - {failure.describe()}" for failure in result.failures]
        super().__init__("\n".join(lines))


# ---------------------------------------------------------------- reading the tables


def _read(path: str, columns: Sequence[str]) -> pd.DataFrame:
    from deltalake import DeltaTable

    table = DeltaTable(path)
    wanted = [c for c in columns if c in table.schema().to_arrow().names]
    return table.to_pyarrow_dataset().to_table(columns=wanted).to_pandas()


def _frame(suite: Suite, lake_root: str) -> pd.DataFrame:
    """The columns the suite reads, its keys, and the computed columns of referential checks."""
    table = suite.registry
    needed: list[str] = list(table.keys)
    for check in suite.checks:
        for column in (check.column, *check.columns):
            if column and column not in needed:
                needed.append(column)
    frame = _read(table.path(lake_root), needed)
    for check in suite.checks:
        if check.kind == "exists_in" and check.column and check.parent and check.parent_column:
            parent = TABLES[check.parent]
            keys = set(_read(parent.path(lake_root), [check.parent_column])[check.parent_column])
            frame[_known(check)] = frame[check.column].isna() | frame[check.column].isin(keys)
    return frame


def _known(check: Check) -> str:
    return f"{check.column}_in_{(check.parent or '').replace('.', '_')}"


def _expectation(check: Check, index: int, now: datetime) -> Any:
    """The check as an expectation; `meta` carries its index (results come back in any order)."""
    expectation = _built(check, now)
    expectation.meta = {"check": index}
    return expectation


def _built(check: Check, now: datetime) -> Any:
    import great_expectations as gx

    e: Any = gx.expectations  # typed loosely: GX re-exports its expectation classes untyped
    match check.kind:
        case "not_null":
            return e.ExpectColumnValuesToNotBeNull(column=check.column, mostly=check.mostly)
        case "unique":
            return e.ExpectColumnValuesToBeUnique(column=check.column)
        case "unique_together":
            return e.ExpectCompoundColumnsToBeUnique(column_list=list(check.columns))
        case "between":
            return e.ExpectColumnValuesToBeBetween(
                column=check.column, min_value=check.low, max_value=check.high
            )
        case "in_set":
            return e.ExpectColumnValuesToBeInSet(column=check.column, value_set=list(check.values))
        case "not_in_future":
            # A few minutes of slack for clocks that drift between services.
            return e.ExpectColumnValuesToBeBetween(
                column=check.column, max_value=now + timedelta(minutes=5)
            )
        case "a_at_least_b":
            a, b = check.columns
            return e.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=a, column_B=b, or_equal=True, ignore_row_if="either_value_is_missing"
            )
        case "exists_in":
            return e.ExpectColumnValuesToBeInSet(
                column=_known(check), value_set=[True], mostly=check.mostly
            )
    raise ValueError(f"unknown check kind {check.kind!r}")


def _described(check: Check, config: Any) -> str:
    if check.kind == "exists_in":
        return f"{check.column} must exist in {check.parent}.{check.parent_column}"
    return str(config.type)


# ---------------------------------------------------------------- running a gate


class _Context:
    """The Great Expectations project under the gold folder: file mode, analytics off, one
    Data Docs site."""

    def __init__(self, settings: Settings) -> None:
        import great_expectations as gx

        self.gx: Any = gx
        self.root = settings.gold_path / "quality"
        self.site = self.root / "site"
        self.root.mkdir(parents=True, exist_ok=True)
        self.context: Any = gx.get_context(mode="file", project_root_dir=str(self.root))
        self.context.enable_analytics(False)
        # No progress bars on the console: the gate's own report says what happened.
        self.context.variables.progress_bars = self.gx.data_context.types.base.ProgressBarsConfig(
            globally=False
        )
        if SITE not in self.context.list_data_docs_sites():
            self.context.add_data_docs_site(
                site_name=SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    # SiteBuilder takes it; GX's TypedDict of the config does not list it.
                    "show_how_to_buttons": False,  # type: ignore[typeddict-unknown-key]
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.site),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        try:
            self.source: Any = self.context.data_sources.get("lake")
        except (KeyError, ValueError):
            self.source = self.context.data_sources.add_pandas("lake")

    def run(self, suite: Suite, frame: pd.DataFrame, now: datetime) -> Any:
        gx, name = self.gx, suite.table.replace(".", "__")
        try:
            asset = self.source.get_asset(name)
        except (KeyError, LookupError):
            asset = self.source.add_dataframe_asset(name=name)
        try:
            batch = asset.get_batch_definition("whole")
        except (KeyError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe("whole")
        expectation_suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(
                name=name,
                expectations=[_expectation(check, n, now) for n, check in enumerate(suite.checks)],
            )
        )
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=expectation_suite)
        )
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": list(suite.registry.keys),
                    "partial_unexpected_count": SAMPLE,
                },
            )
        )
        return checkpoint.run(batch_parameters={"dataframe": frame})

    def docs(self) -> str | None:
        built = self.context.build_data_docs(site_names=[SITE])
        url = built.get(SITE)
        return str(url) if url else None


def _failures(suite: Suite, outcome: Any, rows: int) -> list[Failure]:
    failures = []
    for validation in outcome.run_results.values():
        for result in validation.results:
            if result.success:
                continue
            check = suite.checks[int(result.expectation_config.meta["check"])]
            detail = result.result or {}
            sample = [
                {k: _plain(v) for k, v in row.items() if k in suite.registry.keys}
                for row in detail.get("partial_unexpected_index_list") or []
                if isinstance(row, dict)
            ]
            error = (result.exception_info or {}).get("exception_message")
            failures.append(
                Failure(
                    table=suite.table,
                    expectation=_described(check, result.expectation_config)
                    + (f" (could not run: {error})" if error else ""),
                    column=check.column or ", ".join(check.columns) or None,
                    unexpected=int(detail.get("unexpected_count") or 0),
                    rows=rows,
                    sample=sample[:SAMPLE],
                )
            )
    return failures


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def run_gate(
    settings: Settings,
    layer: Layer,
    *,
    lake_root: str | None = None,
    suites: Sequence[Suite] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    raise_on_failure: bool = True,
) -> GateResult:
    """Run the layer's suites; raise GateFailed (after writing the results) when one fails."""
    from deltalake import DeltaTable

    root = lake_root or settings.lake_path
    began, moment = time.perf_counter(), now()
    context = _Context(settings)
    results = []
    for suite in suites or SUITES[layer]:
        path = suite.registry.path(root)
        started = time.perf_counter()
        if not DeltaTable.is_deltatable(path):
            results.append(TableResult(suite.table, 0, len(suite.checks), (), 0.0, missing=True))
            continue
        frame = _frame(suite, root)
        outcome = context.run(suite, frame, moment)
        results.append(
            TableResult(
                suite.table,
                len(frame),
                len(suite.checks),
                tuple(_failures(suite, outcome, len(frame))),
                time.perf_counter() - started,
            )
        )
    gate = GateResult(
        layer,
        tuple(results),
        moment.isoformat(),
        time.perf_counter() - began,
        docs=context.docs(),
    )
    _keep(settings, gate)
    if raise_on_failure and not gate.ok:
        raise GateFailed(gate)
    return gate


def results_dir(settings: Settings) -> Path:
    return settings.gold_path / "quality" / "results"


def _keep(settings: Settings, gate: GateResult) -> None:
    """The latest result per layer (the dashboard reads it) and a line of history."""
    folder = results_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    document = gate.to_json()
    (folder / f"{gate.layer}.json").write_text(json.dumps(document, indent=1, default=str))
    with (folder / "history.jsonl").open("a") as history:
        history.write(json.dumps(document, default=str) + "\n")


def latest(settings: Settings, layer: Layer) -> dict[str, Any] | None:
    path = results_dir(settings) / f"{layer}.json"
    return json.loads(path.read_text()) if path.exists() else None
