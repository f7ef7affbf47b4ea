"""The fault-injection suite's fixtures: the API served as in production (two workers, a relay
process), an admin, and the stack healthy again at the end whatever happened."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from demo.checkout_load import admin_headers
from serving.accounts import service as accounts
from serving.accounts.schemas import UserRegister
from serving.security import Role
from shoplake.config import Settings
from shoplake.db import make_engine
from shoplake.stack import Stack
from tests.support.faults import ServedApi, serve


@pytest.fixture(scope="session")
def fault_engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings, pool_size=2)
    yield engine
    engine.dispose()


# Per module: the served API's relay leads while it runs, and the poison-event tests need
# their own relay to be the leader (its set-aside metric is counted in this process).
@pytest.fixture(scope="module")
def served(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    api = serve(Path(tmp_path_factory.mktemp("faults")) / "api.log")
    try:
        yield api
    finally:
        api.stop()
        stack.up(lambda _name, _message: None)  # every service healthy for whoever comes next


@pytest.fixture(scope="module")
def fault_admin(served: ServedApi, fault_engine: Engine, settings: Settings) -> dict[str, str]:
    email, password = f"fault-admin-{uuid.uuid4().hex[:8]}@example.com", "fault admin password"
    with fault_engine.begin() as conn:
        accounts.register(
            conn, UserRegister(email=email, password=password), role=Role.ADMIN, settings=settings
        )
    return admin_headers(served.base, email, password)
