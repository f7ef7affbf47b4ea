"""DuckDB over the lake: a view per Delta table, by the endpoint's names, and each table's
freshness read from its log; and `shoplake sql -c` prints a query's rows."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shoplake.duck import connect, freshness, query
from shoplake.lake import GOLD_TABLES, SALES_DAILY
from shoplake_cli.main import app
from tests.support.gold import write_gold_tables


def test_every_gold_table_is_a_view_with_its_rows(tmp_path: Path) -> None:
    lake = str(tmp_path)
    write_gold_tables(lake, days=5, per_day=2)
    con, found = connect(lake)
    assert {t.name for t in found} == {t.name for t in GOLD_TABLES}
    result = query(con, "select count(*), sum(net_cents) >= 0 from gold.sales_daily")
    assert result.rows == [(10, True)]
    assert result.columns == ["count_star()", "(sum(net_cents) >= 0)"]
    dated = query(con, "select count(*) from gold.funnel_daily where date_day >= ?", ["2000-01-01"])
    assert dated.rows == [(5,)]


def test_freshness_comes_from_the_log_and_a_missing_table_says_so(tmp_path: Path) -> None:
    lake = str(tmp_path)
    write_gold_tables(lake, days=2, per_day=1)
    fresh = {item.name: item for item in freshness(lake)}
    sales = fresh[SALES_DAILY.name]
    assert sales.version == 0 and sales.rows == 2 and sales.age_seconds is not None
    assert fresh["silver.orders"].version is None


def test_the_sql_command_prints_a_table(tmp_path: Path) -> None:
    write_gold_tables(str(tmp_path), days=3, per_day=1)
    result = CliRunner().invoke(
        app, ["sql", "--lake", str(tmp_path), "-c", "select count(*) as days from gold.dim_date"]
    )
    assert result.exit_code == 0, result.output
    assert "days" in result.output and "│ 3 " in result.output
    bad = CliRunner().invoke(app, ["sql", "--lake", str(tmp_path), "-c", "select * from nope"])
    assert bad.exit_code == 1 and "nope" in bad.output
