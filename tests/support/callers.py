"""Who calls the API in a test: a registered user with a role and the headers of their token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.security import Role


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    password: str
    role: Role
    headers: dict[str, str]


MakeCaller = Callable[..., Caller]


def register_caller(client: TestClient, engine: Engine, role: Role = Role.CUSTOMER) -> Caller:
    """Register a fresh user with the role and log them in through the API (the fixtures of
    tests/integration/serving do this; tests elsewhere that drive the API call it)."""
    email = f"{role.value}-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"
    with engine.begin() as conn:
        user = accounts.register(conn, UserRegister(email=email, password=password), role=role)
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return Caller(user.id, email, password, role, {"Authorization": f"Bearer {token}"})
