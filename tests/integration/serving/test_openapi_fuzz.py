"""Property-based run of every operation in /openapi.json: no 5xx, no response off its schema.

Bounded (a few examples per operation) so it stays a few minutes at most; it runs as an admin,
so the admin routes are exercised past their authorization check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from serving.app import create_app
from shoplake.config import get_settings

from .conftest import Caller, generous_limits

APP = create_app(generous_limits(get_settings()))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _running_app() -> Iterator[None]:
    with TestClient(APP):  # runs the lifespan: pools, publisher
        yield


@schema.parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case, admin: Caller
) -> None:
    case.call_and_validate(
        headers=admin.headers,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
