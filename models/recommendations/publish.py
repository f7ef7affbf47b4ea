"""`shoplake recs publish`: the champion's lists into Redis under a new key space, switched in
one `SET`, and a RecommendationsPublished event.

Lists: top-N per active user (nothing they already bought, each with a reason), similar items
per SKU (viewed together, padded with the factorisation's nearest items), bought together per
SKU, and popular items per category and overall.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import redis

from models.features import RecsData
from models.recommendations.artifact import Bundle
from models.recommendations.baselines import baskets, cooccurrence, neighbours
from models.recommendations.matrix import Index, kind_matrix, top_n, weighted_matrix
from shoplake.config import Settings
from shoplake.events.recommendations import RecommendationsPublished
from shoplake.recommendations import (
    CURRENT_KEY,
    GLOBAL_CATEGORY,
    PUBLICATIONS_KEY,
    ListedItem,
    ListKind,
    Publication,
    Reason,
    categories_key,
    encode_list,
    list_key,
    meta_key,
    names_key,
    publication_pattern,
)

log = logging.getLogger(__name__)
SOURCE = "/models/recommendations"
ITEM_LISTS = 20
HISTORY = 10


@dataclass(frozen=True)
class Lists:
    users: dict[str, list[ListedItem]]
    similar: dict[str, list[ListedItem]]
    bought_together: dict[str, list[ListedItem]]
    popular: dict[str, list[ListedItem]]
    categories: dict[str, str]
    names: dict[str, str]


@dataclass(frozen=True)
class Published:
    publication: str
    users: int
    items: int
    categories: int
    keys: int
    event_sent: bool


def _neighbour_lists(
    pairs: dict[int, list[tuple[int, float]]], items: np.ndarray, reason: Reason
) -> dict[str, list[ListedItem]]:
    return {
        str(items[i]): [
            ListedItem(sku=str(items[j]), score=round(s, 5), reason=reason, about=str(items[i]))
            for j, s in found
        ]
        for i, found in pairs.items()
    }


def build_lists(
    bundle: Bundle, data: RecsData, *, top_n_items: int, active_days: int, half_life_days: float
) -> Lists:
    index = Index(bundle.users, bundle.items)
    names = dict(zip(data.products.sku.astype(str), data.products.name.fillna(""), strict=True))
    category_of = dict(
        zip(data.products.sku.astype(str), data.products.category.astype(str), strict=True)
    )
    interactions = data.interactions
    weighted = weighted_matrix(interactions, index, data.as_of, half_life_days)
    bought = kind_matrix(interactions, index, ("purchase",))

    # Bought together and viewed together (co-occurrence in orders and in sessions).
    purchases = interactions[interactions.kind == "purchase"]
    views = interactions[interactions.kind == "view"]
    with_bought = neighbours(cooccurrence(baskets(purchases, "order_id", index)), ITEM_LISTS)
    with_viewed = neighbours(cooccurrence(baskets(views, "session_id", index)), ITEM_LISTS)
    bought_together = _neighbour_lists(with_bought, index.items, Reason.BOUGHT_WITH)
    similar = _neighbour_lists(with_viewed, index.items, Reason.VIEWED_WITH)
    nearest, cosines = bundle.factors.similar_items(ITEM_LISTS)
    for i, sku in enumerate(index.items):
        have = similar.setdefault(str(sku), [])
        taken = {item.sku for item in have}
        for j, cos in zip(nearest[i], cosines[i], strict=True):
            if len(have) >= ITEM_LISTS:
                break
            if str(index.items[j]) not in taken:
                have.append(
                    ListedItem(
                        sku=str(index.items[j]),
                        score=round(float(cos), 5),
                        reason=Reason.SIMILAR_TO,
                        about=str(sku),
                    )
                )

    # Popular overall and per category.
    popularity = np.asarray(weighted.sum(axis=0)).ravel()
    order = np.argsort(-popularity, kind="stable")
    popular: dict[str, list[ListedItem]] = {GLOBAL_CATEGORY: []}
    for col in order:
        if popularity[col] <= 0:
            break
        sku = str(index.items[col])
        category = category_of.get(sku, "")
        score = round(float(popularity[col]), 4)
        if len(popular[GLOBAL_CATEGORY]) < top_n_items:
            popular[GLOBAL_CATEGORY].append(ListedItem(sku=sku, score=score, reason=Reason.POPULAR))
        if category:
            bucket = popular.setdefault(category, [])
            if len(bucket) < top_n_items:
                bucket.append(
                    ListedItem(sku=sku, score=score, reason=Reason.POPULAR_IN, about=category)
                )

    # Personal lists for the users active lately, each item with the history item behind it.
    recent = interactions[interactions.event_time >= data.as_of - pd.Timedelta(days=active_days)]
    active = np.array(
        sorted({index.user_pos[u] for u in recent.user_id.astype(str) if u in index.user_pos}),
        dtype=np.int64,
    )
    unit = bundle.factors.item_factors / np.clip(
        np.linalg.norm(bundle.factors.item_factors, axis=1, keepdims=True), 1e-9, None
    )
    bought_pairs = {
        (anchor, item.sku) for anchor, found in bought_together.items() for item in found
    }
    users: dict[str, list[ListedItem]] = {}
    for start in range(0, len(active), 2048):
        rows = active[start : start + 2048]
        scores = bundle.scores(rows)
        best = top_n(scores, top_n_items, bought[rows])
        for i, row in enumerate(rows):
            lo, hi = weighted.indptr[row], weighted.indptr[row + 1]
            hist = weighted.indices[lo:hi][np.argsort(-weighted.data[lo:hi])][:HISTORY]
            owned = set(bought.indices[bought.indptr[row] : bought.indptr[row + 1]].tolist())
            seen = set(weighted.indices[lo:hi].tolist())
            picks = [c for c in best[i] if c >= 0]
            if not picks:
                continue
            closest = (unit[picks] @ unit[hist].T) if len(hist) else None
            entries = []
            for k, col in enumerate(picks):
                sku = str(index.items[col])
                reason, about = Reason.FOR_YOU, None
                if col in seen:  # the shopper's own interest: not "because you viewed" itself
                    reason = Reason.YOU_LOOKED_AT
                elif closest is not None:
                    anchor_col = int(hist[int(closest[k].argmax())])
                    anchor = str(index.items[anchor_col])
                    about = anchor
                    if (anchor, sku) in bought_pairs:
                        reason = Reason.BOUGHT_WITH
                    elif anchor_col in owned:
                        reason = Reason.BECAUSE_YOU_BOUGHT
                    else:
                        reason = Reason.BECAUSE_YOU_VIEWED
                entries.append(
                    ListedItem(
                        sku=sku,
                        score=round(float(scores[i, col]), 5),
                        reason=reason,
                        about=about,
                        about_name=names.get(about) if about else None,
                    )
                )
            users[str(index.users[row])] = entries
    return Lists(users, similar, bought_together, popular, category_of, names)


def _named(items: list[ListedItem], names: dict[str, str]) -> list[ListedItem]:
    return [
        item.model_copy(update={"about_name": names.get(item.about, item.about)})
        if item.about and item.about_name is None
        else item
        for item in items
    ]


def _entries(publication: str, lists: Lists) -> Iterable[tuple[str, str]]:
    for user, items in lists.users.items():
        yield list_key(publication, ListKind.USER, user), encode_list(items)
    for sku, items in lists.similar.items():
        yield list_key(publication, ListKind.SIMILAR, sku), encode_list(_named(items, lists.names))
    for sku, items in lists.bought_together.items():
        yield (
            list_key(publication, ListKind.BOUGHT_TOGETHER, sku),
            encode_list(_named(items, lists.names)),
        )
    for category, items in lists.popular.items():
        yield list_key(publication, ListKind.POPULAR, category), encode_list(items)


def new_publication(version: str | None) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-v{version or 'x'}"


def write(
    client: redis.Redis,
    lists: Lists,
    meta: Publication,
    *,
    ttl_s: int,
    keep: int = 2,
) -> int:
    """Write a publication whole, switch `recs:current` to it in one SET, then drop all but
    the newest `keep` publications. Returns the number of keys written."""
    publication = meta.publication
    written = 0
    pipe = client.pipeline(transaction=False)
    for key, value in _entries(publication, lists):
        pipe.set(key, value, ex=ttl_s)
        written += 1
        if written % 2000 == 0:
            pipe.execute()
    for key, mapping in (
        (categories_key(publication), lists.categories),
        (names_key(publication), lists.names),
    ):
        if mapping:
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, ttl_s)
            written += 1
    pipe.set(meta_key(publication), meta.model_dump_json(), ex=ttl_s)
    pipe.execute()
    # The switch: one key, one command; readers take the pointer once per request.
    client.set(CURRENT_KEY, publication, ex=ttl_s)
    client.lpush(PUBLICATIONS_KEY, publication)
    client.expire(PUBLICATIONS_KEY, ttl_s)
    stale: Any = client.lrange(PUBLICATIONS_KEY, keep, -1)
    for old in stale:
        old_name = old.decode() if isinstance(old, bytes) else str(old)
        for batch in _chunks(client.scan_iter(publication_pattern(old_name), count=1000), 1000):
            client.unlink(*[str(key) if not isinstance(key, bytes) else key for key in batch])
        client.lrem(PUBLICATIONS_KEY, 0, old_name)
    return written + 1


def _chunks(keys: Iterable[object], size: int) -> Iterable[list[object]]:
    batch: list[object] = []
    for key in keys:
        batch.append(key)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def publish(
    settings: Settings,
    data: RecsData,
    bundle: Bundle,
    *,
    model_name: str,
    model_version: str | None,
    run_id: str | None,
    client: redis.Redis | None = None,
    send_event: bool = True,
) -> Published:
    lists = build_lists(
        bundle,
        data,
        top_n_items=settings.recs_top_n,
        active_days=settings.recs_active_days,
        half_life_days=settings.recs_half_life_days,
    )
    publication = new_publication(model_version)
    meta = Publication(
        publication=publication,
        model_name=model_name,
        model_version=model_version,
        run_id=run_id,
        published_at=datetime.now(UTC).isoformat(),
        users=len(lists.users),
        items=len(lists.similar),
        categories=len(lists.popular),
    )
    owned = client is None
    redis_client = client or redis.Redis.from_url(settings.redis_endpoint)
    try:
        keys = write(redis_client, lists, meta, ttl_s=settings.recs_ttl_s)
    finally:
        if owned:
            redis_client.close()
    sent = send_event and _announce(settings, meta)
    return Published(publication, meta.users, meta.items, meta.categories, keys, sent)


def _announce(settings: Settings, meta: Publication) -> bool:
    from kafka.errors import KafkaError

    from shoplake.kafka import produce_events

    event = RecommendationsPublished(
        publication=meta.publication,
        model_name=meta.model_name,
        model_version=meta.model_version,
        run_id=meta.run_id,
        users=meta.users,
        items=meta.items,
        categories=meta.categories,
        ttl_s=settings.recs_ttl_s,
        published_at=datetime.fromisoformat(meta.published_at),
    ).to_event(SOURCE)
    try:
        produce_events(settings, [event])
    except KafkaError as exc:  # the lists are live; the event is an announcement
        log.warning("RecommendationsPublished not sent: %s", exc)
        return False
    return True
