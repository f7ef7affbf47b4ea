"""HTTP routes of returns: shoppers ask, ops receive and refund. HTTP only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from serving.deps import CurrentUser, StaffUser, UnitOfWorkDep, WriteRateLimit
from serving.returns import service
from serving.returns.domain import ReturnStatus
from serving.returns.schemas import ReceiveRequest, ReturnPublic, ReturnRequest, ReturnsPage

router = APIRouter(prefix="/v1", tags=["returns"])
ops_router = APIRouter(prefix="/v1/ops", tags=["returns ops"])

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
]


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
)
def request_return(
    uow: UnitOfWorkDep, user: CurrentUser, order_id: Id, body: ReturnRequest
) -> ReturnPublic:
    """Return units of a delivered order within the return window, with a reason."""
    return service.request_return(uow, user.user_id, order_id, body)


@router.get("/orders/{order_id}/returns")
def list_my_returns(uow: UnitOfWorkDep, user: CurrentUser, order_id: Id) -> list[ReturnPublic]:
    """The returns of the caller's order, oldest first."""
    return service.list_for_user(uow, user.user_id, order_id)


@ops_router.get("/returns")
def list_returns(
    uow: UnitOfWorkDep,
    _staff: StaffUser,
    status: ReturnStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReturnsPage:
    """Returns oldest first, by status (REQUESTED: to receive; RECEIVED: to refund)."""
    return service.listing(uow, status=status, limit=limit, cursor=cursor)


@ops_router.get("/returns/{return_id}")
def get_return(uow: UnitOfWorkDep, _staff: StaffUser, return_id: Id) -> ReturnPublic:
    return service.get(uow, return_id)


@ops_router.post("/returns/{return_id}/receive", dependencies=[WriteRateLimit])
def receive_return(
    uow: UnitOfWorkDep, staff: StaffUser, return_id: Id, body: ReceiveRequest | None = None
) -> ReturnPublic:
    """REQUESTED → RECEIVED: each line restocked (default: where it shipped from) or written
    off as damaged, as ledger movements. The order is RETURNED when all of it came back."""
    return service.receive(uow, return_id, body or ReceiveRequest(), staff.user_id)


@ops_router.post("/returns/{return_id}/refund", dependencies=[WriteRateLimit])
def refund_return(uow: UnitOfWorkDep, staff: StaffUser, return_id: Id) -> ReturnPublic:
    """RECEIVED → REFUNDED: the return's share of the payment goes back, once (the same call
    again answers the same refund)."""
    return service.refund(uow, return_id, staff.user_id)
