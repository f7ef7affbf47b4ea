"""HTTP routes of inventory: public availability, and stock operations for admin and ops."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from serving.access import Public
from serving.catalog.schemas import SKU_PATTERN
from serving.deps import StaffUser, UnitOfWorkDep, WriteRateLimit
from serving.inventory import service
from serving.inventory.schemas import (
    WAREHOUSE_PATTERN,
    MovementsPage,
    StockAdjustment,
    StockAvailability,
    StockLevelPublic,
    StockReceipt,
    StockSet,
)

router = APIRouter(prefix="/v1/inventory", tags=["inventory"], dependencies=[Public])
admin_router = APIRouter(prefix="/v1/admin/inventory", tags=["inventory"])

SkuPath = Annotated[str, Path(pattern=SKU_PATTERN)]
WarehousePath = Annotated[str, Path(pattern=WAREHOUSE_PATTERN)]


@router.get("/{sku}")
def get_availability(sku: SkuPath, uow: UnitOfWorkDep) -> StockAvailability:
    """Units that can be bought now, per warehouse and in total."""
    return service.availability(uow, sku)


@admin_router.put("/{sku}/{warehouse_id}", dependencies=[WriteRateLimit])
def set_stock(
    sku: SkuPath,
    warehouse_id: WarehousePath,
    body: StockSet,
    user: StaffUser,
    uow: UnitOfWorkDep,
) -> StockLevelPublic:
    """Set on hand after a count; recorded as an adjustment by the difference."""
    return service.count_stock(
        uow, sku, warehouse_id, body.on_hand, note=body.note, actor_id=user.user_id
    )


@admin_router.post(
    "/{sku}/{warehouse_id}/adjustments",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
)
def adjust_stock(
    sku: SkuPath,
    warehouse_id: WarehousePath,
    body: StockAdjustment,
    user: StaffUser,
    uow: UnitOfWorkDep,
) -> StockLevelPublic:
    """Add or remove units (damage, loss, found stock) with a reason."""
    return service.adjust_stock(
        uow, sku, warehouse_id, body.delta, body.reason, actor_id=user.user_id
    )


@admin_router.post(
    "/{sku}/{warehouse_id}/receipts",
    status_code=status.HTTP_201_CREATED,
    dependencies=[WriteRateLimit],
)
def receive_stock(
    sku: SkuPath,
    warehouse_id: WarehousePath,
    body: StockReceipt,
    user: StaffUser,
    uow: UnitOfWorkDep,
) -> StockLevelPublic:
    """Units arrived from a supplier."""
    return service.receive_stock(
        uow, sku, warehouse_id, body.quantity, body.reference, actor_id=user.user_id
    )


@admin_router.get("/{sku}/movements")
def list_movements(
    sku: SkuPath,
    _user: StaffUser,
    uow: UnitOfWorkDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
    ] = None,
) -> MovementsPage:
    """The SKU's movements over all warehouses, newest first."""
    return service.movements(uow, sku, limit=limit, cursor=cursor)
