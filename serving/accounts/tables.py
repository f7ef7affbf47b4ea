"""Users and addresses."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shoplake.db import metadata

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),  # stored lower-cased
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("country", sa.String(2)),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.CheckConstraint("role in ('customer', 'admin', 'ops', 'supplier')", name="role"),
)

addresses = sa.Table(
    "addresses",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("line1", sa.Text, nullable=False),
    sa.Column("line2", sa.Text, nullable=False, server_default=""),
    sa.Column("city", sa.Text, nullable=False),
    sa.Column("postal_code", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# One row per login: the session every token of it names (`sid`). Refresh tokens rotate: only
# `refresh_jti` works; presenting an older one of the family revokes the whole session.
auth_sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=False), primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=False),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("refresh_jti", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("rotated_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_reason", sa.Text),
)
