"""Orders: a customer's own, and the ops routes. HTTP only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from serving.deps import AdminUser, CurrentUser, StaffUser, UnitOfWorkDep, WriteRateLimit
from serving.orders import service
from serving.orders.domain import OrderStatus
from serving.orders.schemas import CancelRequest, OrderPublic, OrdersPage, StatusAdvance

router = APIRouter(prefix="/v1", tags=["orders"])
admin_router = APIRouter(prefix="/v1/admin", tags=["orders admin"])

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
]


@router.get("/orders")
def list_my_orders(
    uow: UnitOfWorkDep, user: CurrentUser, limit: Limit = 20, cursor: Cursor = None
) -> OrdersPage:
    """The caller's orders, newest first, archived ones included (`archived: true`); pass
    `next_cursor` back as `cursor` for more."""
    return service.list_orders(
        uow, user_id=user.user_id, status=None, limit=limit, cursor=cursor, include_archive=True
    )


@router.get("/orders/{order_id}")
def get_my_order(uow: UnitOfWorkDep, user: CurrentUser, order_id: OrderId) -> OrderPublic:
    """The order with its status history and payment (another customer's order is a 404)."""
    return service.get_for_user(uow, user.user_id, order_id)


@router.post("/orders/{order_id}/cancel", dependencies=[WriteRateLimit])
def cancel_my_order(
    uow: UnitOfWorkDep,
    user: CurrentUser,
    order_id: OrderId,
    body: CancelRequest | None = None,
) -> OrderPublic:
    """Before shipping: the payment is voided (or refunded), the stock goes back."""
    reason = body.reason if body is not None else None
    return service.cancel_for_user(uow, user.user_id, order_id, reason)


@admin_router.get("/orders")
def list_orders(
    uow: UnitOfWorkDep,
    staff: StaffUser,
    status: OrderStatus | None = None,
    user_id: Annotated[uuid.UUID | None, Query(description="one customer's orders")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> OrdersPage:
    return service.list_orders(
        uow,
        user_id=str(user_id) if user_id is not None else None,
        status=status,
        limit=limit,
        cursor=cursor,
    )


@admin_router.get("/orders/{order_id}")
def look_up_order(uow: UnitOfWorkDep, _admin: AdminUser, order_id: OrderId) -> OrderPublic:
    """Any order by id, live or archived, with its history and payment (audits)."""
    return service.lookup(uow, order_id)


@admin_router.post("/orders/{order_id}/refund", dependencies=[WriteRateLimit])
def refund_order(
    uow: UnitOfWorkDep,
    staff: StaffUser,
    order_id: OrderId,
    body: CancelRequest | None = None,
) -> OrderPublic:
    reason = body.reason if body is not None else None
    return service.refund(uow, order_id, reason, staff.user_id)


@admin_router.post("/orders/{order_id}/status", dependencies=[WriteRateLimit])
def advance_order(
    uow: UnitOfWorkDep, staff: StaffUser, order_id: OrderId, body: StatusAdvance
) -> OrderPublic:
    """FULFILLING, SHIPPED (captures the payment) or DELIVERED, in that order."""
    return service.advance(uow, order_id, body.status, body.reason, staff.user_id)
