"""Redis commands of the behaviour path: each session's recently viewed SKUs."""

from __future__ import annotations

from collections.abc import Sequence

import redis

from shoplake.recommendations import recent_views_key


def push_views(client: redis.Redis, views: dict[str, list[str]], *, keep: int, ttl_s: int) -> None:
    """Prepend each session's new views (newest first), trim to `keep`, refresh the TTL."""
    if not views:
        return
    pipe = client.pipeline(transaction=False)
    for session_id, skus in views.items():
        key = recent_views_key(session_id)
        pipe.lpush(key, *skus)
        pipe.ltrim(key, 0, keep - 1)
        pipe.expire(key, ttl_s)
    pipe.execute()


def read_views(client: redis.Redis, session_ids: Sequence[str], limit: int) -> list[str]:
    """The sessions' recent views, newest first, each SKU once."""
    pipe = client.pipeline(transaction=False)
    for session_id in session_ids:
        pipe.lrange(recent_views_key(session_id), 0, limit - 1)
    seen: dict[str, None] = {}
    for views in pipe.execute():
        for sku in views:
            seen.setdefault(sku.decode() if isinstance(sku, bytes) else str(sku), None)
    return list(seen)[:limit]
