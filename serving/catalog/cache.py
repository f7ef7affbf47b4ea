"""The product read cache in Redis: `product:{sku}` → JSON of ProductPublic, with a TTL.

The cache is an optimisation that Postgres can always rebuild, so a Redis failure degrades reads
to the database instead of failing them. Writers delete the key after a change, and the catalog
event consumer (streaming/cache_invalidator.py) deletes it again once the change is on Kafka,
which clears an entry that a concurrent reader refilled with the old row before the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

import orjson
import redis
import redis.asyncio
from pydantic import ValidationError

from serving.catalog.schemas import ProductPublic
from serving.redis_async import bounded
from shoplake.catalog import product_cache_key

log = logging.getLogger(__name__)


def get_many(client: redis.Redis, skus: list[str]) -> dict[str, ProductPublic]:
    """The cached products among `skus`; unreadable entries count as misses."""
    if not skus:
        return {}
    try:
        raw_values = cast(list[str | None], client.mget([product_cache_key(sku) for sku in skus]))
    except redis.RedisError as exc:
        log.warning("product cache unavailable on read: %s", exc)
        return {}
    found: dict[str, ProductPublic] = {}
    for sku, raw in zip(skus, raw_values, strict=True):
        if raw is None:
            continue
        try:
            found[sku] = ProductPublic.model_validate_json(raw)
        except ValidationError:
            log.warning("product cache entry for %s is unreadable; reading Postgres", sku)
    return found


_FIELDS = frozenset(ProductPublic.model_fields)


@dataclass(frozen=True)
class CachedProduct:
    """A cached product as its JSON text, ready to send as is, and the two fields a read
    decides on (who may see it, its ETag)."""

    body: bytes
    status: str
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def visible_to(self, is_admin: bool) -> bool:
        """Drafts are for admins only; everyone may see every other status."""
        return is_admin or self.status != "draft"


def get_json(client: redis.Redis, sku: str) -> CachedProduct | None:
    """The cached product's JSON, read for what the answer needs only: no model is built,
    none is serialised again. An entry that is not a product's JSON counts as a miss."""
    try:
        raw = cast(str | None, client.get(product_cache_key(sku)))
    except redis.RedisError as exc:
        log.warning("product cache unavailable on read: %s", exc)
        return None
    return _cached(sku, raw)


async def get_json_async(
    client: redis.asyncio.Redis, sku: str, timeout_s: float
) -> CachedProduct | None:
    """`get_json` on the event loop (the catalogue's hot read needs no thread), given up on
    after `timeout_s` like any Redis command of the API."""
    try:
        async with bounded(timeout_s):
            raw = cast(str | None, await client.get(product_cache_key(sku)))
    except redis.RedisError as exc:
        log.warning("product cache unavailable on read: %s", exc)
        return None
    return _cached(sku, raw)


def _cached(sku: str, raw: str | None) -> CachedProduct | None:
    if raw is None:
        return None
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        entry = None
    if not isinstance(entry, dict) or entry.keys() != _FIELDS or entry["sku"] != sku:
        log.warning("product cache entry for %s is unreadable; reading Postgres", sku)
        return None
    return CachedProduct(raw.encode(), str(entry["status"]), int(entry["version"]))


def put_many(client: redis.Redis, products: list[ProductPublic], ttl_s: int) -> None:
    if not products or ttl_s <= 0:
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for product in products:
                pipe.set(product_cache_key(product.sku), product.model_dump_json(), ex=ttl_s)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("product cache unavailable on fill: %s", exc)


def invalidate(client: redis.Redis, skus: list[str]) -> int:
    """Delete the entries of `skus`; the number deleted (0 when Redis is unavailable)."""
    if not skus:
        return 0
    try:
        deleted = cast(int, client.delete(*(product_cache_key(sku) for sku in skus)))
    except redis.RedisError as exc:
        log.warning("product cache unavailable on invalidation of %s: %s", skus, exc)
        return 0
    return deleted
