"""How the gold steps run dbt: its settings come from shoplake's, its results from
run_results.json, and a failed node is a DbtFailed that names it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shoplake.config import Settings
from spark_jobs.gold.dbt import (
    PROJECT_DIR,
    DbtFailed,
    DbtRun,
    GoldTarget,
    _results,
    dbt_env,
    target_dir,
)


def test_dbt_is_pointed_at_the_endpoint_and_the_lake_from_settings(
    settings: Settings, tmp_path: Path
) -> None:
    local = settings.model_copy(
        update={
            "spark_sql_host": "sql.internal",
            "spark_sql_port": 443,
            "dbt_threads": 2,
            "dbt_poll_interval_s": 3,
        }
    )
    env = dbt_env(local, GoldTarget("/lake/", "t1_"))
    assert env["DBT_SHOPLAKE_HOST"] == "sql.internal" and env["DBT_SHOPLAKE_PORT"] == "443"
    assert env["DBT_SHOPLAKE_THREADS"] == "2"
    assert env["DBT_SHOPLAKE_POLL_INTERVAL"] == "3"
    assert env["DBT_SHOPLAKE_LAKE_ROOT"] == "/lake"
    assert env["DBT_SHOPLAKE_SCHEMA_PREFIX"] == "t1_"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "False"
    assert env["DBT_TARGET_PATH"].endswith("target-t1")
    assert target_dir(local, GoldTarget("/lake")) == local.gold_path / "dbt" / "target-main"


def test_the_profile_takes_the_poll_interval_from_settings() -> None:
    """dbt-spark's own default sleeps 5 s between polls of a running statement: every test
    took 5 or 10 s on the endpoint. The profile must read shoplake's interval instead."""
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    output = profile["shoplake"]["outputs"]["local"]
    assert "DBT_SHOPLAKE_POLL_INTERVAL" in output["poll_interval"]
    assert Settings.model_fields["dbt_poll_interval_s"].default < 5


def test_results_are_read_and_a_failure_names_its_node(tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"
    path.write_text(
        json.dumps(
            {
                "results": [
                    {
                        "unique_id": "model.shoplake_gold.fct_orders",
                        "status": "success",
                        "execution_time": 3.5,
                        "message": "OK",
                        "failures": None,
                    },
                    {
                        "unique_id": "test.shoplake_gold.unique_fct_orders_order_id.1a",
                        "status": "fail",
                        "execution_time": 1.0,
                        "message": "Got 2 results",
                        "failures": 2,
                    },
                    {
                        "unique_id": "model.shoplake_gold.sales_daily",
                        "status": "skipped",
                        "execution_time": 0,
                        "message": None,
                        "failures": None,
                    },
                ]
            }
        )
    )
    results = _results(path)
    run = DbtRun(("build",), 1, 12.0, results)
    assert not run.ok and [n.name for n in run.failures] == [
        "test.shoplake_gold.unique_fct_orders_order_id.1a"
    ]
    assert run.summary() == "dbt build: 1 success, 1 fail, 1 skipped in 12s"
    message = str(DbtFailed(run))
    assert "fail: test.shoplake_gold.unique_fct_orders_order_id.1a: Got 2 results" in message
    assert results[0].kind == "model" and results[0].name == "fct_orders"


def test_no_results_means_dbt_did_not_get_to_run(tmp_path: Path) -> None:
    assert _results(tmp_path / "missing.json") == ()
    with pytest.raises(DbtFailed, match="could not connect"):
        raise DbtFailed(DbtRun(("build",), 2, 1.0, (), output="Runtime Error: could not connect"))
