"""What layers outside `serving` may rely on from the catalog: its cache key, its columns and
how a category prefix matches a product's path.

`serving.catalog` owns the products table and its cache; the search reindex (spark_jobs) reads
the table and the cache invalidator (streaming) deletes cache entries. They may not import
serving, so the parts they share are declared here, and a unit test holds serving's table to
this list (tests/unit/serving/catalog/test_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

PRODUCT_CACHE_PREFIX = "product:"


def product_cache_key(sku: str) -> str:
    """The Redis key of a product's cached public view."""
    return f"{PRODUCT_CACHE_PREFIX}{sku}"


def category_matches(path: Sequence[str], prefix: str) -> bool:
    """True when the category path starts with the '/'-joined prefix, slug by slug: how a
    category promotion finds its products, in the pricing engine and in the forecasts'
    promotion calendar alike."""
    wanted = [part for part in prefix.strip("/").split("/") if part]
    return bool(wanted) and list(path[: len(wanted)]) == wanted


# The columns of `products` that readers outside serving select, with their types: a
# lightweight table clause (not registered on the metadata; serving's Table is the real one).
products_read = sa.table(
    "products",
    sa.column("sku", sa.Text),
    sa.column("name", sa.Text),
    sa.column("description", sa.Text),
    sa.column("brand", sa.Text),
    sa.column("category_path", ARRAY(sa.Text)),
    sa.column("price_cents", sa.BigInteger),
    sa.column("currency", sa.String(3)),
    sa.column("status", sa.Text),
    sa.column("attributes", JSONB),
    sa.column("image_urls", ARRAY(sa.Text)),
    sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
