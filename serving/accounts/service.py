"""Rules of accounts: registration, login sessions, token rotation, profile and addresses.

- Passwords are hashed in the bounded pool (`serving/passwords.py`), never while a database
  connection is held: the login and registration routes are async and take short
  transactions on each side of the hash.
- A login opens a session (`auth_sessions`): its tokens carry its id. Refresh tokens rotate,
  each works once; presenting an already-used one means it leaked, so the whole session is
  revoked (OAuth 2.0 Security Best Current Practice, refresh token rotation). Logout revokes
  the session, a password change every session of the user; revoked sessions are listed in
  Redis (`serving/revocation.py`) for as long as their access tokens could live.
- Logins are limited per address (the `auth` rule) and per target account, and an account
  whose password is given wrong `login_lockout_failures` times in a row is locked with a
  doubling backoff (`serving/ratelimit.py`'s Lockout); unknown accounts are treated alike.
- Registering an address that is taken answers exactly like a new registration.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import anyio
import redis
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from serving.accounts import store
from serving.accounts.schemas import (
    AddressCreate,
    AddressPublic,
    AddressUpdate,
    RegistrationAccepted,
    TokenPair,
    UserPublic,
    UserRegister,
    UserUpdate,
)
from serving.cart import service as cart_service
from serving.errors import ApiError, not_found
from serving.notifications import service as notifications
from serving.passwords import HashingBusy, PasswordPool
from serving.ratelimit import Lockout, RateLimiter
from serving.revocation import RevokedSessions
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
from shoplake.config import Settings, get_settings
from shoplake.events.user import UserRegistered

SOURCE = "/serving/accounts"
log = logging.getLogger(__name__)


class AccountsError(StrEnum):
    EMAIL_TAKEN = "EMAIL_TAKEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    CURRENT_PASSWORD_REQUIRED = "CURRENT_PASSWORD_REQUIRED"
    LOGIN_LOCKED = "LOGIN_LOCKED"
    LOGIN_RATE_LIMITED = "LOGIN_RATE_LIMITED"
    HASHING_BUSY = "HASHING_BUSY"


def _public(row: Any) -> UserPublic:
    return UserPublic(
        id=str(row["id"]),
        email=row["email"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        country=row["country"],
        created_at=row["created_at"],
    )


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(settings: Settings) -> str:
    """Verified against when the email is unknown, so a miss costs what a wrong password does."""
    params = (
        settings.password_hash_memory_kib,
        settings.password_hash_time_cost,
        settings.password_hash_parallelism,
    )
    if params not in _dummy_hashes:
        _dummy_hashes[params] = hash_password(settings, "not-a-real-password-0000")
    return _dummy_hashes[params]


# ---------------------------------------------------------------- registration


def _insert_user(
    conn: Connection, body: UserRegister, password_hash: str, role: Role
) -> UserPublic | None:
    """The new user with its UserRegistered event, or None when the address is taken."""
    email = body.email.lower()
    if (owner := store.user_by_email(conn, email)) is not None:
        # The caller hears nothing of it (the answer is the same); the owner is told.
        notifications.tell_owner_of_registration(conn, str(owner["id"]))
        return None
    try:
        with conn.begin_nested():
            row = store.insert_user(
                conn,
                email=email,
                password_hash=password_hash,
                display_name=body.display_name,
                role=role.value,
                country=body.country,
            )
    except sa.exc.IntegrityError:  # a concurrent registration won the race
        return None
    outbox.record(
        conn,
        UserRegistered(user_id=str(row["id"]), email=email, role=role.value, country=body.country),
        SOURCE,
    )
    return _public(row)


def register(
    conn: Connection,
    body: UserRegister,
    role: Role = Role.CUSTOMER,
    settings: Settings | None = None,
) -> UserPublic:
    """Create an account in the caller's transaction (the CLI, tests); 409 when it exists."""
    user = _insert_user(conn, body, hash_password(settings or get_settings(), body.password), role)
    if user is None:
        raise ApiError(409, AccountsError.EMAIL_TAKEN, "an account with this email exists")
    return user


async def register_quietly(
    engine: Engine, pool: PasswordPool, body: UserRegister
) -> RegistrationAccepted:
    """The API's registration: the same answer, after the same work, for a taken address."""
    password_hash = await _hashing(pool.hash(body.password))

    def insert() -> UserPublic | None:
        with engine.begin() as conn:
            return _insert_user(conn, body, password_hash, Role.CUSTOMER)

    if await anyio.to_thread.run_sync(insert) is None:
        log.info("registration of a taken address answered as accepted")
    return RegistrationAccepted(email=body.email.lower())


async def _hashing(work: Any) -> Any:
    try:
        return await work
    except HashingBusy as exc:
        raise ApiError(
            503,
            AccountsError.HASHING_BUSY,
            "too many logins at once; try again in a moment",
            headers={"Retry-After": "1"},
        ) from exc


# ---------------------------------------------------------------- sessions


def _tokens(settings: Settings, user_id: str, role: Role, session_id: str, jti: str) -> TokenPair:
    access, ttl = issue_token(settings, user_id, role, "access", session_id=session_id)
    refresh, _ = issue_token(
        settings, user_id, role, "refresh", session_id=session_id, token_id=jti
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=ttl)


def account_subject(email: str) -> str:
    """How limits and lockouts name an account: never the address itself."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LoginGuards:
    """What a login is checked against: the per-account bucket and the lockout."""

    limiter: RateLimiter
    lockout: Lockout

    @classmethod
    def of(cls, client: redis.Redis, limiter: RateLimiter, settings: Settings) -> LoginGuards:
        return cls(
            limiter,
            Lockout(
                client,
                "login",
                threshold=settings.login_lockout_failures,
                base_s=settings.login_lockout_base_s,
                max_s=settings.login_lockout_max_s,
            ),
        )


def _guard(guards: LoginGuards, settings: Settings, subject: str) -> None:
    locked = guards.lockout.locked_for(subject)
    if locked:
        raise ApiError(
            429,
            AccountsError.LOGIN_LOCKED,
            "too many failed logins for this account; try again later",
            details={"retry_after_s": locked},
            headers={"Retry-After": str(locked)},
        )
    decision = guards.limiter.hit(
        "login-account", subject, settings.rate_limit_login_account_per_minute
    )
    if not decision.allowed:
        raise ApiError(
            429,
            AccountsError.LOGIN_RATE_LIMITED,
            "too many logins for this account; slow down",
            details={"retry_after_s": decision.retry_after_s},
            headers={"Retry-After": str(decision.retry_after_s)},
        )


async def login(
    engine: Engine,
    client: redis.Redis,
    settings: Settings,
    pool: PasswordPool,
    guards: LoginGuards,
    email: str,
    password: str,
    cart_token: str | None = None,
) -> TokenPair:
    """A fresh session and its token pair, or 401/429. The hash runs in the pool, between two
    short transactions; a hash made with older parameters is replaced (rehash on login)."""
    subject = account_subject(email)
    await anyio.to_thread.run_sync(_guard, guards, settings, subject)

    def find() -> Any:
        with engine.connect() as conn:
            return store.user_by_email(conn, email.strip().lower())

    row = await anyio.to_thread.run_sync(find)
    stored = row["password_hash"] if row is not None else _dummy_hash(settings)
    ok = await _hashing(pool.verify(stored, password))
    if row is None or not ok:
        await anyio.to_thread.run_sync(guards.lockout.failure, subject)
        raise ApiError(401, AccountsError.INVALID_CREDENTIALS, "wrong email or password")
    new_hash = None
    if needs_rehash(settings, row["password_hash"]):
        new_hash = await _hashing(pool.hash(password))
    user_id, role = str(row["id"]), Role(row["role"])

    def open_session() -> TokenPair:
        guards.lockout.success(subject)
        session_id, jti = str(uuid.uuid4()), uuid.uuid4().hex
        with engine.begin() as conn:
            if new_hash is not None:
                store.update_user(conn, user_id, password_hash=new_hash)
            store.insert_session(conn, session_id, user_id, jti, settings.jwt_refresh_ttl_s)
            if cart_token:
                cart_service.merge_anonymous(conn, client, settings, cart_token, user_id)
        return _tokens(settings, user_id, role, session_id, jti)

    return await anyio.to_thread.run_sync(open_session)


def _invalid_refresh(message: str) -> ApiError:
    return ApiError(401, AccountsError.INVALID_REFRESH_TOKEN, message)


def refresh(
    engine: Engine, revoked: RevokedSessions, settings: Settings, refresh_token: str
) -> TokenPair:
    """The next token pair of the session; a refresh token used twice revokes the session."""
    try:
        claims = decode_token(settings, refresh_token, "refresh")
    except InvalidToken as exc:
        raise _invalid_refresh("the refresh token is invalid or expired") from exc
    with engine.begin() as conn:
        session = store.session_for_update(conn, claims.session_id)
        if session is None or session["revoked_at"] is not None or not session["alive"]:
            raise _invalid_refresh("the session has ended; log in again")
        if str(session["user_id"]) != claims.user_id:
            raise _invalid_refresh("the refresh token is invalid or expired")
        reused = session["refresh_jti"] != claims.token_id
        row = store.user_by_id(conn, claims.user_id)
        jti = uuid.uuid4().hex
        if reused:
            # An older link of the chain: whoever holds it is not the session's owner (or the
            # owner's copy leaked). Revoke the whole family, then refuse.
            revoked.revoke([claims.session_id])
            store.revoke_sessions(conn, "refresh_token_reuse", session_id=claims.session_id)
        elif row is not None:
            store.rotate_session(conn, claims.session_id, jti)
    if reused:
        log.warning("refresh token reuse: session %s revoked", claims.session_id)
        raise _invalid_refresh("this refresh token was already used; the session is revoked")
    if row is None:
        raise _invalid_refresh("the account no longer exists")
    # The role is read again, so a demoted user's refreshed token carries the new role.
    return _tokens(settings, claims.user_id, Role(row["role"]), claims.session_id, jti)


def logout(engine: Engine, revoked: RevokedSessions, session_id: str) -> None:
    """End the session: its access tokens stop working now, its refresh token too."""
    revoked.revoke([session_id])  # first: if Redis is away this fails and nothing changes
    with engine.begin() as conn:
        store.revoke_sessions(conn, "logout", session_id=session_id)


# ---------------------------------------------------------------- profile and addresses


def get_me(conn: Connection, user_id: str) -> UserPublic:
    row = store.user_by_id(conn, user_id)
    if row is None:
        raise not_found("user", user_id)
    return _public(row)


def update_me(
    conn: Connection,
    settings: Settings,
    pool: PasswordPool,
    revoked: RevokedSessions,
    user_id: str,
    body: UserUpdate,
) -> UserPublic:
    """Profile changes; a new password revokes every session of the user (this one too)."""
    row = store.user_by_id(conn, user_id)
    if row is None:
        raise not_found("user", user_id)
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"password", "current_password"}
    )
    if body.password is not None:
        current = body.current_password
        try:
            correct = current is not None and pool.run_blocking(
                lambda: verify_password(settings, row["password_hash"], current)
            )
            new_hash = pool.run_blocking(lambda: hash_password(settings, str(body.password)))
        except HashingBusy as exc:
            raise ApiError(
                503,
                AccountsError.HASHING_BUSY,
                "try again in a moment",
                headers={"Retry-After": "1"},
            ) from exc
        if not correct:
            raise ApiError(
                403,
                AccountsError.CURRENT_PASSWORD_REQUIRED,
                "changing the password needs the current password",
            )
        changes["password_hash"] = new_hash
        sessions = store.revoke_sessions(conn, "password_changed", user_id=user_id)
        revoked.revoke(sessions)  # before the commit: if Redis fails, nothing changes
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
