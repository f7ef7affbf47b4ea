"""Each route declares who may call it; an app with an undecided route is refused."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from serving.access import Access, Public, UndecidedRoute, access_of, declare_access
from serving.deps import AdminUser, CurrentUser, OptionalUser, StaffUser
from serving.security import TokenClaims


def _router() -> APIRouter:
    router = APIRouter(prefix="/v1/probe")

    @router.get("/open", dependencies=[Public])
    def open_route(user: OptionalUser) -> None: ...

    @router.get("/mine")
    def mine(user: CurrentUser) -> None: ...

    @router.get("/ops")
    def ops(user: StaffUser) -> None: ...

    @router.post("/admin")
    def admin(user: AdminUser) -> None: ...

    return router


def test_each_marker_declares_its_access_and_the_strictest_wins() -> None:
    routes = {
        route.path: access_of(route) for route in _router().routes if isinstance(route, APIRoute)
    }
    assert routes == {
        "/v1/probe/open": Access.PUBLIC,
        "/v1/probe/mine": Access.USER,  # CurrentUser alone
        "/v1/probe/ops": Access.STAFF,  # depends on CurrentUser too: the stricter wins
        "/v1/probe/admin": Access.ADMIN,
    }


def test_the_decision_is_published_in_the_openapi_operation() -> None:
    router = _router()
    declare_access([router])
    extras = {r.path: r.openapi_extra for r in router.routes if isinstance(r, APIRoute)}
    assert extras["/v1/probe/admin"] == {"x-access": "admin"}


def test_a_route_that_decides_nothing_is_refused() -> None:
    router = _router()

    @router.get("/forgotten")
    def forgotten(user: OptionalUser) -> TokenClaims | None:  # an optional token is no decision
        return user

    with pytest.raises(UndecidedRoute, match="GET /v1/probe/forgotten"):
        declare_access([router])
