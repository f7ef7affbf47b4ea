"""Passwords (argon2id) and JWT access/refresh tokens with expiry, roles and a session id.

Password hashing costs what the settings say (OWASP's minimum for argon2id by default: 19 MiB,
2 passes, 1 lane) and runs in a bounded pool of its own (`serving/passwords.py`), never on the
request threads. Every token carries the session (`sid`) it belongs to: a refresh token is one
link of its session's rotation chain (`jti`), an access token is checked against the revoked
sessions in Redis (`serving/revocation.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from shoplake.config import Settings

TokenKind = Literal["access", "refresh"]


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    OPS = "ops"
    SUPPLIER = "supplier"


@lru_cache(maxsize=8)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )


def hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher at the settings' cost."""
    return _hasher(
        settings.password_hash_memory_kib,
        settings.password_hash_time_cost,
        settings.password_hash_parallelism,
    )


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(password)


def verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    try:
        return hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    """True when the hash was made with other parameters than the settings' (rehash on login)."""
    try:
        return hasher(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: Role
    kind: TokenKind
    token_id: str
    expires_at: datetime
    session_id: str = ""


class InvalidToken(Exception):
    """Expired, forged, malformed, or of the wrong kind."""


def issue_token(
    settings: Settings,
    user_id: str,
    role: Role,
    kind: TokenKind,
    *,
    session_id: str | None = None,
    token_id: str | None = None,
) -> tuple[str, int]:
    """A signed token and its lifetime in seconds. Without a session id the token is its own
    session (tests and tools that need a shopper without logging one in)."""
    ttl = settings.jwt_access_ttl_s if kind == "access" else settings.jwt_refresh_ttl_s
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "role": role.value,
        "kind": kind,
        "jti": token_id or uuid.uuid4().hex,
        "sid": session_id or uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "iss": "shoplake",
    }
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)
    return token, ttl


def decode_token(settings: Settings, token: str, kind: TokenKind) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer="shoplake",
            options={"require": ["exp", "sub", "iat", "jti", "sid"]},
        )
        role = Role(claims["role"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("kind") != kind:
        raise InvalidToken(f"expected a {kind} token")
    return TokenClaims(
        user_id=str(claims["sub"]),
        role=role,
        kind=kind,
        token_id=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        session_id=str(claims["sid"]),
    )
