"""Property-based run of every operation in /openapi.json: no 5xx, no response off its schema.

Bounded (a few examples per operation) so it stays a few minutes at most; it runs as an admin,
so the admin routes are exercised past their authorization check, and the supplier routes once
more as a supplier's user (an admin may not call them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from serving.app import create_app
from serving.catalog.tables import products
from serving.inventory.tables import stock_levels, stock_movements, stock_reservations
from serving.pricing.tables import promotions
from serving.security import Role, issue_token
from shoplake.config import Settings, get_settings
from shoplake.db import make_engine
from tests.support.api import generous_limits
from tests.support.callers import Caller

APP = create_app(generous_limits(get_settings()))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _running_app(api_settings: Settings) -> Iterator[None]:
    """The app's lifespan (pools, publisher); afterwards, the promotions and products the
    fuzzer created are removed, so that no random cart-wide promotion prices later tests."""
    engine = make_engine(api_settings, pool_size=1)
    with engine.connect() as conn:
        started = conn.execute(sa.select(sa.func.now())).scalar_one()
    try:
        with TestClient(APP):
            yield
    finally:
        fuzzed = sa.select(products.c.sku).where(products.c.created_at >= started)
        with engine.begin() as conn:
            conn.execute(promotions.delete().where(promotions.c.created_at >= started))
            # The ledger keeps its history (RESTRICT): the fuzzer's stock goes before its products.
            for table in (stock_reservations, stock_movements, stock_levels):
                conn.execute(table.delete().where(table.c.sku.in_(fuzzed)))
            conn.execute(products.delete().where(products.c.created_at >= started))
        engine.dispose()


@pytest.fixture(scope="module")
def supplier(admin: Caller) -> Caller:
    """A supplier's user, linked to a supplier that has a submitted order."""
    with TestClient(APP) as client:
        code = f"FUZZ{uuid.uuid4().hex[:8].upper()}"
        made = client.post(
            "/v1/admin/suppliers",
            headers=admin.headers,
            json={"code": code, "name": "Fuzz Ltd", "contact_email": "fuzz@example.com"},
        ).json()
        email, password = f"fuzz-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
        user = client.post(
            f"/v1/admin/suppliers/{made['id']}/users",
            headers=admin.headers,
            json={"email": email, "password": password},
        ).json()
        token = client.post("/v1/auth/token", data={"username": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return Caller(user["user_id"], email, password, Role.SUPPLIER, headers)


@schema.include(path_regex=r"^/v1/supplier/").parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_supplier_routes_as_a_supplier(
    case: schemathesis.Case,  # type: ignore[type-arg]
    supplier: Caller,
) -> None:
    case.call_and_validate(
        headers=supplier.headers,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )


@schema.parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case,  # type: ignore[type-arg]
    admin: Caller,
) -> None:
    headers = admin.headers
    if case.path == "/v1/auth/logout":  # a session of its own: the admin's lives on
        token, _ = issue_token(get_settings(), admin.user_id, admin.role, "access")
        headers = {"Authorization": f"Bearer {token}"}
    case.call_and_validate(
        headers=headers,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
