"""Use cases of fulfilment, each inside a unit of work (`serving/unit_of_work.py`).

- The consumer of order events (`streaming.fulfilment_consumer`, through `intake.py`) calls
  `create_for_order` for each OrderConfirmed: one shipment per warehouse the order's units were
  sold from (`domain.plan_shipments`), ShipmentCreated each, the order FULFILLING — all in one
  transaction with the event's row in the inbox, so a redelivered event creates nothing.
  `close_for_order` cancels what had not left the warehouse when the order was cancelled or
  refunded.
- Ops: `picklist`, `pick`, `pack` (the carrier's tracking number and the label PDF), `ship`
  (handed to the carrier; the order SHIPPED, and its payment captured, once every shipment
  left), `track` (polls the carrier: scans move shipments; the order DELIVERED once every
  shipment arrived).
- Shoppers: `tracking_for_user`, live or archived.

Every use case that changes a shipment locks its order row first, then the shipment, so two
ops on one order (or the tracking poll) serialise and never deadlock.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from serving.errors import ApiError, not_found
from serving.fulfilment import domain, label
from serving.fulfilment.carrier import Carrier, CarrierError, ParcelRequest
from serving.fulfilment.domain import Parcel, Shipment, ShipmentStatus
from serving.fulfilment.sandbox_carrier import SandboxCarrier
from serving.fulfilment.schemas import (
    OrderTracking,
    PackRequest,
    Picklist,
    PickTotal,
    ScanPublic,
    ShipmentLinePublic,
    ShipmentPublic,
    TrackedShipment,
    TrackingRun,
)
from serving.fulfilment.store import Row, ShipmentStore, SqlShipmentStore
from serving.orders import service as orders
from serving.orders.domain import Order, OrderStatus
from serving.pagination import (
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    invalid_cursor,
)
from serving.unit_of_work import UnitOfWork
from shoplake.config import Settings

SOURCE = "/serving/fulfilment"
STORE = "fulfilment"
CARRIER = "fulfilment.carrier"
PICKLIST = "picklist"
log = logging.getLogger(__name__)

# An order in one of these will not be shipped: what has not left is cancelled.
CLOSED_ORDERS = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.PAYMENT_FAILED})


class FulfilmentError(StrEnum):
    ILLEGAL_SHIPMENT_TRANSITION = "ILLEGAL_SHIPMENT_TRANSITION"
    ORDER_CLOSED = "ORDER_CLOSED"
    NO_LABEL = "NO_LABEL"
    CARRIER_UNAVAILABLE = "CARRIER_UNAVAILABLE"


_CARRIERS: dict[tuple[str, ...], Carrier] = {}
_CARRIERS_LOCK = threading.Lock()


def carrier_for(settings: Settings) -> Carrier:
    """The process's adapter of the configured carrier (only the sandbox one exists today)."""
    if settings.fulfilment_carrier != "sandbox":
        raise ValueError(f"unknown carrier {settings.fulfilment_carrier!r}; known: sandbox")
    key = (
        str(settings.state_dir),
        str(settings.sandbox_carrier_scan_interval_s),
        settings.sandbox_carrier_tracking_url,
    )
    with _CARRIERS_LOCK:
        if key not in _CARRIERS:
            _CARRIERS[key] = SandboxCarrier(
                settings.state_dir,
                scan_interval_s=settings.sandbox_carrier_scan_interval_s,
                tracking_url=settings.sandbox_carrier_tracking_url,
            )
        return _CARRIERS[key]


def _store(uow: UnitOfWork) -> ShipmentStore:
    return uow.store(STORE, SqlShipmentStore.on)


def _carrier(uow: UnitOfWork) -> Carrier:
    return uow.store(CARRIER, lambda u: carrier_for(u.settings))


def labels_dir(settings: Settings) -> Path:
    return settings.state_dir / "labels"


def _shipment(row: Row) -> Shipment:
    return Shipment(
        id=row["id"],
        order_id=row["order_id"],
        warehouse_id=row["warehouse_id"],
        status=ShipmentStatus(row["status"]),
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        tracking_url=row["tracking_url"],
        attempts=int(row["attempts"]),
        last_scan_seq=int(row["last_scan_seq"]),
    )


def _save(uow: UnitOfWork, shipment: Shipment) -> None:
    if shipment.changes:
        _store(uow).update(shipment.id, shipment.changes)
    for event in shipment.events:
        uow.record(event, SOURCE)
    shipment.changes.clear()
    shipment.events.clear()


def _as_api_error(exc: domain.IllegalShipmentTransition) -> ApiError:
    return ApiError(409, FulfilmentError.ILLEGAL_SHIPMENT_TRANSITION, exc.message, exc.details)


# ---------------------------------------------------------------- the consumer's calls


def create_for_order(uow: UnitOfWork, event_id: str, order_id: str) -> list[str]:
    """Shipments for a confirmed order, once per event: the ids created (none for a
    redelivered event, an unknown order, or one that has its shipments or is past them)."""
    with uow:
        store = _store(uow)
        if not store.claim_event(event_id, "OrderConfirmed", order_id):
            return []
        snap = orders.snapshot(uow, order_id, lock=True)
        if snap is None:
            store.set_outcome(event_id, "unknown_order")
            uow.commit()
            return []
        status = snap.order.status
        if status not in (OrderStatus.CONFIRMED, OrderStatus.FULFILLING) or store.of_order(
            order_id
        ):
            store.set_outcome(event_id, f"nothing_to_do:{status.value}")
            uow.commit()
            return []
        created = []
        for planned in domain.plan_shipments(
            snap.lines, snap.allocations, uow.settings.fulfilment_default_warehouse
        ):
            shipment = Shipment(
                str(uuid.uuid4()), order_id, planned.warehouse_id, ShipmentStatus.CREATED
            )
            store.insert(
                {
                    "id": shipment.id,
                    "order_id": order_id,
                    "warehouse_id": planned.warehouse_id,
                    "status": ShipmentStatus.CREATED.value,
                    "ship_to": snap.shipping_address,
                    "source_event_id": event_id,
                },
                [
                    {"sku": line.sku, "name": line.name, "quantity": line.quantity}
                    for line in planned.lines
                ],
            )
            shipment.created(planned.lines)
            _save(uow, shipment)
            created.append(shipment.id)
        orders.start_fulfilment(uow, snap.order)
        store.set_outcome(event_id, f"created:{len(created)}")
        uow.commit()
    return created


def close_for_order(uow: UnitOfWork, event_id: str, order_id: str, reason: str) -> int:
    """The order was cancelled or refunded: cancel its shipments that had not left yet (once
    per event); the number cancelled."""
    with uow:
        store = _store(uow)
        if not store.claim_event(event_id, "OrderStatusChanged", order_id):
            return 0
        if orders.load(uow, order_id, lock=True) is None:
            store.set_outcome(event_id, "unknown_order")
            uow.commit()
            return 0
        cancelled = 0
        for row in store.of_order(order_id, lock=True):
            shipment = _shipment(row)
            if shipment.status in domain.IN_WAREHOUSE:
                shipment.cancel(reason)
                _save(uow, shipment)
                cancelled += 1
        store.set_outcome(event_id, f"cancelled:{cancelled}")
        uow.commit()
    return cancelled


# ---------------------------------------------------------------- reading


def _public(
    row: Row, lines: Sequence[Mapping[str, Any]], scans: Sequence[Mapping[str, Any]]
) -> ShipmentPublic:
    return ShipmentPublic(
        id=row["id"],
        order_id=row["order_id"],
        warehouse_id=row["warehouse_id"],
        status=ShipmentStatus(row["status"]),
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        tracking_url=row["tracking_url"],
        weight_g=row["weight_g"],
        length_mm=row["length_mm"],
        width_mm=row["width_mm"],
        height_mm=row["height_mm"],
        attempts=int(row["attempts"]),
        lines=[ShipmentLinePublic.model_validate(dict(line)) for line in lines],
        scans=[ScanPublic.model_validate(dict(scan)) for scan in scans],
        label_url=f"/v1/ops/shipments/{row['id']}/label.pdf" if row["label_path"] else None,
        created_at=row["created_at"],
        picked_at=row["picked_at"],
        packed_at=row["packed_at"],
        shipped_at=row["shipped_at"],
        delivered_at=row["delivered_at"],
        cancelled_at=row["cancelled_at"],
    )


def _publics(uow: UnitOfWork, rows: Sequence[Row]) -> list[ShipmentPublic]:
    store = _store(uow)
    ids = [row["id"] for row in rows]
    lines, scans = store.lines_of(ids), store.scans_of(ids)
    return [_public(row, lines[row["id"]], scans[row["id"]]) for row in rows]


def _shipment_public(uow: UnitOfWork, shipment_id: str) -> ShipmentPublic:
    row = _store(uow).get(shipment_id)
    if row is None:
        raise not_found("shipment", shipment_id)
    return _publics(uow, [row])[0]


def get(uow: UnitOfWork, shipment_id: str) -> ShipmentPublic:
    with uow:
        return _shipment_public(uow, shipment_id)


def picklist(uow: UnitOfWork, warehouse_id: str, *, limit: int, cursor: str | None) -> Picklist:
    """The warehouse's shipments waiting to be picked, oldest first, with units per SKU."""
    query = fingerprint({"warehouse_id": warehouse_id})
    after = None
    if cursor:
        try:
            after = _key(decode_cursor(cursor, PICKLIST, query))
        except InvalidCursor as exc:
            raise invalid_cursor(exc) from exc
    with uow:
        rows = _store(uow).waiting(warehouse_id, limit=limit + 1, after=after)
        items = _publics(uow, rows[:limit])
    totals: dict[str, PickTotal] = {}
    for item in items:
        for line in item.lines:
            known = totals.setdefault(line.sku, PickTotal(sku=line.sku, name=line.name, quantity=0))
            known.quantity += line.quantity
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(
            PICKLIST, query, {"at": last["created_at"].isoformat(), "id": str(last["id"])}
        )
    return Picklist(
        warehouse_id=warehouse_id,
        items=items,
        totals=sorted(totals.values(), key=lambda t: t.sku),
        next_cursor=next_cursor,
    )


def _key(key: dict[str, Any]) -> tuple[datetime, str]:
    at, shipment_id = key.get("at"), key.get("id")
    if not isinstance(at, str) or not isinstance(shipment_id, str) or not shipment_id:
        raise InvalidCursor("the cursor carries no shipment key")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as exc:
        raise InvalidCursor("the cursor's time is not valid") from exc
    if moment.tzinfo is None:
        raise InvalidCursor("the cursor's time has no timezone")
    return moment, shipment_id


# ---------------------------------------------------------------- ops


def _locked(uow: UnitOfWork, shipment_id: str) -> tuple[Order | None, Shipment, Row]:
    """The shipment's order, then the shipment, locked in that order."""
    store = _store(uow)
    row = store.get(shipment_id)
    if row is None:
        raise not_found("shipment", shipment_id)
    order = orders.load(uow, row["order_id"], lock=True)
    locked = store.get(shipment_id, lock=True)
    assert locked is not None
    return order, _shipment(locked), locked


def _order_closed(order: Order | None) -> bool:
    return order is None or order.status in CLOSED_ORDERS


def _closed_error(shipment_id: str, order: Order | None) -> ApiError:
    status = order.status.value if order is not None else None
    return ApiError(
        409,
        FulfilmentError.ORDER_CLOSED,
        "the order will not be shipped; the shipment was cancelled",
        details={"shipment_id": shipment_id, "order_status": status},
    )


def _step(uow: UnitOfWork, shipment_id: str, act: str, body: PackRequest | None) -> ShipmentPublic:
    closed: Order | None = None
    with uow:
        order, shipment, row = _locked(uow, shipment_id)
        if _order_closed(order):
            if shipment.status in domain.IN_WAREHOUSE:
                shipment.cancel(f"order {order.status.value if order else 'gone'}")
                _save(uow, shipment)
                uow.commit()
                closed = order
            else:
                raise _closed_error(shipment_id, order)
        else:
            assert order is not None
            try:
                if act == "pick":
                    shipment.pick()
                elif act == "pack":
                    assert body is not None
                    _pack(uow, shipment, row, body)
                else:
                    _ship(uow, order, shipment)
            except domain.IllegalShipmentTransition as exc:
                raise _as_api_error(exc) from exc
            _save(uow, shipment)
            if act == "ship":
                _follow_order(uow, order, shipment.order_id, ship=True)
            public = _shipment_public(uow, shipment_id)
            uow.commit()
            return public
    raise _closed_error(shipment_id, closed)


def pick(uow: UnitOfWork, shipment_id: str) -> ShipmentPublic:
    """The lines were taken off the shelves."""
    return _step(uow, shipment_id, "pick", None)


def pack(uow: UnitOfWork, shipment_id: str, body: PackRequest) -> ShipmentPublic:
    """Boxed: the carrier gives a tracking number, the label is printed to the state dir."""
    return _step(uow, shipment_id, "pack", body)


def ship(uow: UnitOfWork, shipment_id: str) -> ShipmentPublic:
    """Handed to the carrier; the order is SHIPPED (payment captured) once all its shipments
    left the warehouse."""
    return _step(uow, shipment_id, "ship", None)


def _carrier_call(what: str, call: Any) -> Any:
    try:
        return call()
    except CarrierError as exc:
        raise ApiError(
            503,
            FulfilmentError.CARRIER_UNAVAILABLE,
            f"the carrier did not {what}; nothing was changed, try again",
        ) from exc


def _pack(uow: UnitOfWork, shipment: Shipment, row: Row, body: PackRequest) -> None:
    if shipment.status is not ShipmentStatus.PICKED:  # before the carrier is asked anything
        raise domain.IllegalShipmentTransition(shipment.id, shipment.status, ShipmentStatus.PACKED)
    parcel = Parcel(body.weight_g, body.length_mm, body.width_mm, body.height_mm)
    carrier = _carrier(uow)
    request = ParcelRequest(
        shipment.id, shipment.order_id, shipment.warehouse_id, dict(row["ship_to"]), parcel
    )
    registration = _carrier_call("register the parcel", lambda: carrier.register(request))
    shipment.pack(
        parcel, registration.carrier, registration.tracking_number, registration.tracking_url
    )
    settings = uow.settings
    units = sum(int(line["quantity"]) for line in _store(uow).lines_of([shipment.id])[shipment.id])
    sender = settings.warehouse_addresses.get(shipment.warehouse_id) or [
        settings.fulfilment_sender_name,
        f"warehouse {shipment.warehouse_id}",
    ]
    pdf = label.render(
        label.LabelData(
            carrier=registration.carrier,
            tracking_number=registration.tracking_number,
            shipment_id=shipment.id,
            order_id=shipment.order_id,
            sender=sender,
            recipient=label.address_lines(dict(row["ship_to"])),
            weight_g=parcel.weight_g,
            units=units,
        ),
        settings.label_font_path,
    )
    path = label.store(labels_dir(settings), shipment.id, pdf)
    shipment.changes["label_path"] = str(path)


def _ship(uow: UnitOfWork, order: Order, shipment: Shipment) -> None:
    if shipment.status is not ShipmentStatus.PACKED:
        raise domain.IllegalShipmentTransition(shipment.id, shipment.status, ShipmentStatus.SHIPPED)
    assert shipment.tracking_number is not None
    tracking_number = shipment.tracking_number
    carrier = _carrier(uow)
    _carrier_call("take the parcel over", lambda: carrier.hand_over(tracking_number))
    shipment.ship()


def _follow_order(uow: UnitOfWork, order: Order, order_id: str, *, ship: bool) -> bool:
    """Move the (locked) order as its shipments say; whether it moved."""
    statuses = [ShipmentStatus(row["status"]) for row in _store(uow).of_order(order_id)]
    verdict = domain.order_status_after(statuses)
    if verdict == "shipped" and ship:
        return orders.mark_shipped(uow, order, None)
    if verdict == "delivered":
        if order.status in (OrderStatus.CONFIRMED, OrderStatus.FULFILLING):
            orders.mark_shipped(uow, order, None)
        return orders.mark_delivered(uow, order)
    return False


def label_file(uow: UnitOfWork, shipment_id: str) -> Path:
    """The shipment's label PDF (404 before it is packed, or if the file went missing)."""
    with uow:
        row = _store(uow).get(shipment_id)
    if row is None:
        raise not_found("shipment", shipment_id)
    path = Path(row["label_path"]) if row["label_path"] else None
    if path is None or not path.is_file():
        raise ApiError(
            404,
            FulfilmentError.NO_LABEL,
            f"shipment '{shipment_id}' has no label yet: pack it first",
            details={"status": row["status"]},
        )
    return path


# ---------------------------------------------------------------- carrier tracking


def track(uow: UnitOfWork) -> TrackingRun:
    """Ask the carrier about every shipment it has: new scans are recorded and move the
    shipment; an order whose shipments all arrived is DELIVERED. One transaction per
    shipment (its order locked first); a carrier that does not answer is skipped."""
    counts: dict[str, int] = defaultdict(int)
    carrier = None
    after: str | None = None
    while True:
        with uow:
            rows = _store(uow).with_carrier(limit=uow.settings.carrier_poll_batch, after_id=after)
            carrier = carrier or _carrier(uow)
        if not rows:
            break
        after = rows[-1]["id"]
        for row in rows:
            counts["checked"] += 1
            try:
                scans = carrier.scans(row["tracking_number"])
            except CarrierError as exc:
                log.warning("carrier did not answer for %s: %s", row["tracking_number"], exc)
                counts["unreachable"] += 1
                continue
            if any(scan.seq > int(row["last_scan_seq"]) for scan in scans):
                _apply_scans(uow, row["id"], scans, counts)
    return TrackingRun(
        checked=counts["checked"],
        scans=counts["scans"],
        delivered=counts["delivered"],
        orders_delivered=counts["orders_delivered"],
        unreachable=counts["unreachable"],
    )


def _apply_scans(
    uow: UnitOfWork, shipment_id: str, scans: Sequence[domain.Scan], counts: dict[str, int]
) -> None:
    with uow:
        order, shipment, _row = _locked(uow, shipment_id)
        new = [scan for scan in scans if scan.seq > shipment.last_scan_seq]
        _store(uow).add_scans(shipment_id, new)
        for scan in sorted(new, key=lambda s: s.seq):
            before = shipment.status
            shipment.apply_scan(scan)
            if shipment.status is ShipmentStatus.DELIVERED and before is not shipment.status:
                counts["delivered"] += 1
        counts["scans"] += len(new)
        _save(uow, shipment)
        if order is not None and _follow_order(uow, order, shipment.order_id, ship=False):
            counts["orders_delivered"] += order.status is OrderStatus.DELIVERED
        uow.commit()


# ---------------------------------------------------------------- shoppers


def _tracked(public: ShipmentPublic) -> TrackedShipment:
    return TrackedShipment(
        id=public.id,
        status=public.status,
        carrier=public.carrier,
        tracking_number=public.tracking_number,
        tracking_url=public.tracking_url,
        lines=public.lines,
        scans=public.scans,
        shipped_at=public.shipped_at,
        delivered_at=public.delivered_at,
    )


def tracking_for_user(uow: UnitOfWork, user_id: str, order_id: str) -> OrderTracking:
    """Every shipment of the caller's order with its scans (another's order: 404)."""
    with uow:
        if orders.owner_of(uow, order_id) != user_id:
            raise not_found("order", order_id)
        order = orders.load(uow, order_id, lock=False)
        if order is not None:
            rows = _store(uow).of_order(order_id)
            shipments = [_tracked(p) for p in _publics(uow, rows)]
            return OrderTracking(order_id=order_id, status=order.status, shipments=shipments)
        found = orders.archived(uow, order_id)
        assert found is not None
    lines = defaultdict(list)
    for line in found.of("shipment_lines"):
        lines[line["shipment_id"]].append(line)
    scans = defaultdict(list)
    for scan in sorted(found.of("shipment_scans"), key=lambda s: s["seq"]):
        scans[scan["shipment_id"]].append(scan)
    archived = [
        _tracked(_public(row, sorted(lines[row["id"]], key=lambda x: x["sku"]), scans[row["id"]]))
        for row in sorted(found.of("shipments"), key=lambda r: r["warehouse_id"])
    ]
    return OrderTracking(
        order_id=order_id,
        status=OrderStatus(found.order["status"]),
        archived=True,
        shipments=archived,
    )
