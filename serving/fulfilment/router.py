"""HTTP routes of fulfilment: warehouse tasks for ops, and tracking for shoppers. HTTP only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from serving.deps import CurrentUser, StaffUser, UnitOfWorkDep, WriteRateLimit
from serving.fulfilment import service
from serving.fulfilment.schemas import (
    OrderTracking,
    PackRequest,
    Picklist,
    ShipmentPublic,
    TrackingRun,
)
from serving.inventory.schemas import WAREHOUSE_PATTERN

router = APIRouter(prefix="/v1", tags=["fulfilment"])
ops_router = APIRouter(prefix="/v1/ops", tags=["fulfilment ops"])

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f-]+$")]
WarehouseId = Annotated[str, Path(pattern=WAREHOUSE_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[
    str | None, Query(max_length=1024, description="`next_cursor` of the previous page")
]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the label, 4 by 6 inches"}
}


@router.get("/orders/{order_id}/tracking")
def track_my_order(uow: UnitOfWorkDep, user: CurrentUser, order_id: Id) -> OrderTracking:
    """Every shipment of the caller's order with the carrier's scans (archived orders too)."""
    return service.tracking_for_user(uow, user.user_id, order_id)


@ops_router.get("/warehouses/{warehouse_id}/picklist")
def picklist(
    uow: UnitOfWorkDep,
    _staff: StaffUser,
    warehouse_id: WarehouseId,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Picklist:
    """Shipments waiting to be picked in the warehouse, oldest first, and units per SKU."""
    return service.picklist(uow, warehouse_id, limit=limit, cursor=cursor)


@ops_router.get("/shipments/{shipment_id}")
def get_shipment(uow: UnitOfWorkDep, _staff: StaffUser, shipment_id: Id) -> ShipmentPublic:
    return service.get(uow, shipment_id)


@ops_router.post("/shipments/{shipment_id}/pick", dependencies=[WriteRateLimit])
def pick(uow: UnitOfWorkDep, _staff: StaffUser, shipment_id: Id) -> ShipmentPublic:
    """CREATED → PICKED: the lines are off the shelves."""
    return service.pick(uow, shipment_id)


@ops_router.post("/shipments/{shipment_id}/pack", dependencies=[WriteRateLimit])
def pack(
    uow: UnitOfWorkDep, _staff: StaffUser, shipment_id: Id, body: PackRequest
) -> ShipmentPublic:
    """PICKED → PACKED: the parcel's weight and size; the carrier's tracking number and the
    label PDF (`label_url`)."""
    return service.pack(uow, shipment_id, body)


@ops_router.get("/shipments/{shipment_id}/label.pdf", response_class=FileResponse, responses=PDF)
def shipping_label(uow: UnitOfWorkDep, _staff: StaffUser, shipment_id: Id) -> FileResponse:
    """The shipping label of a packed shipment."""
    path = service.label_file(uow, shipment_id)
    return FileResponse(path, media_type="application/pdf", filename=f"label-{shipment_id}.pdf")


@ops_router.post("/shipments/{shipment_id}/ship", dependencies=[WriteRateLimit])
def ship(uow: UnitOfWorkDep, _staff: StaffUser, shipment_id: Id) -> ShipmentPublic:
    """PACKED → SHIPPED: handed to the carrier. The order is SHIPPED, and its payment
    captured, when the last of its shipments leaves."""
    return service.ship(uow, shipment_id)


@ops_router.post("/carriers/track", dependencies=[WriteRateLimit])
def track(uow: UnitOfWorkDep, _staff: StaffUser) -> TrackingRun:
    """Poll the carrier now for every shipment it has (`shoplake fulfilment track` does the
    same on a schedule)."""
    return service.track(uow)
