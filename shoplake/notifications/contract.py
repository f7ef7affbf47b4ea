"""Kinds of notification, channels, and the defaults that apply until a user says otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Kind(StrEnum):
    ORDER_CONFIRMED = "order_confirmed"
    ORDER_SHIPPED = "order_shipped"
    ORDER_DELIVERED = "order_delivered"
    PAYMENT_FAILED = "payment_failed"
    REFUND_ISSUED = "refund_issued"
    RETURN_RECEIVED = "return_received"
    PRICE_DROPPED = "price_dropped"
    BACK_IN_STOCK = "back_in_stock"
    # Someone tried to register with this account's e-mail: a security notice.
    ACCOUNT_EXISTS = "account_exists"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"


# Security notices go by e-mail whatever the preferences say, and nowhere else: the owner must
# hear of it, and an attacker holding a session must not be able to silence or read it.
MANDATORY: Mapping[Kind, frozenset[Channel]] = {Kind.ACCOUNT_EXISTS: frozenset({Channel.EMAIL})}

# The kinds a user may switch per channel (GET/PATCH /v1/users/me/notifications).
CONFIGURABLE: tuple[Kind, ...] = tuple(kind for kind in Kind if kind not in MANDATORY)

# Until a user says otherwise: e-mail and the in-app feed on, SMS and push off (opt-in: an SMS
# costs money and needs a number, push needs a device).
DEFAULT_CHANNELS: Mapping[Channel, bool] = {
    Channel.EMAIL: True,
    Channel.SMS: False,
    Channel.PUSH: False,
    Channel.IN_APP: True,
}

# What `notification_preferences.channels` holds: overrides of the defaults, {kind: {channel: on}}.
Overrides = Mapping[str, Mapping[str, bool]]


def enabled_channels(kind: Kind, overrides: Overrides) -> dict[Channel, bool]:
    """Each channel of a configurable kind, on or off: the user's override, else the default."""
    chosen = overrides.get(kind.value, {})
    return {
        channel: bool(chosen.get(channel.value, on)) for channel, on in DEFAULT_CHANNELS.items()
    }


def channels_for(kind: Kind, overrides: Overrides) -> frozenset[Channel]:
    """The channels a notification of this kind goes out on for a user with these overrides."""
    if kind in MANDATORY:
        return MANDATORY[kind]
    return frozenset(channel for channel, on in enabled_channels(kind, overrides).items() if on)
