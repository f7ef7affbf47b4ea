"""The gold layer on the real stack, on a small simulated history of its own: its own Postgres
database, its own Kafka topics, its own lake, its own schemas in the Spark SQL endpoint.

The history lands by the normal path (outbox relay → Kafka → bronze → silver), then `build`
gates silver, runs dbt (models and tests) and gates gold. The tests check the marts against the
registry and the planted history, the reconciliation to the cent (and that it catches one), an
incremental build after one more day, the endpoint by table name, the docs, and that a bad row
in silver stops the pipeline before dbt with a message naming it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
import sqlalchemy as sa
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import SparkSession

from demo.history.run import HistoryRun, extend_history, simulate_history
from demo.history.scratch import land, scratch_database
from demo.history.world import HistoryParams
from shoplake import db
from shoplake.config import Settings
from shoplake.lake import (
    DBT_MARTS,
    FCT_ORDERS,
    FCT_SESSIONS,
    FINANCE_REVENUE_RECONCILIATION,
    ORDER_ITEMS,
    PAYMENTS,
)
from shoplake.sql_endpoint import cursor, drop_schemas, query
from spark_jobs.gold.dbt import GoldTarget, run_dbt, source_freshness, target_dir
from spark_jobs.gold.gates import GateFailed
from spark_jobs.gold.pipeline import BuildReport, build, docs, run_tests
from spark_jobs.gold.reconcile import reconcile_revenue
from spark_jobs.gold.state import endpoint_relations, new_data_args
from tests.support.gold import arrow_type

# The module's fixture lands a history and runs the whole `dbt build` (some 160 nodes, each a
# few statements on the endpoint): minutes on a quiet machine, more on a busy one, so the module
# gets a longer safety net than the suite's default.
pytestmark = pytest.mark.timeout(3000)

# Small enough to land and build in minutes, with every kind of fact in it; it ends a day ago
# so that one more day can be simulated (a history never reaches into the future).
DAYS, USERS, PRODUCTS, SEED = 10, 150, 60, 23


@dataclass
class GoldLake:
    settings: Settings  # the scratch database, the test's gold folder
    target: GoldTarget
    namespace: str
    history: HistoryRun
    first_build: BuildReport


@pytest.fixture(scope="module")
def lake(
    settings: Settings, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GoldLake]:
    unique = uuid.uuid4().hex[:8]
    root = str(tmp_path_factory.mktemp("lake"))
    namespace = f"g{unique}"
    target = GoldTarget(root, f"t{unique}_")
    gold_dir = tmp_path_factory.mktemp("gold")
    with scratch_database(settings, f"shoplake_gold_{unique}", gold_dir=gold_dir) as scratch:
        try:
            params = HistoryParams(
                days=DAYS,
                users=USERS,
                products=PRODUCTS,
                seed=SEED,
                end=datetime.now(UTC).replace(microsecond=0) - timedelta(days=1),
            )
            history = simulate_history(scratch, params, namespace=namespace, lake_root=root)
            land(spark, scratch, root, namespace)
            report = build(scratch, target)
            yield GoldLake(scratch, target, namespace, history, report)
        finally:
            with cursor(settings) as cur:
                drop_schemas(
                    cur, ("silver", "gold", "staging", "intermediate", "ref"), target.schema_prefix
                )


def _rows(lake: GoldLake, table: str) -> list[dict[str, object]]:
    found = next(t for t in DBT_MARTS if t.name == table)
    rows: list[dict[str, object]] = (
        DeltaTable(found.path(lake.target.lake_root)).to_pyarrow_dataset().to_table().to_pylist()
    )
    return rows


def test_the_build_gates_builds_and_tests_every_mart(lake: GoldLake) -> None:
    report = lake.first_build
    assert report.silver_gate is not None and report.silver_gate.ok
    assert report.gold_gate is not None and report.gold_gate.ok
    assert report.dbt.ok, report.dbt.summary()
    kinds = {r.kind for r in report.dbt.results}
    assert {"model", "test", "seed", "snapshot", "unit_test"} <= kinds
    assert report.dbt.count("fail", "error") == 0


def test_every_gold_table_has_the_registrys_schema(lake: GoldLake) -> None:
    for table in DBT_MARTS:
        schema = pa.schema(DeltaTable(table.path(lake.target.lake_root)).schema().to_arrow())
        assert schema.names == list(table.column_names), table.name
        for column in table.columns:
            got, want = schema.field(column.name).type, arrow_type(column.type)
            assert got == want or (pa.types.is_timestamp(got) and pa.types.is_timestamp(want)), (
                table.name,
                column.name,
                got,
            )


def test_the_marts_find_what_the_history_planted(lake: GoldLake) -> None:
    assert lake.history.directory is not None
    truth = json.loads((lake.history.directory / "ground_truth.json").read_text())
    orders = _rows(lake, FCT_ORDERS.name)
    assert len(orders) == truth["observed"]["orders"]
    # Sessionisation finds exactly the sessions the simulator ran (30 minutes of silence,
    # never across midnight: the simulator's visits of one shopper are hours apart).
    sessions = _rows(lake, FCT_SESSIONS.name)
    assert len(sessions) == truth["observed"]["sessions"]
    assert sum(1 for s in sessions if s["is_anonymous"]) == truth["observed"]["anonymous_sessions"]
    paid = sum(1 for s in sessions if s["has_paid"])
    assert paid == sum(1 for o in orders if o["is_confirmed"])


def test_revenue_reconciles_to_the_cent_with_silver_and_postgres(lake: GoldLake) -> None:
    finance = _rows(lake, FINANCE_REVENUE_RECONCILIATION.name)
    assert finance and all(day["difference_cents"] == 0 for day in finance)
    revenue = reconcile_revenue(lake.settings, lake_root=lake.target.lake_root)
    assert revenue.ok, revenue.problems()
    assert revenue.gold_cents == revenue.postgres_cents > 0
    assert revenue.in_flight == ()
    report = run_tests(lake.settings, lake.target, select=["finance_revenue_reconciliation"])
    assert report.ok, report.dbt.summary()


def test_the_reconciliation_catches_a_cent(lake: GoldLake) -> None:
    engine = db.make_engine(lake.settings, pool_size=1)
    pick = sa.text("select id, order_id from payments where status = 'captured' limit 1")
    shift = sa.text("update payments set amount_cents = amount_cents + :cents where id = :id")
    try:
        with engine.begin() as conn:
            payment_id, order_id = conn.execute(pick).one()
            conn.execute(shift, {"cents": 1, "id": payment_id})
        revenue = reconcile_revenue(lake.settings, lake_root=lake.target.lake_root)
        assert not revenue.ok
        (day,) = [d for d in revenue.days if d.difference_cents]
        assert day.difference_cents == -1 and day.differing_orders == (order_id,)
        assert f"(-1 cents; orders {order_id})" in revenue.problems()[0]
    finally:
        with engine.begin() as conn:
            conn.execute(shift, {"cents": -1, "id": payment_id})
        engine.dispose()
    assert reconcile_revenue(lake.settings, lake_root=lake.target.lake_root).ok


def test_a_partial_refund_in_postgres_counts_against_the_capture(lake: GoldLake) -> None:
    """A return's refund leaves the payment `captured` with a `payment_refunds` row: the ledger
    leg subtracts it, so a refund the lake has not heard of shows as gold being ahead."""
    engine = db.make_engine(lake.settings, pool_size=1)
    pick = sa.text(
        "select id, order_id from payments where status = 'captured' order by id limit 1"
    )
    add = sa.text(
        "insert into payment_refunds (id, payment_id, order_id, idempotency_key, amount_cents) "
        "values ('test-partial-refund', :payment_id, :order_id, 'test-partial-refund', 37)"
    )
    remove = sa.text("delete from payment_refunds where id = 'test-partial-refund'")
    try:
        with engine.begin() as conn:
            payment_id, order_id = conn.execute(pick).one()
            conn.execute(add, {"payment_id": payment_id, "order_id": order_id})
        revenue = reconcile_revenue(lake.settings, lake_root=lake.target.lake_root)
        (day,) = [d for d in revenue.days if d.difference_cents]
        assert day.difference_cents == 37 and day.differing_orders == (order_id,)
    finally:
        with engine.begin() as conn:
            conn.execute(remove)
        engine.dispose()
    assert reconcile_revenue(lake.settings, lake_root=lake.target.lake_root).ok


def test_the_endpoint_answers_by_table_name(lake: GoldLake) -> None:
    prefix = lake.target.schema_prefix
    (counted,) = query(lake.settings, f"select count(*) from {prefix}gold.fct_orders")[0]
    assert counted == len(_rows(lake, FCT_ORDERS.name))
    silver = query(lake.settings, f"select count(*) from {prefix}silver.orders")[0][0]
    assert silver == counted


def test_sources_are_fresh(lake: GoldLake) -> None:
    freshness = source_freshness(lake.settings, lake.target)
    assert freshness.ok, [(s.source, s.status) for s in freshness.sources]
    assert {"silver.orders", "silver.payments", "silver.product_views"} <= {
        s.source for s in freshness.sources
    }


def test_docs_are_generated_with_lineage(lake: GoldLake) -> None:
    report = docs(lake.settings, lake.target)
    assert report.dbt_site.exists()
    manifest = json.loads((report.dbt_site.parent / "manifest.json").read_text())
    lineage = manifest["parent_map"]["model.shoplake_gold.sales_daily"]
    assert "model.shoplake_gold.fct_order_lines" in lineage
    catalog = json.loads((report.dbt_site.parent / "catalog.json").read_text())
    assert "model.shoplake_gold.fct_orders" in catalog["nodes"]
    assert report.quality_site is not None


def test_the_build_after_new_data_leaves_out_unchanged_seeds_views_and_unit_tests(
    lake: GoldLake,
) -> None:
    # The first build (the whole project) kept its manifest, and the endpoint has every view.
    endpoint = endpoint_relations(lake.settings)
    args = new_data_args(lake.settings, lake.target, endpoint)
    assert args is not None
    listed = run_dbt(
        lake.settings, lake.target, ["ls", "-q", "--output", "json", *args], check=False
    )
    assert listed.returncode == 0, listed.output
    nodes = [json.loads(line) for line in listed.output.splitlines() if line.startswith("{")]
    kinds = {n["resource_type"] for n in nodes}
    materialized = {n["config"]["materialized"] for n in nodes if n["resource_type"] == "model"}
    assert {"model", "test", "snapshot"} <= kinds
    assert not kinds & {"seed", "unit_test"} and "view" not in materialized
    assert any(n["name"].startswith("unique_fct_orders") for n in nodes)  # data tests run

    # A fresh metastore forgets views: then everything is built again.
    staging = f"{lake.target.schema_prefix}staging"

    def forgot_one(schema: str) -> set[str]:
        names = endpoint(schema)
        return set(sorted(names)[1:]) if schema == staging else names

    assert new_data_args(lake.settings, lake.target, forgot_one) is None


def test_one_more_day_builds_incrementally_and_still_reconciles(
    lake: GoldLake, spark: SparkSession
) -> None:
    before = {r["order_id"] for r in _rows(lake, FCT_ORDERS.name)}
    version = DeltaTable(FCT_ORDERS.path(lake.target.lake_root)).version()
    extension = extend_history(
        lake.settings,
        SEED,
        days=1,
        namespace=lake.namespace,
        lake_root=lake.target.lake_root,
    )
    assert extension.counts.orders > 0
    land(spark, lake.settings, lake.target.lake_root, lake.namespace)
    report = build(
        lake.settings,
        lake.target,
        select=["+finance_revenue_reconciliation", "+funnel_daily"],
    )
    assert report.dbt.ok, report.dbt.summary()
    orders = DeltaTable(FCT_ORDERS.path(lake.target.lake_root))
    assert "MERGE" in orders.history(1)[0]["operation"]  # merged, not rebuilt
    assert orders.version() > version
    after = [r["order_id"] for r in _rows(lake, FCT_ORDERS.name)]
    assert len(after) == len(set(after))  # no order twice
    assert before < set(after)
    assert reconcile_revenue(lake.settings, lake_root=lake.target.lake_root).ok


def test_a_bad_row_in_silver_stops_the_build_before_dbt_and_names_it(lake: GoldLake) -> None:
    root = lake.target.lake_root
    payments, items = DeltaTable(PAYMENTS.path(root)), DeltaTable(ORDER_ITEMS.path(root))
    bad_payment = payments.to_pyarrow_dataset().head(1).to_pylist()[0] | {
        "event_id": "bad-payment",
        "amount_cents": -500,
    }
    orphan = items.to_pyarrow_dataset().head(1).to_pylist()[0] | {"order_id": "no-such-order"}
    write_deltalake(
        PAYMENTS.path(root),
        pa.Table.from_pylist([bad_payment], schema=pa.schema(payments.schema().to_arrow())),
        mode="append",
    )
    write_deltalake(
        ORDER_ITEMS.path(root),
        pa.Table.from_pylist([orphan], schema=pa.schema(items.schema().to_arrow())),
        mode="append",
    )
    gold_version = DeltaTable(FCT_ORDERS.path(root)).version()
    results = target_dir(lake.settings, lake.target) / "run_results.json"
    results_before = results.stat().st_mtime_ns if results.exists() else None
    try:
        with pytest.raises(GateFailed) as failed:
            build(lake.settings, lake.target)
        message = str(failed.value)
        assert "the silver quality gate failed" in message
        assert "silver.payments.amount_cents" in message and "event_id=bad-payment" in message
        assert "order_id must exist in silver.orders" in message
        assert "order_id=no-such-order" in message
        # Nothing downstream ran: dbt was not started and gold did not move.
        assert DeltaTable(FCT_ORDERS.path(root)).version() == gold_version
        assert (results.stat().st_mtime_ns if results.exists() else None) == results_before
    finally:
        DeltaTable(PAYMENTS.path(root)).delete("event_id = 'bad-payment'")
        DeltaTable(ORDER_ITEMS.path(root)).delete("order_id = 'no-such-order'")
