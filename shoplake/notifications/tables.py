"""The notification tables: preferences (the API writes them), deliveries (one row per event,
channel and user: the unique key that makes every message go out once) and the in-app feed.

No foreign keys to `users`: the kernel cannot name serving's tables (they are not on the
metadata where only the kernel is imported), so erasing an account must delete its rows here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shoplake.db import metadata

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed")

notification_preferences = sa.Table(
    "notification_preferences",
    metadata,
    sa.Column("user_id", UUID(as_uuid=False), primary_key=True),
    # Overrides of the defaults (shoplake.notifications.contract): {kind: {channel: on}}.
    sa.Column("channels", JSONB, nullable=False, server_default="{}"),
    sa.Column("sms_number", sa.Text),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),
    # Where it goes: an e-mail address, a phone number, a device group, the user's feed.
    sa.Column("address", sa.Text, nullable=False),
    # Alerts that must not repeat (a SKU back in stock in two warehouses on one day): at most
    # one delivery per key and channel.
    sa.Column("dedupe_key", sa.Text),
    # The rendered message: subject, text, html, short, link. Never a secret (see the rules).
    sa.Column("message", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column(
        "next_attempt_at",
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now(),
    ),
    # While a sender holds it ('sending'); after this, another sender may take it over.
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    # The holder's token: only the sender that claimed a row may settle it.
    sa.Column("claim_token", sa.Text),
    sa.Column("last_error", sa.Text),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("event_id", "channel", "user_id", name="uq_notification_deliveries_once"),
    sa.CheckConstraint(
        "status in ('pending', 'sending', 'sent', 'failed')", name="delivery_status"
    ),
    sa.Index(
        "uq_notification_deliveries_dedupe",
        "dedupe_key",
        "channel",
        unique=True,
        postgresql_where=sa.text("dedupe_key is not null"),
    ),
    sa.Index(
        "ix_notification_deliveries_due",
        "channel",
        "next_attempt_at",
        postgresql_where=sa.text("status in ('pending', 'sending')"),
    ),
    sa.Index("ix_notification_deliveries_user", "user_id", "id"),
)

notification_feed = sa.Table(
    "notification_feed",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=False), nullable=False),
    sa.Column("delivery_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.Text),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("read_at", sa.DateTime(timezone=True)),
    sa.Index("ix_notification_feed_user", "user_id", "id"),
    sa.Index("ix_notification_feed_unread", "user_id", postgresql_where=sa.text("read_at is null")),
)
