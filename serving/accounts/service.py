"""Rules of accounts: registration, login, token refresh, profile and address changes."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from serving.accounts import store
from serving.accounts.schemas import (
    AddressCreate,
    AddressPublic,
    AddressUpdate,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from serving.errors import ApiError, not_found
from serving.notifications import service as notifications
from serving.security import (
    InvalidToken,
    Role,
    decode_token,
    hash_password,
    issue_token,
    needs_rehash,
    verify_password,
)
from shoplake import outbox
from shoplake.config import Settings
from shoplake.events.user import UserRegistered

SOURCE = "/serving/accounts"
# Verified against when the email is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-0000")


class AccountsError(StrEnum):
    EMAIL_TAKEN = "EMAIL_TAKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    CURRENT_PASSWORD_REQUIRED = "CURRENT_PASSWORD_REQUIRED"


def _public(row: Any) -> UserPublic:
    return UserPublic(
        id=str(row["id"]),
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        country=row["country"],
        created_at=row["created_at"],
    )


def register(conn: Connection, body: UserRegister, role: Role = Role.CUSTOMER) -> UserPublic:
    email = body.email.lower()
    if (owner := store.user_by_email(conn, email)) is not None:
        return notifications.answer_existing_email_registration(conn, str(owner["id"]), body, role)
    try:
        with conn.begin_nested():
            row = store.insert_user(
                conn,
                email=email,
                password_hash=hash_password(body.password),
                display_name=body.display_name,
                role=role.value,
                country=body.country,
            )
    except sa.exc.IntegrityError as exc:  # a concurrent registration won the race
        raise ApiError(409, AccountsError.EMAIL_TAKEN, "an account with this email exists") from exc
    outbox.record(
        conn,
        UserRegistered(user_id=str(row["id"]), email=email, role=role.value, country=body.country),
        SOURCE,
    )
    return _public(row)


def _tokens(settings: Settings, user_id: str, role: Role) -> TokenPair:
    access, ttl = issue_token(settings, user_id, role, "access")
    refresh, _ = issue_token(settings, user_id, role, "refresh")
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl)


def login(conn: Connection, settings: Settings, email: str, password: str) -> tuple[str, TokenPair]:
    """The user id and a fresh token pair, or 401."""
    row = store.user_by_email(conn, email.lower())
    if row is None:
        verify_password(_DUMMY_HASH, password)
        raise ApiError(401, AccountsError.INVALID_CREDENTIALS, "wrong email or password")
    if not verify_password(row["password_hash"], password):
        raise ApiError(401, AccountsError.INVALID_CREDENTIALS, "wrong email or password")
    if needs_rehash(row["password_hash"]):
        store.update_user(conn, str(row["id"]), password_hash=hash_password(password))
    return str(row["id"]), _tokens(settings, str(row["id"]), Role(row["role"]))


def refresh(conn: Connection, settings: Settings, refresh_token: str) -> TokenPair:
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except InvalidToken as exc:
        raise ApiError(
            401, AccountsError.INVALID_REFRESH_TOKEN, "the refresh token is invalid or expired"
        ) from exc
    row = store.user_by_id(conn, claims.user_id)
    if row is None:
        raise ApiError(401, AccountsError.INVALID_REFRESH_TOKEN, "the account no longer exists")
    # The role is read again, so a demoted user's refreshed token carries the new role.
    return _tokens(settings, claims.user_id, Role(row["role"]))


def get_me(conn: Connection, user_id: str) -> UserPublic:
    row = store.user_by_id(conn, user_id)
    if row is None:
        raise not_found("user", user_id)
    return _public(row)


def update_me(conn: Connection, user_id: str, body: UserUpdate) -> UserPublic:
    row = store.user_by_id(conn, user_id)
    if row is None:
        raise not_found("user", user_id)
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"password", "current_password"}
    )
    if body.password is not None:
        if body.current_password is None or not verify_password(
            row["password_hash"], body.current_password
        ):
            raise ApiError(
                403,
                AccountsError.CURRENT_PASSWORD_REQUIRED,
                "changing the password needs the current password",
            )
        changes["password_hash"] = hash_password(body.password)
    if not changes:
        return _public(row)
    return _public(store.update_user(conn, user_id, **changes))


def list_addresses(conn: Connection, user_id: str) -> list[AddressPublic]:
    return [_address(row) for row in store.list_addresses(conn, user_id)]


def _address(row: Any) -> AddressPublic:
    return AddressPublic.model_validate({**dict(row), "id": str(row["id"])})


def add_address(conn: Connection, user_id: str, body: AddressCreate) -> AddressPublic:
    is_first = not store.list_addresses(conn, user_id)
    if body.is_default:
        store.clear_default_address(conn, user_id)
    fields = body.model_dump()
    fields["is_default"] = body.is_default or is_first
    return _address(store.insert_address(conn, user_id, **fields))


def update_address(
    conn: Connection, user_id: str, address_id: str, body: AddressUpdate
) -> AddressPublic:
    if store.get_address(conn, user_id, address_id) is None:
        raise not_found("address", address_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("is_default"):
        store.clear_default_address(conn, user_id)
    if not changes:
        return _address(store.get_address(conn, user_id, address_id))
    return _address(store.update_address(conn, address_id, **changes))


def delete_address(conn: Connection, user_id: str, address_id: str) -> None:
    if not store.delete_address(conn, user_id, address_id):
        raise not_found("address", address_id)
