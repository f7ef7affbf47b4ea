"""Redis reads of the published recommendation lists (key space: shoplake.recommendations)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from shoplake.recommendations import (
    CURRENT_KEY,
    ListedItem,
    ListKind,
    Publication,
    categories_key,
    decode_list,
    list_key,
    meta_key,
    names_key,
)


def current(client: redis.Redis) -> str | None:
    value = client.get(CURRENT_KEY)
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def read(
    client: redis.Redis,
    publication: str,
    lists: Sequence[tuple[ListKind, str]],
    category_skus: Sequence[str] = (),
) -> tuple[list[list[ListedItem]], list[str | None]]:
    """Several lists of one publication and the categories of some SKUs, in one round trip."""
    pipe = client.pipeline(transaction=False)
    if lists:
        pipe.mget([list_key(publication, kind, subject) for kind, subject in lists])
    if category_skus:
        pipe.hmget(categories_key(publication), list(category_skus))
    answers = pipe.execute() if (lists or category_skus) else []
    raw_lists = answers.pop(0) if lists else []
    categories = answers.pop(0) if category_skus else []
    return [decode_list(raw) for raw in raw_lists], [
        c.decode() if isinstance(c, bytes) else c for c in categories
    ]


def names(client: redis.Redis, publication: str, skus: Sequence[str]) -> dict[str, str]:
    if not skus:
        return {}
    values: Any = client.hmget(names_key(publication), list(skus))
    return {
        sku: (v.decode() if isinstance(v, bytes) else str(v))
        for sku, v in zip(skus, values, strict=True)
        if v
    }


def meta(client: redis.Redis, publication: str) -> Publication | None:
    raw: Any = client.get(meta_key(publication))
    return None if raw is None else Publication.model_validate_json(raw)
