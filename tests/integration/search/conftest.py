"""A search alias of its own per test module, seeded from the demo catalog, and an API on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from demo.catalog import generate
from serving.app import create_app
from shoplake.config import Settings
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.documents import IndexedProduct
from spark_jobs.search_reindex import build

CATALOG_SIZE = 300
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def demo_products(count: int = CATALOG_SIZE) -> list[IndexedProduct]:
    """The demo catalog as indexed products: the n-th is n minutes newer and more popular."""
    return [
        IndexedProduct(
            **vars(product),
            status="active",
            version=1,
            created_at=T0 + timedelta(minutes=n),
            updated_at=T0 + timedelta(minutes=n),
            popularity=float(n % 50),
        )
        for n, product in enumerate(generate(count))
    ]


def search_settings(settings: Settings, alias: str) -> Settings:
    return settings.model_copy(
        update={
            "search_alias": alias,
            "rate_limit_auth_per_minute": 100_000,
            "rate_limit_write_per_minute": 100_000,
            "rate_limit_behaviour_per_minute": 100_000,
        }
    )


@pytest.fixture
def product_index(settings: Settings, unique: str) -> Iterator[ProductIndex]:
    client = make_client(settings, timeout_s=30)
    index = ProductIndex(client, f"test-products-{unique}")
    yield index
    index.drop()
    client.close()


@pytest.fixture(scope="module")
def seeded(settings: Settings) -> Iterator[ProductIndex]:
    """One seeded alias shared by a module's read-only tests."""
    import uuid

    client = make_client(settings, timeout_s=30)
    index = ProductIndex(client, f"test-products-{uuid.uuid4().hex[:10]}")
    build(index, demo_products(), source="demo")
    yield index
    index.drop()
    client.close()


@pytest.fixture(scope="module")
def search_client(settings: Settings, seeded: ProductIndex) -> Iterator[TestClient]:
    with TestClient(create_app(search_settings(settings, seeded.alias))) as client:
        yield client
