"""SQL of accounts."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, RowMapping

from serving.accounts.tables import addresses, auth_sessions, users


def insert_user(conn: Connection, **fields: Any) -> RowMapping:
    row = (
        conn.execute(users.insert().values(id=str(uuid.uuid4()), **fields).returning(*users.c))
        .mappings()
        .one()
    )
    return row


def user_by_email(conn: Connection, email: str) -> RowMapping | None:
    return conn.execute(sa.select(users).where(users.c.email == email)).mappings().first()


def user_by_id(conn: Connection, user_id: str) -> RowMapping | None:
    return conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()


def update_user(conn: Connection, user_id: str, **fields: Any) -> RowMapping:
    return (
        conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(**fields, updated_at=sa.func.now())
            .returning(*users.c)
        )
        .mappings()
        .one()
    )


def list_addresses(conn: Connection, user_id: str) -> list[RowMapping]:
    return list(
        conn.execute(
            sa.select(addresses)
            .where(addresses.c.user_id == user_id)
            .order_by(addresses.c.created_at, addresses.c.id)
        ).mappings()
    )


def get_address(conn: Connection, user_id: str, address_id: str) -> RowMapping | None:
    return (
        conn.execute(
            sa.select(addresses).where(addresses.c.id == address_id, addresses.c.user_id == user_id)
        )
        .mappings()
        .first()
    )


def clear_default_address(conn: Connection, user_id: str) -> None:
    conn.execute(addresses.update().where(addresses.c.user_id == user_id).values(is_default=False))


def insert_address(conn: Connection, user_id: str, **fields: Any) -> RowMapping:
    return (
        conn.execute(
            addresses.insert()
            .values(id=str(uuid.uuid4()), user_id=user_id, **fields)
            .returning(*addresses.c)
        )
        .mappings()
        .one()
    )


def update_address(conn: Connection, address_id: str, **fields: Any) -> RowMapping:
    return (
        conn.execute(
            addresses.update()
            .where(addresses.c.id == address_id)
            .values(**fields)
            .returning(*addresses.c)
        )
        .mappings()
        .one()
    )


def delete_address(conn: Connection, user_id: str, address_id: str) -> bool:
    result = conn.execute(
        addresses.delete().where(addresses.c.id == address_id, addresses.c.user_id == user_id)
    )
    return result.rowcount > 0


def insert_session(
    conn: Connection, session_id: str, user_id: str, refresh_jti: str, ttl_s: int
) -> None:
    conn.execute(
        auth_sessions.insert().values(
            id=session_id,
            user_id=user_id,
            refresh_jti=refresh_jti,
            expires_at=sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, ttl_s),
        )
    )


def session_for_update(conn: Connection, session_id: str) -> RowMapping | None:
    """The session, locked: two refreshes with one token are served one after the other."""
    return (
        conn.execute(
            sa.select(auth_sessions, (auth_sessions.c.expires_at > sa.func.now()).label("alive"))
            .where(auth_sessions.c.id == session_id)
            .with_for_update()
        )
        .mappings()
        .first()
    )


def rotate_session(conn: Connection, session_id: str, refresh_jti: str) -> None:
    conn.execute(
        auth_sessions.update()
        .where(auth_sessions.c.id == session_id)
        .values(refresh_jti=refresh_jti, rotated_at=sa.func.now())
    )


def revoke_sessions(
    conn: Connection, reason: str, *, session_id: str | None = None, user_id: str | None = None
) -> list[str]:
    """Revoke one session, or every live one of a user; the ids revoked."""
    condition: sa.ColumnElement[bool] = auth_sessions.c.revoked_at.is_(None)
    if session_id is not None:
        condition = sa.and_(condition, auth_sessions.c.id == session_id)
    if user_id is not None:
        condition = sa.and_(
            condition,
            auth_sessions.c.user_id == user_id,
            auth_sessions.c.expires_at > sa.func.now(),
        )
    rows = conn.execute(
        auth_sessions.update()
        .where(condition)
        .values(revoked_at=sa.func.now(), revoked_reason=reason)
        .returning(auth_sessions.c.id)
    )
    return [str(row) for row in rows.scalars()]
