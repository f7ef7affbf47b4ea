"""Fixtures every integration test may use, beside the root conftest's stack and Spark session:
a search alias of its own per test (or module), seeded from the demo catalog, and an API on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from shoplake.config import Settings
from shoplake.search.adapter import ProductIndex, make_client
from spark_jobs.search_reindex import build
from tests.support.search import demo_products, search_settings


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
