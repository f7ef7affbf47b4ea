"""Recommendation rules: pick the lists for the context, re-rank by the session's recent
views, fall back from personal to category to global popularity, filter out what is sold out
or already bought, say why each item is there, and record a RecommendationShown event.

Redis is the only store of the lists. When it does not answer, the popular lists this
process read last (the baseline from memory) are served, marked `strategy: memory`; with none
in memory the answer is a 503 — never a 500. Serving never calls MLflow.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

import redis
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from serving.behaviour import service as behaviour
from serving.behaviour_publisher import BehaviourPublisher
from serving.errors import ApiError
from serving.inventory import service as inventory
from serving.orders import service as orders
from serving.recommendations import store
from serving.recommendations.schemas import Context, RecommendationsPublic, RecommendedProduct
from shoplake.config import Settings
from shoplake.events.behaviour import RecommendationShown
from shoplake.recommendations import GLOBAL_CATEGORY, ListedItem, ListKind, Reason

log = logging.getLogger(__name__)

SOURCE = "/serving/recommendations"
MAX_LIMIT = 50
RERANK_VIEWS = 3
VIEW_BOOST = 1.0


class RecommendationsError(StrEnum):
    UNAVAILABLE = "RECOMMENDATIONS_UNAVAILABLE"
    UNKNOWN_PRODUCT = "RECOMMENDATIONS_UNKNOWN_PRODUCT"
    SKU_REQUIRED = "RECOMMENDATIONS_SKU_REQUIRED"


@dataclass
class MemoryBaseline:
    """The last global popular list read from Redis, served while Redis is away."""

    items: list[ListedItem] = field(default_factory=list)
    publication: str | None = None
    read_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, publication: str, items: list[ListedItem]) -> None:
        with self.lock:
            self.publication, self.items, self.read_at = publication, items, time.monotonic()

    def stale(self, refresh_s: float) -> bool:
        return time.monotonic() - self.read_at > refresh_s


@dataclass(frozen=True)
class Deps:
    client: redis.Redis
    settings: Settings
    engine: Engine
    publisher: BehaviourPublisher
    memory: MemoryBaseline


@dataclass(frozen=True)
class Ask:
    """One request: where the list goes and for whom."""

    context: Context
    limit: int
    session_id: str | None
    user_id: str | None
    anchor: str | None


def _text(item: ListedItem, names: dict[str, str]) -> str:
    about = item.about_name or (names.get(item.about, item.about) if item.about else None)
    return {
        Reason.BOUGHT_WITH: f"bought with {about}",
        Reason.VIEWED_WITH: f"viewed together with {about}",
        Reason.SIMILAR_TO: f"similar to {about}",
        Reason.BECAUSE_YOU_VIEWED: f"because you viewed {about}",
        Reason.BECAUSE_YOU_BOUGHT: f"because you bought {about}",
        Reason.YOU_LOOKED_AT: "you looked at this lately",
        Reason.POPULAR_IN: f"popular in {item.about}",
        Reason.POPULAR: "popular right now",
        Reason.FOR_YOU: "picked for you",
    }[item.reason]


def _unavailable(detail: str) -> ApiError:
    return ApiError(
        503,
        RecommendationsError.UNAVAILABLE,
        "recommendations are unavailable right now; try again shortly",
        details=detail,
        headers={"Retry-After": "5"},
    )


def _because_viewed(item: ListedItem, viewed: str) -> ListedItem:
    return item.model_copy(
        update={"reason": Reason.BECAUSE_YOU_VIEWED, "about": viewed, "about_name": None}
    )


def _rerank(
    personal: list[ListedItem], near_views: list[tuple[str, list[ListedItem]]]
) -> list[ListedItem]:
    """Items close to what the session viewed move up, and say so; close ones the personal list
    does not hold come in on their closeness alone (the session is newer than the lists)."""
    boost: dict[str, tuple[float, str, ListedItem]] = {}
    for age, (viewed, neighbours) in enumerate(near_views):
        for rank, item in enumerate(neighbours):
            gain = VIEW_BOOST / (1 + age) / (1 + rank / 10)
            if item.sku not in boost or gain > boost[item.sku][0]:
                boost[item.sku] = (gain, viewed, item)
    scored: list[tuple[float, int, ListedItem]] = []
    for rank, item in enumerate(personal):
        base = 1.0 / (1 + rank / 10)
        if item.sku in boost:
            gain, viewed, _ = boost.pop(item.sku)
            scored.append((base + gain, len(scored), _because_viewed(item, viewed)))
        else:
            scored.append((base, len(scored), item))
    for gain, viewed, item in boost.values():
        scored.append((gain, len(scored), _because_viewed(item, viewed)))
    return [item for _, _, item in sorted(scored, key=lambda t: (-t[0], t[1]))]


def _owned(deps: Deps, user_id: str | None) -> set[str]:
    if user_id is None:
        return set()
    try:
        return orders.skus_bought(deps.engine, deps.client, user_id)
    except SQLAlchemyError as exc:  # a list without this filter beats no list
        log.warning("recommendations: bought items not filtered: %s", exc)
        return set()


def _finish(
    deps: Deps,
    ask: Ask,
    *,
    strategy: str,
    publication: str | None,
    items: list[ListedItem],
    fill: list[ListedItem],
    exclude: set[str],
    names: dict[str, str],
    filter_stock: bool = True,
) -> RecommendationsPublic:
    context, limit = ask.context, ask.limit
    session_id, user_id, anchor = ask.session_id, ask.user_id, ask.anchor
    chosen: list[ListedItem] = []
    seen = set(exclude)
    pool = [*items, *fill]
    sold_out = (
        inventory.sold_out(deps.client, deps.settings, [i.sku for i in pool])
        if filter_stock and pool
        else set()
    )
    for item in pool:
        if item.sku in seen or item.sku in sold_out:
            continue
        seen.add(item.sku)
        chosen.append(item)
        if len(chosen) >= limit:
            break
    model_version = publication.rsplit("-v", 1)[-1] if publication and "-v" in publication else None
    answer = RecommendationsPublic(
        recommendation_id=uuid.uuid4().hex,
        context=context.value,
        strategy=strategy,
        publication=publication,
        model_version=model_version,
        items=[
            RecommendedProduct(
                sku=i.sku,
                score=i.score,
                reason=i.reason.value,
                reason_text=_text(i, names),
                about=i.about,
            )
            for i in chosen
        ],
    )
    deps.publisher.publish(
        RecommendationShown(
            session_id=session_id or (f"user:{user_id}" if user_id else "anonymous"),
            user_id=user_id,
            recommendation_id=answer.recommendation_id,
            placement=context.value,
            anchor_sku=anchor,
            skus=[i.sku for i in answer.items],
            strategy=strategy,
            model_version=model_version,
        ).to_event(SOURCE)
    )
    return answer


def _from_memory(deps: Deps, ask: Ask, exclude: set[str], detail: str) -> RecommendationsPublic:
    if not deps.memory.items:
        raise _unavailable(detail)
    return _finish(
        deps,
        ask,
        strategy="memory",
        publication=deps.memory.publication,
        items=deps.memory.items,
        fill=[],
        exclude=exclude,
        names={},
        filter_stock=False,
    )


def recommend(
    deps: Deps,
    *,
    context: Context,
    skus: list[str],
    limit: int,
    user_id: str | None,
    session_id: str | None,
) -> RecommendationsPublic:
    ask = Ask(context, limit, session_id, user_id, skus[0] if skus else None)
    if context is Context.PRODUCT and ask.anchor is None:
        raise ApiError(
            422, RecommendationsError.SKU_REQUIRED, "context=product needs the page's sku"
        )
    try:
        return _recommend(deps, ask, skus)
    except redis.RedisError as exc:
        return _from_memory(deps, ask, set(skus), f"redis: {exc}")


def _recommend(deps: Deps, ask: Ask, skus: list[str]) -> RecommendationsPublic:
    exclude = set(skus)
    publication = store.current(deps.client)
    if publication is None:  # nothing published yet: a sensible, empty answer
        return _finish(
            deps,
            ask,
            strategy="none",
            publication=None,
            items=[],
            fill=[],
            exclude=exclude,
            names={},
        )
    recent = behaviour.recent_views(deps.client, deps.settings, ask.session_id, ask.user_id)
    near = [s for s in recent if s not in exclude][:RERANK_VIEWS]
    page = skus[:20]
    wanted: list[tuple[ListKind, str]] = [(ListKind.POPULAR, GLOBAL_CATEGORY)]
    if ask.user_id:
        wanted.append((ListKind.USER, ask.user_id))
    for sku in page:
        wanted += [(ListKind.SIMILAR, sku), (ListKind.BOUGHT_TOGETHER, sku)]
    wanted += [(ListKind.SIMILAR, sku) for sku in near]
    lists, categories = store.read(deps.client, publication, wanted, [*page, *recent])
    by_key = dict(zip(wanted, lists, strict=True))
    popular = by_key[(ListKind.POPULAR, GLOBAL_CATEGORY)]
    if popular and deps.memory.stale(deps.settings.recs_memory_refresh_s):
        deps.memory.remember(publication, popular)
    category_of = dict(zip([*page, *recent], categories, strict=True))
    if ask.context is Context.PRODUCT and category_of.get(str(ask.anchor)) is None:
        raise ApiError(
            404,
            RecommendationsError.UNKNOWN_PRODUCT,
            f"no product {ask.anchor} in the published catalog",
        )
    # Popular in the categories in play (the page's products, then the session's views).
    hot = [c for c in dict.fromkeys(category_of[s] for s in [*page, *recent]) if c][:3]
    in_categories, _ = store.read(deps.client, publication, [(ListKind.POPULAR, c) for c in hot])
    fill = [item for found in in_categories for item in found] + popular

    near_lists = [(sku, by_key[(ListKind.SIMILAR, sku)]) for sku in near]
    personal = by_key.get((ListKind.USER, ask.user_id or ""), [])
    if ask.context is Context.HOME:
        items = _rerank(personal, near_lists) if personal else []
        if not items:  # cold: what the session looked at, then its categories
            items = [item for _, found in near_lists for item in found]
        strategy = "personal" if personal else ("session" if items else "popular")
    else:
        together = [item for sku in page for item in by_key[(ListKind.BOUGHT_TOGETHER, sku)]]
        similar = [item for sku in page for item in by_key[(ListKind.SIMILAR, sku)]]
        if ask.context is Context.CART:
            items, strategy = together + similar, "bought_together" if together else "similar"
        else:
            items, strategy = similar + together, "similar" if similar else "bought_together"
        if personal:  # the shopper's own taste orders the page's candidates
            ranked = {item.sku: r for r, item in enumerate(personal)}
            items = sorted(items, key=lambda i: ranked.get(i.sku, len(ranked) + 1))
        if not items:
            strategy = "popular"
    about = [i.about for i in [*items, *fill] if i.about and i.about_name is None]
    names = store.names(deps.client, publication, list(dict.fromkeys(about))[:100])
    return _finish(
        deps,
        ask,
        strategy=strategy,
        publication=publication,
        items=items,
        fill=fill,
        exclude=exclude | _owned(deps, ask.user_id),
        names=names,
    )


def product_list(
    deps: Deps,
    kind: ListKind,
    sku: str,
    limit: int,
    user_id: str | None,
    session_id: str | None,
) -> RecommendationsPublic:
    """Similar items or items bought together with one product; its category's popular items
    when it has no such list; 404 for a SKU the published catalog does not know."""
    ask = Ask(Context.PRODUCT, limit, session_id, user_id, sku)
    try:
        publication = store.current(deps.client)
        if publication is None:
            return _finish(
                deps,
                ask,
                strategy="none",
                publication=None,
                items=[],
                fill=[],
                exclude={sku},
                names={},
            )
        (found,), (category,) = store.read(deps.client, publication, [(kind, sku)], [sku])
        if category is None:
            raise ApiError(
                404,
                RecommendationsError.UNKNOWN_PRODUCT,
                f"no product {sku} in the published catalog",
            )
        (fill,), _ = store.read(deps.client, publication, [(ListKind.POPULAR, category)])
        strategy = "similar" if kind is ListKind.SIMILAR else "bought_together"
        return _finish(
            deps,
            ask,
            strategy=strategy if found else "popular",
            publication=publication,
            items=found,
            fill=fill,
            exclude={sku} | _owned(deps, user_id),
            names=store.names(deps.client, publication, [sku]),
        )
    except redis.RedisError as exc:
        return _from_memory(deps, ask, {sku}, f"redis: {exc}")
