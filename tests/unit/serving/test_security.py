"""Passwords and tokens, without services."""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr, ValidationError

from serving.security import (
    InvalidToken,
    Role,
    decode_token,
    hash_password,
    issue_token,
    needs_rehash,
    verify_password,
)
from shoplake.config import Settings


def test_argon2_hash_verifies_only_the_right_password() -> None:
    settings = Settings()
    hashed = hash_password(settings, "correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(settings, hashed, "correct horse battery")
    assert not verify_password(settings, hashed, "correct horse battery!")
    assert not verify_password(settings, "not a hash", "anything")
    assert hash_password(settings, "same") != hash_password(settings, "same")  # salted


def test_hashes_are_made_at_owasps_minimum_and_older_ones_are_rehashed() -> None:
    settings = Settings()
    hashed = hash_password(settings, "correct horse battery")
    # OWASP's minimum for argon2id: m=19 MiB, t=2, p=1 (the library default is 64 MiB, 3, 4).
    assert "$m=19456,t=2,p=1$" in hashed
    assert not needs_rehash(settings, hashed)
    library_default = PasswordHasher().hash("correct horse battery")
    assert needs_rehash(settings, library_default)
    assert verify_password(settings, library_default, "correct horse battery")


def test_tokens_carry_subject_role_kind_and_expiry() -> None:
    settings = Settings()
    user_id = str(uuid.uuid4())
    token, ttl = issue_token(settings, user_id, Role.OPS, "access", session_id="s-1")
    claims = decode_token(settings, token, "access")
    assert claims.session_id == "s-1"
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


def test_the_development_secret_is_refused_outside_local_and_test() -> None:
    for environment in ("production", "staging", "ci"):
        with pytest.raises(ValidationError, match="SHOPLAKE_JWT_SECRET"):
            Settings(environment=environment)
    assert Settings(environment="local").environment == "local"
    assert Settings(environment="test").environment == "test"
    assert (
        Settings(environment="production", jwt_secret=SecretStr("p" * 48)).environment
        == "production"
    )
