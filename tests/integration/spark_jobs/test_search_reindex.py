"""Reindex: a new index checked and swapped in atomically while searches keep succeeding."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.app import create_app
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.search.adapter import ProductIndex
from shoplake.search.index import building_alias
from spark_jobs.search_reindex import build, run
from tests.support.search import demo_products, search_settings


def test_searches_never_fail_while_the_alias_swaps(
    settings: Settings, product_index: ProductIndex
) -> None:
    products = demo_products(200)
    first = build(product_index, products, source="demo")
    statuses: list[int] = []
    totals: set[int] = set()
    stop = threading.Event()
    with TestClient(create_app(search_settings(settings, product_index.alias))) as client:

        def search_loop() -> None:
            while not stop.is_set():
                response = client.get("/v1/search", params={"q": "jacket"})
                statuses.append(response.status_code)
                if response.status_code == 200:
                    totals.add(response.json()["total"])

        loop = threading.Thread(target=search_loop)
        loop.start()
        try:
            second = build(product_index, products, source="demo")
            third = build(product_index, products, source="demo")
        finally:
            stop.set()
            loop.join()
    assert len(statuses) > 20 and set(statuses) == {200}
    assert len(totals) == 1  # the same answer before, during and after
    assert product_index.indices() == [third.index]
    assert second.removed == [first.index] and third.removed == [second.index]
    assert not product_index.client.indices.exists(index=f"{first.index},{second.index}")
    assert product_index.indices(building_alias(product_index.alias)) == []


def test_reindex_from_postgres_counts_every_product(
    settings: Settings, product_index: ProductIndex
) -> None:
    engine = make_engine(settings, pool_size=1)
    with engine.connect() as conn:
        before = conn.execute(sa.text("select count(*) from products")).scalar_one()
    engine.dispose()
    result = run(settings, source="postgres", alias=product_index.alias)
    assert result.indexed == result.source_count >= before
    assert product_index.count() == result.indexed
