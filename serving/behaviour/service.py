"""Behaviour rules: queue events for Kafka, and keep each session's recent views in Redis so
that recommendations can re-rank by what the shopper is looking at right now."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis

from serving.behaviour import store
from serving.behaviour_publisher import BehaviourPublisher
from shoplake.config import Settings
from shoplake.events.base import EventData
from shoplake.events.behaviour import ProductViewed

log = logging.getLogger(__name__)


def user_session(user_id: str) -> str:
    """The signed-in shopper's views across devices are kept under this session name too."""
    return f"user:{user_id}"


def collect(
    publisher: BehaviourPublisher,
    client: redis.Redis,
    settings: Settings,
    events: Sequence[EventData],
    source: str,
) -> int:
    """Queue the events (the number accepted) and remember the product views."""
    accepted = sum(1 for data in events if publisher.publish(data.to_event(source)))
    views: dict[str, list[str]] = {}
    for data in events:
        if isinstance(data, ProductViewed):
            views.setdefault(data.session_id, []).append(data.sku)
            if data.user_id:
                views.setdefault(user_session(data.user_id), []).append(data.sku)
    try:
        store.push_views(
            client,
            views,
            keep=settings.recs_recent_views,
            ttl_s=settings.recs_recent_views_ttl_s,
        )
    except redis.RedisError as exc:  # recent views are a nicety: the events still go out
        log.warning("recent views not kept: %s", exc)
    return accepted


def recent_views(
    client: redis.Redis, settings: Settings, session_id: str | None, user_id: str | None
) -> list[str]:
    """The session's (and the signed-in user's) recently viewed SKUs, newest first.
    Raises redis.RedisError when Redis does not answer."""
    sessions = [s for s in (session_id, user_session(user_id) if user_id else None) if s]
    if not sessions:
        return []
    return store.read_views(client, sessions, settings.recs_recent_views)
