"""The build after new data leaves out unchanged seeds and views only while a kept state is
there and the endpoint still has every seed and view it names (on an in-memory endpoint; the
selector itself runs against the real one in the gold pipeline's integration tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shoplake.config import Settings
from spark_jobs.gold.dbt import GoldTarget, target_dir
from spark_jobs.gold.state import (
    NEW_DATA_SELECTOR,
    keep,
    new_data_args,
    relations_left_out,
    state_dir,
    usable,
)

TARGET = GoldTarget("/lake")


def _node(kind: str, name: str, schema: str, materialized: str | None = None) -> dict[str, Any]:
    return {
        "resource_type": kind,
        "name": name,
        "alias": name,
        "schema": schema,
        "config": {"materialized": materialized or kind},
    }


MANIFEST = {
    "nodes": {
        "seed.p.countries": _node("seed", "countries", "ref"),
        "model.p.stg_orders": _node("model", "stg_orders", "staging", "view"),
        "model.p.int_orders": _node("model", "int_orders", "intermediate", "view"),
        "model.p.fct_orders": _node("model", "fct_orders", "gold", "incremental"),
        "test.p.unique_fct_orders": _node("test", "unique_fct_orders", "gold_dbt_test__audit"),
    }
}


class Endpoint:
    """`SHOW TABLES IN <schema>` of an endpoint: schema → names (any case, as Spark answers)."""

    def __init__(self, relations: dict[str, set[str]]) -> None:
        self.relations = relations
        self.asked: list[str] = []

    def __call__(self, schema: str) -> set[str]:
        self.asked.append(schema)
        return self.relations.get(schema, set())


@pytest.fixture
def local(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"gold_dir": tmp_path / "gold"})


def _built(settings: Settings, manifest: dict[str, Any]) -> None:
    artifacts = target_dir(settings, TARGET)
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "manifest.json").write_text(json.dumps(manifest))


def test_only_seeds_and_views_may_be_left_out() -> None:
    assert relations_left_out(MANIFEST) == {
        "ref": {"countries"},
        "staging": {"stg_orders"},
        "intermediate": {"int_orders"},
    }


def test_the_state_is_usable_only_while_every_seed_and_view_is_in_the_endpoint() -> None:
    whole = Endpoint(
        {"ref": {"countries"}, "staging": {"STG_ORDERS", "x"}, "intermediate": {"int_orders"}}
    )
    assert usable(MANIFEST, whole)
    forgot_a_view = Endpoint({"ref": {"countries"}, "staging": {"stg_orders"}})
    assert not usable(MANIFEST, forgot_a_view)


def test_no_kept_state_builds_everything(local: Settings) -> None:
    assert new_data_args(local, TARGET, Endpoint({})) is None


def test_a_kept_state_selects_new_data_and_a_fresh_metastore_does_not(local: Settings) -> None:
    _built(local, MANIFEST)
    keep(local, TARGET)
    kept = state_dir(local, TARGET)
    assert json.loads((kept / "manifest.json").read_text()) == MANIFEST
    assert not list(kept.glob("*.tmp"))
    endpoint = Endpoint(
        {"ref": {"countries"}, "staging": {"stg_orders"}, "intermediate": {"int_orders"}}
    )
    assert new_data_args(local, TARGET, endpoint) == [
        "--selector",
        NEW_DATA_SELECTOR,
        "--state",
        str(kept),
    ]
    assert new_data_args(local, TARGET, Endpoint({})) is None  # a fresh metastore


def test_a_kept_state_that_does_not_read_builds_everything(local: Settings) -> None:
    kept = state_dir(local, TARGET)
    kept.mkdir(parents=True)
    (kept / "manifest.json").write_text('{"nodes": ')  # cut short
    assert new_data_args(local, TARGET, Endpoint({"ref": {"countries"}})) is None


def test_the_selector_is_declared_in_the_project() -> None:
    from spark_jobs.gold.dbt import PROJECT_DIR

    selectors = (PROJECT_DIR / "selectors.yml").read_text()
    assert f"name: {NEW_DATA_SELECTOR}" in selectors
