"""Full reindex: build a fresh versioned index, check it, swap the alias atomically, drop the old.

Source: `silver.products` (read with delta-rs) when it holds rows, plus a catch-up from Postgres
of the products changed since silver's newest change (silver lags the truth by the lake's
schedule, and the consumer will not replay what it applied before the rebuild began); the
Postgres `products` table alone (the columns `shoplake.catalog` declares) when silver is empty.
Silver first because a full scan belongs on the lake, not on the OLTP primary; the catch-up is a
small indexed-range read.

While the new index is built it carries the `<alias>-building` alias, so the search consumer
writes live changes into it too. Snapshot documents are written with `version_type=external`,
so they never replace a newer version the consumer has already written. Searches keep reading
the old index until the one atomic alias update.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from elasticsearch import Elasticsearch

from shoplake.catalog import products_read
from shoplake.config import Settings
from shoplake.lake import PRODUCT_VIEWS, PRODUCTS
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.documents import IndexedProduct

log = logging.getLogger(__name__)

Source = Literal["auto", "silver", "postgres"]
BATCH = 1_000
CATCH_UP_MARGIN = timedelta(minutes=5)


class ReindexError(RuntimeError):
    """The new index does not match its source; the alias was left alone."""


@dataclass(frozen=True)
class ReindexResult:
    alias: str
    index: str
    source: str
    source_count: int
    indexed: int
    removed: list[str]
    seconds: float


def _delta_rows(path: str, columns: list[str]) -> Iterator[dict[str, Any]]:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(path)
    except TableNotFoundError:
        return
    for batch in table.to_pyarrow_dataset().to_batches(columns=columns, batch_size=BATCH):
        yield from batch.to_pylist()


def popularity(settings: Settings) -> dict[str, float]:
    """Views per SKU from silver.product_views (a gold popularity mart will replace this)."""
    counts: Counter[str] = Counter()
    for row in _delta_rows(PRODUCT_VIEWS.path(settings.lake_path), ["sku"]):
        counts[row["sku"]] += 1
    return {sku: float(n) for sku, n in counts.items()}


def _aware(value: datetime | None, fallback: datetime) -> datetime:
    if value is None:
        return fallback
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def silver_products(settings: Settings) -> Iterator[IndexedProduct]:
    now = datetime.now(UTC)
    for row in _delta_rows(PRODUCTS.path(settings.lake_path), list(PRODUCTS.column_names)):
        updated = _aware(row["updated_at"], now)
        yield IndexedProduct(
            sku=row["sku"],
            name=row["name"] or "",
            description=row["description"] or "",
            brand=row["brand"] or "",
            category_path=list(row["category_path"] or []),
            price_cents=row["price_cents"] or 0,
            currency=row["currency"] or "",
            status=row["status"] or "draft",
            attributes=json.loads(row["attributes"]) if row["attributes"] else {},
            image_urls=list(row["image_urls"] or []),
            version=row["version"],
            created_at=_aware(row["created_at"], updated),
            updated_at=updated,
        )


def postgres_products(
    settings: Settings, changed_since: datetime | None = None
) -> Iterator[IndexedProduct]:
    from shoplake.db import make_engine

    query = sa.select(*products_read.c).order_by(products_read.c.sku)
    if changed_since is not None:
        query = query.where(products_read.c.updated_at >= changed_since)
    engine = make_engine(settings, pool_size=1)
    try:
        # REPEATABLE READ: one consistent snapshot however long the scan takes.
        with engine.connect().execution_options(
            isolation_level="REPEATABLE READ", stream_results=True, yield_per=BATCH
        ) as conn:
            for row in conn.execute(query).mappings():
                yield IndexedProduct.model_validate(
                    {**row, "category_path": list(row["category_path"])}
                )
    finally:
        engine.dispose()


def _batched(items: Iterable[IndexedProduct], size: int) -> Iterator[list[IndexedProduct]]:
    batch: list[IndexedProduct] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _with_popularity(
    products: Iterable[IndexedProduct], scores: dict[str, float]
) -> Iterator[IndexedProduct]:
    for product in products:
        yield product.model_copy(update={"popularity": scores.get(product.sku, 0.0)})


def build(
    index: ProductIndex,
    products: Iterable[IndexedProduct],
    *,
    source: str,
    batch: int = BATCH,
) -> ReindexResult:
    """Index `products` into a new index, check its count, swap the alias, drop the old."""
    began = time.monotonic()
    new_index = index.create_index()
    index.client.indices.put_settings(index=new_index, settings={"refresh_interval": "-1"})
    index.mark_building(new_index)
    skus: set[str] = set()
    try:
        for chunk in _batched(products, batch):
            skus.update(p.sku for p in chunk)
            result = index.write(chunk, [new_index], version_type="external")
            if result.rejected:
                raise ReindexError(f"documents rejected: {dict(list(result.rejected.items())[:5])}")
        index.client.indices.put_settings(index=new_index, settings={"refresh_interval": "1s"})
        index.refresh(new_index)
        indexed = index.count(new_index)
        # The consumer may have added products created during the build: never fewer.
        if indexed < len(skus):
            raise ReindexError(f"{new_index} holds {indexed} documents, the source {len(skus)}")
        removed = index.swap(new_index)
    except BaseException:
        index.client.indices.delete(index=new_index, ignore_unavailable=True)
        raise
    for name in removed:
        index.client.indices.delete(index=name, ignore_unavailable=True)
    return ReindexResult(
        index.alias, new_index, source, len(skus), indexed, removed, time.monotonic() - began
    )


def _silver_then_catch_up(settings: Settings) -> Iterator[IndexedProduct]:
    newest: datetime | None = None
    for product in silver_products(settings):
        newest = product.updated_at if newest is None else max(newest, product.updated_at)
        yield product
    if newest is not None:
        # A product changed since silver's newest change; a higher version wins in the index.
        yield from postgres_products(settings, changed_since=newest - CATCH_UP_MARGIN)


def silver_has_rows(settings: Settings) -> bool:
    return next(_delta_rows(PRODUCTS.path(settings.lake_path), ["sku"]), None) is not None


def run(
    settings: Settings,
    *,
    source: Source = "auto",
    alias: str | None = None,
    client: Elasticsearch | None = None,
) -> ReindexResult:
    """`shoplake search reindex`: rebuild the index behind the alias from the chosen source."""
    es = client or make_client(settings, timeout_s=60)
    index = ProductIndex(es, alias or settings.search_alias)
    chosen = source
    if chosen == "auto":
        chosen = "silver" if silver_has_rows(settings) else "postgres"
    products = (
        _silver_then_catch_up(settings) if chosen == "silver" else postgres_products(settings)
    )
    try:
        return build(index, _with_popularity(products, popularity(settings)), source=chosen)
    finally:
        if client is None:
            es.close()
