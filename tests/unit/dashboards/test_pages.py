"""Each dashboard page renders its charts from the gold marts (AppTest, no browser, no stack):
the marts are written with delta-rs into a lake of the test's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from shoplake.stack.dashboards import app_path
from tests.support.gold import write_gold_tables

# page script (relative to the app), its title, the charts it draws
PAGES = [
    ("views/sales.py", "Sales overview", 3),
    ("views/funnel.py", "Funnel", 2),
    ("views/customers.py", "Customers", 3),
    ("views/inventory.py", "Inventory health", 3),
    ("views/search.py", "Search", 2),
    ("views/data_health.py", "Data health", 1),
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    write_gold_tables(str(root))
    return root


@pytest.fixture
def app(lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("SHOPLAKE_LAKE_ROOT", str(lake))
    monkeypatch.setenv("SHOPLAKE_GOLD_DIR", str(tmp_path / "gold"))
    results = tmp_path / "gold" / "quality" / "results"
    results.mkdir(parents=True)
    (results / "silver.json").write_text(
        json.dumps(
            {
                "layer": "silver",
                "ok": False,
                "at": "2026-11-20T10:00:00+00:00",
                "tables": [
                    {
                        "table": "silver.payments",
                        "rows": 10,
                        "expectations": 7,
                        "missing": False,
                        "failures": [
                            {"expectation": "expect_column_values_to_be_between", "unexpected": 1}
                        ],
                    }
                ],
            }
        )
    )
    (results / "gold.json").write_text(
        json.dumps({"layer": "gold", "ok": True, "at": "2026-11-20T10:05:00+00:00", "tables": []})
    )
    return AppTest.from_file(str(app_path()), default_timeout=120)


@pytest.mark.parametrize(("page", "title", "charts"), PAGES)
def test_each_page_renders_its_charts(app: AppTest, page: str, title: str, charts: int) -> None:
    app.run()
    if page != "views/sales.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == [title]
    assert len(app.get("vega_lite_chart")) == charts
    assert not app.info, [i.value for i in app.info]  # no "no marts yet"


def test_the_filters_narrow_what_the_sales_page_sums(app: AppTest) -> None:
    app.run()
    everything = app.metric[0].value
    app.multiselect(key="categories").select("shoes").run()
    assert not app.exception
    assert app.metric[0].value != everything


def test_data_health_shows_a_failed_gate(app: AppTest) -> None:
    app.run()
    app.switch_page("views/data_health.py").run()
    assert app.metric[0].value == "FAILED"
    assert any("silver.payments" in str(frame.value) for frame in app.dataframe)


def test_a_lake_without_marts_says_how_to_build_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPLAKE_LAKE_ROOT", str(tmp_path / "empty"))
    app = AppTest.from_file(str(app_path()), default_timeout=60).run()
    assert not app.exception
    assert "shoplake gold build" in app.info[0].value
