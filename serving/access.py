"""Who may call a route: declared on the route itself, read back for the docs and the tests.

Every route carries exactly one decision through its dependencies: `Public` (anyone; a token
may only personalise the answer), `CurrentUser` (any signed-in user), `StaffUser` (admin or
ops), `AdminUser`, or `SupplierUser` (a supplier's user, for that supplier's own orders).
`declare_access` reads the decision of every route when the app is built,
writes it into the OpenAPI document as `x-access`, and refuses to build an app with a route
that decides nothing — so a new route cannot ship without a decision, and the authorization
matrix test derives what to expect from the same place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute


class Access(StrEnum):
    PUBLIC = "public"
    USER = "user"
    STAFF = "staff"
    ADMIN = "admin"
    SUPPLIER = "supplier"


# From the least to the most restrictive: a route's decision is its most restrictive marker
# (AdminUser's check depends on CurrentUser, so both appear in its dependencies).
# SUPPLIER sits apart from STAFF and ADMIN (no route combines them); above USER, which its
# check depends on.
_RANK = {Access.PUBLIC: 0, Access.USER: 1, Access.STAFF: 2, Access.ADMIN: 3, Access.SUPPLIER: 2}
_MARKERS: dict[Callable[..., Any], Access] = {}


def mark(dependency: Callable[..., Any], access: Access) -> Callable[..., Any]:
    """Register a dependency as the declaration of `access` (deps.py marks its own)."""
    _MARKERS[dependency] = access
    return dependency


async def public() -> None:
    """A route open to anyone: a decision, not an omission. (`async`: nothing to wait for, so
    no hop to the thread pool that a plain `def` dependency costs.)"""


mark(public, Access.PUBLIC)
Public = Depends(public)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def access_of(route: APIRoute) -> Access | None:
    """The route's decision, or None when none of its dependencies declares one."""
    found = [_MARKERS[call] for call in _calls(route.dependant) if call in _MARKERS]
    return max(found, key=_RANK.__getitem__) if found else None


class UndecidedRoute(RuntimeError):
    """A route whose dependencies declare no access."""


def declare_access(routers: Iterable[APIRouter]) -> None:
    """Put each route's decision into its OpenAPI operation (`x-access`); refuse undecided ones."""
    undecided = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            access = access_of(route)
            if access is None:
                undecided.append(f"{'|'.join(sorted(route.methods or ()))} {route.path}")
                continue
            route.openapi_extra = {**(route.openapi_extra or {}), "x-access": access.value}
    if undecided:
        raise UndecidedRoute(
            "these routes declare no access (add Public, CurrentUser, StaffUser, AdminUser or "
            "SupplierUser): " + ", ".join(undecided)
        )
