"""The API under test (in-process, real Postgres/Redis/Kafka) and ways to make callers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.app import create_app
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from tests.support.api import generous_limits
from tests.support.callers import Caller, MakeCaller


@pytest.fixture(scope="session")
def api_settings(settings: Settings) -> Settings:
    return generous_limits(settings)


@pytest.fixture(scope="session")
def client(api_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def make_caller(client: TestClient, api_settings: Settings) -> MakeCaller:
    """Register a fresh user with the given role and log them in through the API."""
    engine = make_engine(api_settings, pool_size=1)

    def make(role: Role = Role.CUSTOMER) -> Caller:
        email = f"{role.value}-{uuid.uuid4().hex[:10]}@example.com"
        password = "correct horse battery"
        with engine.begin() as conn:
            user = accounts.register(conn, UserRegister(email=email, password=password), role=role)
        response = client.post("/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return Caller(user.id, email, password, role, {"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def customer(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.CUSTOMER)


@pytest.fixture
def other_customer(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.CUSTOMER)


@pytest.fixture(scope="session")
def admin(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.ADMIN)


@pytest.fixture
def redis_client(api_settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(api_settings.redis_endpoint, decode_responses=True)
    yield client
    client.close()
