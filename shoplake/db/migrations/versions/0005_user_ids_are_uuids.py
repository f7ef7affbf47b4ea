"""user ids are uuids: orders, checkout requests and the actors of histories and movements
hold users.id as uuid, like every other domain

Revision ID: 0005_user_ids_are_uuids
Revises: 0004_orders
Create Date: 2026-12-01 08:51:55.167801
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_user_ids_are_uuids"
down_revision: str | None = "0004_orders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "checkout_requests",
        "user_id",
        existing_type=sa.TEXT(),
        type_=sa.UUID(as_uuid=False),
        existing_nullable=False,
        postgresql_using="user_id::uuid",
    )
    op.alter_column(
        "order_status_history",
        "actor_id",
        existing_type=sa.TEXT(),
        type_=sa.UUID(as_uuid=False),
        existing_nullable=True,
        postgresql_using="actor_id::uuid",
    )
    op.alter_column(
        "orders",
        "user_id",
        existing_type=sa.TEXT(),
        type_=sa.UUID(as_uuid=False),
        existing_nullable=False,
        postgresql_using="user_id::uuid",
    )
    op.alter_column(
        "stock_movements",
        "actor_id",
        existing_type=sa.TEXT(),
        type_=sa.UUID(as_uuid=False),
        existing_nullable=True,
        postgresql_using="actor_id::uuid",
    )


def downgrade() -> None:
    op.alter_column(
        "stock_movements",
        "actor_id",
        existing_type=sa.UUID(as_uuid=False),
        type_=sa.TEXT(),
        existing_nullable=True,
        postgresql_using="actor_id::text",
    )
    op.alter_column(
        "orders",
        "user_id",
        existing_type=sa.UUID(as_uuid=False),
        type_=sa.TEXT(),
        existing_nullable=False,
        postgresql_using="user_id::text",
    )
    op.alter_column(
        "order_status_history",
        "actor_id",
        existing_type=sa.UUID(as_uuid=False),
        type_=sa.TEXT(),
        existing_nullable=True,
        postgresql_using="actor_id::text",
    )
    op.alter_column(
        "checkout_requests",
        "user_id",
        existing_type=sa.UUID(as_uuid=False),
        type_=sa.TEXT(),
        existing_nullable=False,
        postgresql_using="user_id::text",
    )
