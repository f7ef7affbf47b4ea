"""HTTP routes of notifications: /v1/users/me/notifications (settings) and its feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving.deps import ConnDep, CurrentUser, WriteRateLimit
from serving.notifications import service
from serving.notifications.schemas import (
    FeedItem,
    FeedPage,
    MarkedRead,
    NotificationSettings,
    NotificationSettingsUpdate,
)

router = APIRouter(prefix="/v1/users/me/notifications", tags=["notifications"])

ItemId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("")
def get_settings(user: CurrentUser, conn: ConnDep) -> NotificationSettings:
    """Which channels each kind of notification goes out on (defaults until changed)."""
    return service.get_settings(conn, user.user_id)


@router.patch("", dependencies=[WriteRateLimit])
def update_settings(
    body: NotificationSettingsUpdate, user: CurrentUser, conn: ConnDep
) -> NotificationSettings:
    """Switch channels per kind (only those sent change) and set or remove the SMS number."""
    return service.update_settings(conn, user.user_id, body)


@router.get("/feed")
def get_feed(
    user: CurrentUser,
    conn: ConnDep,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
    ] = None,
) -> FeedPage:
    """The in-app notifications, newest first, with the unread count."""
    return service.feed(conn, user.user_id, unread_only=unread_only, limit=limit, cursor=cursor)


@router.post("/feed/read-all", dependencies=[WriteRateLimit])
def mark_all_read(user: CurrentUser, conn: ConnDep) -> MarkedRead:
    return service.mark_all_read(conn, user.user_id)


@router.post("/feed/{item_id}/read", dependencies=[WriteRateLimit])
def mark_read(item_id: ItemId, user: CurrentUser, conn: ConnDep) -> FeedItem:
    """Mark one item read (again is harmless); another user's item is a 404."""
    return service.mark_read(conn, user.user_id, item_id)
