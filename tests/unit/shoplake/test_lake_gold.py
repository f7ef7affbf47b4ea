"""Each gold table is defined once: the registry (`shoplake/lake.py`) names it with its columns,
and its dbt model builds exactly those columns. This holds the two together."""

from __future__ import annotations

from pathlib import Path

import yaml

from shoplake.config import REPO_ROOT
from shoplake.lake import DBT_MARTS

DBT = REPO_ROOT / "dbt"


def _documented_models() -> dict[str, list[str]]:
    """Model name -> its columns, from every YAML of the marts."""
    models: dict[str, list[str]] = {}
    for path in (DBT / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            models[model["name"]] = [column["name"] for column in model.get("columns", [])]
    return models


def _mart_files() -> dict[str, Path]:
    return {path.stem: path for path in (DBT / "models" / "marts").rglob("*.sql")}


def test_every_gold_table_is_a_mart_with_the_registrys_columns() -> None:
    documented, files = _documented_models(), _mart_files()
    for table in DBT_MARTS:
        if table.short_name == "product_price_history":
            continue  # the snapshot: its columns are the watched ones and dbt's own
        assert table.short_name in files, f"{table.name} has no dbt model"
        assert documented.get(table.short_name) == list(table.column_names), table.name


def test_every_mart_is_declared_in_the_registry() -> None:
    declared = {t.short_name for t in DBT_MARTS}
    assert set(_mart_files()) <= declared


def test_the_price_history_snapshot_watches_the_registrys_columns() -> None:
    (snapshot,) = yaml.safe_load((DBT / "snapshots" / "product_price_history.yml").read_text())[
        "snapshots"
    ]
    watched = (DBT / "models" / "staging" / "silver" / "stg_silver__product_prices.sql").read_text()
    table = next(t for t in DBT_MARTS if t.short_name == snapshot["name"])
    ours = [c for c in table.column_names if not c.startswith("dbt_")]
    assert all(f"        {column}" in watched for column in ours)
    assert snapshot["config"]["unique_key"] == "sku"


def test_every_gold_key_is_tested_unique_and_not_null() -> None:
    tested: dict[str, set[str]] = {}
    for path in (DBT / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns", []):
                names = {
                    t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests", [])
                }
                if {"unique", "not_null"} <= names:
                    tested.setdefault(model["name"], set()).add(column["name"])
    for table in DBT_MARTS:
        if table.short_name == "product_price_history":
            continue
        assert set(table.keys) <= tested.get(table.short_name, set()), table.name
