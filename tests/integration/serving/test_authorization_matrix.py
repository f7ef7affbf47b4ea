"""Every /v1 route called with no token, a customer, an ops user, a supplier's user and an
admin: 401/403 as designed.

What each route expects is its own declaration (`x-access` in the OpenAPI document, read from
its dependencies by `serving.access`); the app refuses to build with a route that declares
none, so a new route cannot ship without a decision, and this test holds each decision to
what the route really does.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.access import Access
from serving.app import create_app
from serving.security import Role, issue_token
from shoplake.config import get_settings
from tests.support.callers import Caller, MakeCaller


def _decisions() -> dict[tuple[str, str], Access]:
    """Every operation the app publishes under /v1 with its declared access."""
    paths = create_app(get_settings()).openapi()["paths"]
    return {
        (method.upper(), path): Access(operation["x-access"])
        for path, operations in paths.items()
        if path.startswith("/v1")
        for method, operation in operations.items()
    }


ACCESS = _decisions()


PATH_VALUES = {
    "sku": "AUTHZ-NO-SUCH-SKU",
    "address_id": str(uuid.uuid4()),
    "warehouse_id": "AUTHZ-WH",
    "order_id": str(uuid.uuid4()),
    "shipment_id": str(uuid.uuid4()),
    "return_id": str(uuid.uuid4()),
    "supplier_id": str(uuid.uuid4()),
    "po_id": str(uuid.uuid4()),
    "item_id": "1",
}


# Routes that end the caller's session: called with a token of a session of its own, so the
# callers' sessions live on for the other routes.
ENDS_THE_SESSION = {("POST", "/v1/auth/logout")}


def _call(client: TestClient, method: str, path: str, caller: Caller | None) -> int:
    url = path.format(**PATH_VALUES, promotion_id=uuid.uuid4())
    headers = caller.headers if caller else {}
    if caller is not None and (method, path) in ENDS_THE_SESSION:
        token, _ = issue_token(get_settings(), caller.user_id, caller.role, "access")
        headers = {"Authorization": f"Bearer {token}"}
    kwargs: dict[str, Any] = {} if method in {"GET", "DELETE"} else {"json": {}}
    status: int = client.request(method, url, headers=headers, **kwargs).status_code
    return status


@pytest.fixture(scope="module")
def callers(make_caller: MakeCaller) -> dict[str, Caller]:
    roles = (Role.CUSTOMER, Role.OPS, Role.SUPPLIER, Role.ADMIN)
    return {role.value: make_caller(role) for role in roles}


def test_the_v1_surface_is_what_the_decisions_cover() -> None:
    # A guard against an empty or truncated document making the matrix vacuous.
    assert len(ACCESS) >= 69
    assert set(ACCESS.values()) == set(Access)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_route_answers_each_caller_as_designed(
    client: TestClient, callers: dict[str, Caller], method: str, path: str
) -> None:
    access = ACCESS[(method, path)]
    anonymous = _call(client, method, path, None)
    customer = _call(client, method, path, callers["customer"])
    ops = _call(client, method, path, callers["ops"])
    supplier = _call(client, method, path, callers["supplier"])
    admin = _call(client, method, path, callers["admin"])

    if access is Access.PUBLIC:
        assert anonymous not in {401, 403}
    else:
        assert anonymous == 401
    if access is Access.ADMIN:
        assert (customer, ops, supplier) == (403, 403, 403)
    elif access is Access.STAFF:
        assert (customer, supplier) == (403, 403) and ops not in {401, 403}
    elif access is Access.SUPPLIER:
        # A supplier's own orders: its users only; staff work on orders through their routes.
        assert (customer, ops, admin) == (403, 403, 403) and supplier not in {401, 403}
    else:  # PUBLIC and USER: a supplier's user is a signed-in user like any other
        assert customer not in {401, 403} and ops not in {401, 403}
        assert supplier not in {401, 403}
    if access is not Access.SUPPLIER:
        assert admin not in {401, 403}
    assert max(anonymous, customer, ops, supplier, admin) < 500
