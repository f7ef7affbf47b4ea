"""Notifications: what the notification consumer was asked to tell users, and what it told them.

Kinds and channels are plain strings here (the values of `shoplake.notifications.contract`), so
a new kind or channel never needs a new version of these types. No event carries an address,
a message body or anything secret: a user id, a kind, a channel and the event it came from.
"""

from __future__ import annotations

from pydantic import Field

from shoplake.events.base import INT32_MAX, MAX_CENTS, EventData, register


class _NotificationEvent(EventData):
    domain = "notification"
    key_field = "user_id"

    user_id: str
    kind: str


@register
class NotificationRequested(_NotificationEvent):
    """A notice a service asks for directly, not derived from another domain's fact (e.g. a
    registration attempted with the e-mail of an existing account)."""

    fact = "NotificationRequested"

    reference: str | None = Field(None, description="what it is about; never a secret")


class _DeliveryEvent(_NotificationEvent):
    delivery_id: int = Field(ge=1, le=MAX_CENTS)
    channel: str
    source_event_id: str
    source_event_type: str
    attempts: int = Field(ge=0, le=INT32_MAX)


@register
class NotificationSent(_DeliveryEvent):
    """One message handed to its channel (SMTP accepted it, the sandbox recorded it...)."""

    fact = "NotificationSent"


@register
class NotificationFailed(_DeliveryEvent):
    """A message given up on: refused for good, or out of attempts; it went to dead letters."""

    fact = "NotificationFailed"

    reason: str
