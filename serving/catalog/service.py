"""Rules of the catalog: product writes with their events, cache-first reads, listing, categories.

Other domains (cart, pricing, wishlist) read products only through `get_product` and
`get_products` here, never through the catalog's store.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import anyio.to_thread
import redis
import redis.asyncio
from sqlalchemy import Connection, Engine, RowMapping

from serving.catalog import cache, store
from serving.catalog.cursor import product_cursor, product_key, sort_key
from serving.catalog.schemas import (
    CategoryNode,
    ProductCreate,
    ProductPublic,
    ProductReplace,
    ProductSort,
    ProductsPage,
    ProductStatus,
    ProductUpdate,
)
from serving.errors import ApiError, CommonError, not_found
from serving.pagination import InvalidCursor, invalid_cursor
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.catalog import (
    PriceChanged,
    ProductCreated,
    ProductDiscontinued,
    ProductUpdated,
)

SOURCE = "/serving/catalog"
# The fields a PUT or PATCH may change; `changed` in ProductUpdated names some of them.
EDITABLE_FIELDS: tuple[str, ...] = tuple(ProductReplace.model_fields)


class CatalogError(StrEnum):
    PRODUCT_EXISTS = "PRODUCT_EXISTS"
    VERSION_MISMATCH = "VERSION_MISMATCH"


def _public(row: RowMapping) -> ProductPublic:
    return ProductPublic.model_validate(dict(row))


def _state(product: ProductPublic) -> dict[str, Any]:
    """The product's full state as carried by ProductCreated and ProductUpdated."""
    return product.model_dump(include={"sku", "version", *EDITABLE_FIELDS})


# Reads ---------------------------------------------------------------------------------------


def get_products(
    conn: Connection, client: redis.Redis, settings: Settings, skus: list[str]
) -> dict[str, ProductPublic]:
    """The products among `skus` that exist, in any status, read from the cache first.

    Unknown skus are absent from the result; callers decide what draft or discontinued
    products mean for them.
    """
    return _cache_first(client, settings, skus, lambda missing: store.get_products(conn, missing))


def get_product(
    engine: Engine, client: redis.Redis, settings: Settings, sku: str, *, is_admin: bool
) -> ProductPublic:
    """The product as the caller may see it (drafts exist for admins only). A cache hit
    answers without taking a Postgres connection at all."""

    def load(missing: list[str]) -> list[RowMapping]:
        with engine.connect() as conn:
            return store.get_products(conn, missing)

    product = _cache_first(client, settings, [sku], load).get(sku)
    if product is None or (product.status == "draft" and not is_admin):
        raise not_found("product", sku)
    return product


def get_product_json(
    engine: Engine, client: redis.Redis, settings: Settings, sku: str, *, is_admin: bool
) -> cache.CachedProduct:
    """`get_product` as the JSON the route sends: a cache hit goes out as the bytes Redis
    holds (the hot path of the catalogue: no Postgres, no model, no serialisation)."""
    return _visible(sku, cache.get_json(client, sku), is_admin) or _loaded_json(
        engine, client, settings, sku, is_admin
    )


async def get_product_json_async(
    engine: Engine,
    client: redis.Redis,
    async_client: redis.asyncio.Redis,
    settings: Settings,
    sku: str,
    *,
    is_admin: bool,
) -> cache.CachedProduct:
    """`get_product_json` with the cache read on the event loop; a miss reads Postgres (and
    fills the cache) in a worker thread."""
    found = _visible(
        sku,
        await cache.get_json_async(async_client, sku, settings.redis_socket_timeout_s),
        is_admin,
    )
    if found is not None:
        return found
    load = functools.partial(_loaded_json, engine, client, settings, sku, is_admin)
    return await anyio.to_thread.run_sync(load)


async def cached_public_product(
    async_client: redis.asyncio.Redis, settings: Settings, sku: str
) -> cache.CachedProduct | None:
    """The product as anyone may see it, from the cache alone; None when the cache cannot
    say (a miss, an unreadable entry, Redis away) or the product is a draft — the full read
    (`get_product_json_async`) then decides, with its 404 for drafts."""
    cached = await cache.get_json_async(async_client, sku, settings.redis_socket_timeout_s)
    return cached if cached is not None and cached.visible_to(is_admin=False) else None


def _visible(
    sku: str, cached: cache.CachedProduct | None, is_admin: bool
) -> cache.CachedProduct | None:
    if cached is not None and not cached.visible_to(is_admin):
        raise not_found("product", sku)
    return cached


def _loaded_json(
    engine: Engine, client: redis.Redis, settings: Settings, sku: str, is_admin: bool
) -> cache.CachedProduct:
    product = get_product(engine, client, settings, sku, is_admin=is_admin)
    return cache.CachedProduct(product.model_dump_json().encode(), product.status, product.version)


def _cache_first(
    client: redis.Redis,
    settings: Settings,
    skus: list[str],
    load: Callable[[list[str]], list[RowMapping]],
) -> dict[str, ProductPublic]:
    wanted = list(dict.fromkeys(skus))
    found = cache.get_many(client, wanted)
    missing = [sku for sku in wanted if sku not in found]
    if missing:
        loaded = [_public(row) for row in load(missing)]
        cache.put_many(client, loaded, settings.product_cache_ttl_s)
        found.update((product.sku, product) for product in loaded)
    return found


def list_products(
    conn: Connection,
    *,
    category: str | None,
    brand: str | None,
    status: ProductStatus | None,
    sort: ProductSort,
    limit: int,
    cursor: str | None,
    is_admin: bool,
) -> ProductsPage:
    """One page of products; shoppers see active products, admins may ask for any status."""
    wanted_status: ProductStatus = status or "active"
    if wanted_status != "active" and not is_admin:
        raise ApiError(403, CommonError.FORBIDDEN, "only admins may list non-active products")
    filters = store.ProductFilters(
        category=category.split("/") if category else None, brand=brand, status=wanted_status
    )
    query = {"category": category, "brand": brand, "status": wanted_status}
    try:
        after = product_key(cursor, sort, query) if cursor else None
    except InvalidCursor as exc:
        raise invalid_cursor(exc) from exc
    rows = store.list_products(conn, filters, sort, after, limit + 1)
    items = [_public(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = product_cursor(sort, query, sort_key(sort, items[-1]))
    return ProductsPage(items=items, next_cursor=next_cursor)


def category_tree(conn: Connection) -> list[CategoryNode]:
    """The roots of the category tree, each with its children, sorted by path."""
    nodes: dict[str, CategoryNode] = {}
    roots: list[CategoryNode] = []
    for row in store.all_categories(conn):  # parents come first: ordered by depth
        node = CategoryNode(path=row["path"], name=row["name"], depth=row["depth"])
        nodes[node.path] = node
        parent = nodes.get(row["parent_path"]) if row["parent_path"] else None
        (parent.children if parent is not None else roots).append(node)
    return roots


# Writes --------------------------------------------------------------------------------------


def create_product(conn: Connection, client: redis.Redis, body: ProductCreate) -> ProductPublic:
    row = store.insert_product(conn, **body.model_dump())
    if row is None:
        raise ApiError(409, CatalogError.PRODUCT_EXISTS, f"a product with sku '{body.sku}' exists")
    store.upsert_category_path(conn, body.category_path)
    product = _public(row)
    outbox.record(conn, ProductCreated.model_validate(_state(product)), SOURCE)
    cache.invalidate(client, [product.sku])
    return product


def replace_product(
    conn: Connection,
    client: redis.Redis,
    sku: str,
    body: ProductReplace,
    expected_version: int | None = None,
) -> ProductPublic:
    return _change(conn, client, sku, body.model_dump(), expected_version)


def update_product(
    conn: Connection,
    client: redis.Redis,
    sku: str,
    body: ProductUpdate,
    expected_version: int | None = None,
) -> ProductPublic:
    return _change(conn, client, sku, body.model_dump(exclude_unset=True), expected_version)


def discontinue_product(conn: Connection, client: redis.Redis, sku: str) -> None:
    """Idempotent: discontinuing a discontinued product changes nothing and emits nothing."""
    current = _locked(conn, sku, None)
    if current.status == "discontinued":
        return
    product = _public(store.update_product(conn, sku, status="discontinued"))
    outbox.record(conn, ProductDiscontinued(sku=sku, version=product.version), SOURCE)
    cache.invalidate(client, [sku])


def _locked(conn: Connection, sku: str, expected_version: int | None) -> ProductPublic:
    row = store.get_product(conn, sku, for_update=True)
    if row is None:
        raise not_found("product", sku)
    current = _public(row)
    if expected_version is not None and current.version != expected_version:
        raise ApiError(
            412,
            CatalogError.VERSION_MISMATCH,
            f"the product is at version {current.version}, not {expected_version}",
            details={"current_version": current.version},
        )
    return current


def _change(
    conn: Connection,
    client: redis.Redis,
    sku: str,
    requested: dict[str, Any],
    expected_version: int | None,
) -> ProductPublic:
    """Apply the fields that differ; one version bump and its events, or nothing at all."""
    current = _locked(conn, sku, expected_version)
    before = current.model_dump()
    changes = {name: value for name, value in requested.items() if before[name] != value}
    if not changes:
        return current
    product = _public(store.update_product(conn, sku, **changes))
    if "category_path" in changes:
        store.upsert_category_path(conn, product.category_path)
    changed = [name for name in EDITABLE_FIELDS if name in changes]
    outbox.record(
        conn, ProductUpdated.model_validate({**_state(product), "changed": changed}), SOURCE
    )
    if "price_cents" in changes or "currency" in changes:
        price_changed = PriceChanged(
            sku=sku,
            version=product.version,
            old_price_cents=current.price_cents,
            new_price_cents=product.price_cents,
            currency=product.currency,
        )
        outbox.record(conn, price_changed, SOURCE)
    if "status" in changes and product.status == "discontinued":
        outbox.record(conn, ProductDiscontinued(sku=sku, version=product.version), SOURCE)
    cache.invalidate(client, [sku])
    return product
