"""Passwords and tokens, without services."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr, ValidationError

from serving.security import (
    InvalidToken,
    Role,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from shoplake.config import Settings


def test_argon2_hash_verifies_only_the_right_password() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse battery!")
    assert not verify_password("not a hash", "anything")
    assert hash_password("same") != hash_password("same")  # salted


def test_tokens_carry_subject_role_kind_and_expiry() -> None:
    settings = Settings()
    user_id = str(uuid.uuid4())
    token, ttl = issue_token(settings, user_id, Role.OPS, "access")
    claims = decode_token(settings, token, "access")
    assert (claims.user_id, claims.role, claims.kind) == (user_id, Role.OPS, "access")
    assert ttl == settings.jwt_access_ttl_s
    with pytest.raises(InvalidToken, match="expected a refresh token"):
        decode_token(settings, token, "refresh")


def test_expired_forged_and_algorithm_none_tokens_fail() -> None:
    settings = Settings()
    expired, _ = issue_token(
        settings.model_copy(update={"jwt_access_ttl_s": -1}), "u", Role.CUSTOMER, "access"
    )
    with pytest.raises(InvalidToken):
        decode_token(settings, expired, "access")
    other = settings.model_copy(update={"jwt_secret": SecretStr("x" * 40)})
    forged, _ = issue_token(other, "u", Role.ADMIN, "access")
    with pytest.raises(InvalidToken):
        decode_token(settings, forged, "access")
    import jwt

    unsigned = jwt.encode(
        {"sub": "u", "role": "admin", "kind": "access", "jti": "j", "iat": 0, "exp": 2**40},
        # "" is pyjwt's "no key" for alg none (typed str, which None is not once cryptography
        # is installed and pyjwt's key union names its key classes).
        key="",
        algorithm="none",
    )
    with pytest.raises(InvalidToken):
        decode_token(settings, unsigned, "access")


def test_the_development_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="SHOPLAKE_JWT_SECRET"):
        Settings(environment="production")
    assert (
        Settings(environment="production", jwt_secret=SecretStr("p" * 48)).environment
        == "production"
    )
