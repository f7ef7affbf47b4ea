"""Search test data: the demo catalog as indexed products, and settings on a test alias."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from demo.catalog import generate
from shoplake.config import Settings
from shoplake.search.documents import IndexedProduct
from tests.support.api import generous_limits

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
    """The suite's API settings (generous limits) on a test's own search alias."""
    return generous_limits(settings).model_copy(update={"search_alias": alias})
