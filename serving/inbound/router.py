"""HTTP routes of inbound: suppliers (admin), purchase orders (staff), and the supplier's own
view of its orders (the `supplier` role). HTTP only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from serving.deps import (
    AdminUser,
    ConnDep,
    StaffUser,
    SupplierUser,
    UnitOfWorkDep,
    WriteRateLimit,
)
from serving.inbound import service
from serving.inbound.domain import PoStatus
from serving.inbound.schemas import (
    Acknowledgement,
    PurchaseOrderCreate,
    PurchaseOrderPublic,
    PurchaseOrdersPage,
    ReceiptCreate,
    ReceiptResult,
    ShipNoticeCreate,
    ShipNoticePublic,
    SupplierCreate,
    SupplierPublic,
    SuppliersPage,
    SupplierUpdate,
    SupplierUserCreate,
    SupplierUserPublic,
)

suppliers_router = APIRouter(prefix="/v1/admin/suppliers", tags=["inbound"])
orders_router = APIRouter(prefix="/v1/admin/purchase-orders", tags=["inbound"])
supplier_router = APIRouter(prefix="/v1/supplier/purchase-orders", tags=["inbound: suppliers"])

Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
]


# ---------------------------------------------------------------- suppliers (admin)


@suppliers_router.post("", status_code=status.HTTP_201_CREATED, dependencies=[WriteRateLimit])
def create_supplier(body: SupplierCreate, _admin: AdminUser, uow: UnitOfWorkDep) -> SupplierPublic:
    return service.create_supplier(uow, body)


@suppliers_router.get("")
def list_suppliers(
    _admin: AdminUser, uow: UnitOfWorkDep, limit: Limit = 50, cursor: Cursor = None
) -> SuppliersPage:
    """By code."""
    return service.list_suppliers(uow, limit=limit, cursor=cursor)


@suppliers_router.get("/{supplier_id}")
def get_supplier(supplier_id: uuid.UUID, _admin: AdminUser, uow: UnitOfWorkDep) -> SupplierPublic:
    return service.get_supplier(uow, str(supplier_id))


@suppliers_router.patch("/{supplier_id}", dependencies=[WriteRateLimit])
def update_supplier(
    supplier_id: uuid.UUID, body: SupplierUpdate, _admin: AdminUser, uow: UnitOfWorkDep
) -> SupplierPublic:
    return service.update_supplier(uow, str(supplier_id), body)


@suppliers_router.delete(
    "/{supplier_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[WriteRateLimit]
)
def deactivate_supplier(supplier_id: uuid.UUID, _admin: AdminUser, uow: UnitOfWorkDep) -> None:
    """Deactivate: the supplier and its orders stay (history), no new order can name it."""
    service.deactivate_supplier(uow, str(supplier_id))


@suppliers_router.post(
    "/{supplier_id}/users", status_code=status.HTTP_201_CREATED, dependencies=[WriteRateLimit]
)
def add_supplier_user(
    supplier_id: uuid.UUID, body: SupplierUserCreate, _admin: AdminUser, conn: ConnDep
) -> SupplierUserPublic:
    """A new account of the supplier role that sees and answers this supplier's orders."""
    return service.add_supplier_user(conn, str(supplier_id), body)


@suppliers_router.get("/{supplier_id}/users")
def list_supplier_users(
    supplier_id: uuid.UUID, _admin: AdminUser, conn: ConnDep
) -> list[SupplierUserPublic]:
    return service.supplier_users(conn, str(supplier_id))


# ---------------------------------------------------------------- purchase orders (staff)


@orders_router.post("", status_code=status.HTTP_201_CREATED, dependencies=[WriteRateLimit])
def create_order(
    body: PurchaseOrderCreate, staff: StaffUser, uow: UnitOfWorkDep
) -> PurchaseOrderPublic:
    """A draft order; the supplier sees it once submitted."""
    return service.create_order(uow, body, actor_id=staff.user_id)


@orders_router.get("")
def list_orders(
    _staff: StaffUser,
    uow: UnitOfWorkDep,
    supplier_id: uuid.UUID | None = None,
    status: PoStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PurchaseOrdersPage:
    """Newest first."""
    return service.list_orders(
        uow,
        supplier_id=str(supplier_id) if supplier_id else None,
        status=status,
        limit=limit,
        cursor=cursor,
    )


@orders_router.get("/{po_id}")
def get_order(po_id: uuid.UUID, _staff: StaffUser, uow: UnitOfWorkDep) -> PurchaseOrderPublic:
    """With its lines, receipts and the supplier's ship notices."""
    return service.get_order(uow, str(po_id))


@orders_router.post("/{po_id}/submit", dependencies=[WriteRateLimit])
def submit_order(po_id: uuid.UUID, _staff: StaffUser, uow: UnitOfWorkDep) -> PurchaseOrderPublic:
    return service.submit(uow, str(po_id))


@orders_router.post(
    "/{po_id}/receipts",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
    responses={200: {"description": "this delivery note was booked before; nothing changed"}},
)
def receive(
    po_id: uuid.UUID,
    body: ReceiptCreate,
    staff: StaffUser,
    uow: UnitOfWorkDep,
    response: Response,
) -> ReceiptResult:
    """Book a delivery into a warehouse: every line is a stock receipt in the ledger."""
    result, booked = service.receive(uow, str(po_id), body, actor_id=staff.user_id)
    if not booked:
        response.status_code = status.HTTP_200_OK
    return result


@orders_router.post("/{po_id}/close", dependencies=[WriteRateLimit])
def close_order(po_id: uuid.UUID, _staff: StaffUser, uow: UnitOfWorkDep) -> PurchaseOrderPublic:
    """No more units will come; what is missing is short."""
    return service.close(uow, str(po_id))


# ---------------------------------------------------------------- the supplier's own orders


@supplier_router.get("")
def list_my_orders(
    user: SupplierUser,
    uow: UnitOfWorkDep,
    status: PoStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PurchaseOrdersPage:
    """This supplier's submitted orders, newest first."""
    return service.supplier_orders(uow, user.user_id, status=status, limit=limit, cursor=cursor)


@supplier_router.get("/{po_id}")
def get_my_order(po_id: uuid.UUID, user: SupplierUser, uow: UnitOfWorkDep) -> PurchaseOrderPublic:
    """Another supplier's order is a 404."""
    return service.supplier_order(uow, user.user_id, str(po_id))


@supplier_router.post("/{po_id}/acknowledge", dependencies=[WriteRateLimit])
def acknowledge(
    po_id: uuid.UUID,
    user: SupplierUser,
    uow: UnitOfWorkDep,
    body: Acknowledgement | None = None,
) -> PurchaseOrderPublic:
    return service.acknowledge(uow, user.user_id, str(po_id), body or Acknowledgement())


@supplier_router.post(
    "/{po_id}/ship-notices",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
    responses={200: {"description": "this shipment number was sent before; nothing changed"}},
)
def send_ship_notice(
    po_id: uuid.UUID,
    body: ShipNoticeCreate,
    user: SupplierUser,
    uow: UnitOfWorkDep,
    response: Response,
) -> ShipNoticePublic:
    """Announce a shipment of the order's units and when it arrives."""
    notice, created = service.send_ship_notice(uow, user.user_id, str(po_id), body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return notice
