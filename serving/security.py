"""Passwords (argon2) and JWT access/refresh tokens with expiry and roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shoplake.config import Settings

_hasher = PasswordHasher()

TokenKind = Literal["access", "refresh"]


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    OPS = "ops"
    SUPPLIER = "supplier"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: Role
    kind: TokenKind
    token_id: str
    expires_at: datetime


class InvalidToken(Exception):
    """Expired, forged, malformed, or of the wrong kind."""


def issue_token(settings: Settings, user_id: str, role: Role, kind: TokenKind) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    ttl = settings.jwt_access_ttl_s if kind == "access" else settings.jwt_refresh_ttl_s
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "role": role.value,
        "kind": kind,
        "jti": uuid.uuid4().hex,
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
            options={"require": ["exp", "sub", "iat", "jti"]},
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
    )
