"""Rules of notifications: preferences over the defaults, the feed, notices on request.

`tell_owner_of_registration` is the one call accounts makes when someone registers with an
e-mail that has an account: the owner is told (a NotificationRequested the consumer mails, at
most once an hour); the caller gets accounts' one answer to every registration, so it does not
tell anyone that the address is taken.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, RowMapping

from serving.errors import ApiError, not_found
from serving.notifications import store
from serving.notifications.schemas import (
    ChannelSwitches,
    FeedItem,
    FeedPage,
    MarkedRead,
    NotificationSettings,
    NotificationSettingsUpdate,
)
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from shoplake import outbox
from shoplake.events.notification import NotificationRequested
from shoplake.notifications.contract import (
    CONFIGURABLE,
    MANDATORY,
    Channel,
    Kind,
    enabled_channels,
)

SOURCE = "/serving/notifications"
FEED_LISTING = "notification-feed"


class NotificationsError(StrEnum):
    SMS_NUMBER_REQUIRED = "SMS_NUMBER_REQUIRED"


# ---------------------------------------------------------------- preferences


def _settings(row: RowMapping | None) -> NotificationSettings:
    overrides = row["channels"] if row is not None else {}
    return NotificationSettings(
        kinds={
            kind: ChannelSwitches(
                **{c.value: on for c, on in enabled_channels(kind, overrides).items()}
            )
            for kind in CONFIGURABLE
        },
        mandatory={kind: sorted(c.value for c in channels) for kind, channels in MANDATORY.items()},
        sms_number=row["sms_number"] if row is not None else None,
    )


def get_settings(conn: Connection, user_id: str) -> NotificationSettings:
    return _settings(store.get_preferences(conn, user_id))


def update_settings(
    conn: Connection, user_id: str, body: NotificationSettingsUpdate
) -> NotificationSettings:
    row = store.get_preferences(conn, user_id, lock=True)
    channels: dict[str, dict[str, bool]] = {
        kind: dict(switches) for kind, switches in (row["channels"] if row else {}).items()
    }
    for kind, switches in body.kinds.items():
        chosen = channels.setdefault(kind.value, {})
        chosen.update(switches.model_dump(exclude_none=True))
    sms_number = row["sms_number"] if row else None
    if "sms_number" in body.model_fields_set:
        sms_number = body.sms_number
    wants_sms = [
        kind.value for kind in CONFIGURABLE if enabled_channels(kind, channels)[Channel.SMS]
    ]
    if wants_sms and sms_number is None:
        raise ApiError(
            422,
            NotificationsError.SMS_NUMBER_REQUIRED,
            "SMS is on for some notices but there is no number to send them to",
            details={"kinds": wants_sms},
        )
    return _settings(store.put_preferences(conn, user_id, channels, sms_number))


# ---------------------------------------------------------------- the feed


def _item(row: RowMapping) -> FeedItem:
    return FeedItem(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        link=row["link"],
        created_at=row["created_at"],
        read=row["read_at"] is not None,
        read_at=row["read_at"],
    )


def feed(
    conn: Connection, user_id: str, *, unread_only: bool, limit: int, cursor: str | None
) -> FeedPage:
    """Newest first, a page at a time; the unread count of the whole feed with each page."""
    query = fingerprint({"unread_only": unread_only})
    before = None
    if cursor:
        try:
            before = decode_cursor(cursor, FEED_LISTING, query).get("id")
            if not isinstance(before, int) or isinstance(before, bool):
                raise InvalidCursor("the cursor carries no feed item id")
        except InvalidCursor as exc:
            raise invalid_cursor(exc) from exc
    rows = store.feed_page(
        conn, user_id, unread_only=unread_only, limit=limit + 1, before_id=before
    )
    items = [_item(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(FEED_LISTING, query, {"id": items[-1].id})
    return FeedPage(
        items=items, next_cursor=next_cursor, unread_count=store.unread_count(conn, user_id)
    )


def mark_read(conn: Connection, user_id: str, item_id: int) -> FeedItem:
    row = store.mark_read(conn, user_id, item_id)
    if row is None:
        raise not_found("notification", str(item_id))
    return _item(row)


def mark_all_read(conn: Connection, user_id: str) -> MarkedRead:
    return MarkedRead(marked=store.mark_all_read(conn, user_id))


# ---------------------------------------------------------------- notices on request


def request_notice(conn: Connection, user_id: str, kind: Kind, reference: str | None) -> None:
    """Ask the consumer to tell a user something no other event says (in this transaction)."""
    outbox.record(
        conn, NotificationRequested(user_id=user_id, kind=kind.value, reference=reference), SOURCE
    )


def tell_owner_of_registration(conn: Connection, owner_id: str) -> None:
    """Someone tried to register with this owner's address: tell the owner (the caller gets
    the answer a new registration gets, so nobody learns which addresses have accounts)."""
    request_notice(conn, owner_id, Kind.ACCOUNT_EXISTS, reference=None)
